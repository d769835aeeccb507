#include "cli/context.h"

#include <unistd.h>

#include <cstdio>

#include "base/clock.h"
#include "base/fs.h"

namespace ailee::cli {

Result<config::NodeConfig> LoadConfigFor(const GlobalOptions& g) {
  auto cfg = config::LoadConfig(g.config_path);
  if (!cfg.ok()) return cfg.status().WithContext("config " + g.config_path);
  return cfg;
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const GlobalOptions& g, const config::NodeConfig* cfg,
                                                      const std::string& option) {
  std::string path = option;
  if (path.empty()) path = g.audit_log;
  if (path.empty() && cfg != nullptr) path = cfg->logging.audit_log;
  if (path.empty()) path = std::string(config::kDefaultAuditLog);
  auto log = audit::AuditLog::Open(path);
  if (!log.ok()) {
    return log.status().WithContext("opening the audit log " + path +
                                    " (--audit-log, else the config's logging.audit_log, else " +
                                    std::string(config::kDefaultAuditLog) + "); operations are not run unaudited");
  }
  return log;
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogFor(const GlobalOptions& g) {
  auto cfg = config::LoadConfig(g.config_path);
  return OpenAuditLog(g, cfg.ok() ? &*cfg : nullptr);
}

std::string NodeUrl(const config::NodeConfig& cfg) {
  const auto& host = cfg.node.listen_host;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(cfg.node.listen_port);
}

Result<std::string> ReadAdminToken(const config::NodeConfig& cfg) {
  auto token = fs::ReadFile(cfg.node.admin_token_file);
  if (!token.ok()) return token.status().WithContext("reading the node's admin token (node.admin_token_file)");
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

Result<state::Federation> FederationOf(const config::NodeConfig& cfg) {
  ASSIGN_OR_RETURN(auto keys, config::FederationKeys(cfg));
  return state::Federation{std::move(keys), static_cast<int>(cfg.federation.threshold)};
}

std::optional<state::Federation> FederationIfConfigured(const GlobalOptions& g, std::string* why_not) {
  auto cfg = config::LoadConfig(g.config_path);
  if (!cfg.ok()) {
    if (why_not) *why_not = cfg.status().message();
    return std::nullopt;
  }
  auto fed = FederationOf(*cfg);
  if (!fed.ok()) {
    if (why_not) *why_not = fed.status().message();
    return std::nullopt;
  }
  return std::move(fed).value();
}

std::string HumanSeconds(int64_t millis) {
  char buf[48];
  if (millis < 10000) std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(millis) / 1000);
  else if (millis < 120000) std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(millis) / 1000);
  else std::snprintf(buf, sizeof buf, "%lld min %02lld s", static_cast<long long>(millis / 60000),
                     static_cast<long long>((millis / 1000) % 60));
  return buf;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

ProgressLine::ProgressLine(const GlobalOptions& g, std::string label)
    : enabled_(!g.json && !g.quiet && ::isatty(STDERR_FILENO)), label_(std::move(label)),
      start_ns_(Clock::Real().MonotonicNanos()) {}

ProgressLine::~ProgressLine() { Done(); }

void ProgressLine::Update(const std::string& phase, uint64_t done, uint64_t total) {
  if (!enabled_) return;
  int64_t now = Clock::Real().MonotonicNanos();
  if (now - last_ns_ < 200'000'000) return;  // at most 5 updates per second
  last_ns_ = now;
  double secs = static_cast<double>(now - start_ns_) / 1e9;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line = label_ + " " + phase + ": " + HumanBytes(done);
  if (total > 0) {
    line += " / " + HumanBytes(total);
    if (rate > 0 && total > done) {
      line += ", ETA " + std::to_string(static_cast<int>(static_cast<double>(total - done) / rate)) + " s";
    }
  }
  line += ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  printed_ = true;
}

void ProgressLine::Done() {
  if (enabled_ && printed_) std::fprintf(stderr, "\r\033[K");
  printed_ = false;
}

}  // namespace ailee::cli
