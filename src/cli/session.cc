#include "cli/session.h"

#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "base/user_name.h"
#include "config/node_access.h"

namespace ailee::cli {

Session::Session(ConfigLoader load_config, AuditLogOpener open_audit_log)
    : load_config_(load_config ? std::move(load_config)
                               : ConfigLoader([](const std::string& path) { return config::LoadConfig(path); })),
      open_audit_log_(open_audit_log ? std::move(open_audit_log) : AuditLogOpener(OpenAuditLogAt)),
      started_ms_(Clock::Real().NowMillis()) {}

const Result<config::NodeConfig>& Session::config() {
  if (!config_) config_.emplace(load_config_(global_.config_path));
  return *config_;
}

const config::NodeConfig* Session::config_if_loaded() {
  const auto& cfg = config();
  return cfg.ok() ? &*cfg : nullptr;
}

Result<const config::NodeConfig*> Session::RequireConfig() {
  const auto& cfg = config();
  if (!cfg.ok()) return cfg.status().WithContext("config " + global_.config_path);
  return &*cfg;
}

Result<audit::AuditLog*> Session::audit_log(const std::string& option) {
  // A config this user may not read (ailee-cli run as another user than the
  // node's) is the error to show, not the default audit log path's.
  if (option.empty() && global_.audit_log.empty() && config().status().code() == StatusCode::kPermissionDenied) {
    return config().status();
  }
  if (!audit_log_) audit_log_.emplace(open_audit_log_(AuditLogPath(global_, config_if_loaded(), option)));
  if (!audit_log_->ok()) return audit_log_->status();
  return audit_log_->value().get();
}

std::optional<state::Federation> Session::FederationIfConfigured(std::string* why_not) {
  const auto& cfg = config();
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

void Session::AddMetrics(std::vector<ops::metrics::Sample> samples) {
  metrics_.insert(metrics_.end(), std::make_move_iterator(samples.begin()), std::make_move_iterator(samples.end()));
}

std::string AuditLogPath(const GlobalOptions& g, const config::NodeConfig* cfg, const std::string& option) {
  if (!option.empty()) return option;
  if (!g.audit_log.empty()) return g.audit_log;
  if (cfg != nullptr && !cfg->logging.audit_log.empty()) return cfg->logging.audit_log;
  return std::string(config::kDefaultAuditLog);
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogAt(const std::string& path) {
  auto log = audit::AuditLog::Open(path);
  if (log.status().code() == StatusCode::kPermissionDenied && HintOf(log.status()).empty()) {
    // Another user than the one the node and the jobs run as, who owns the log.
    // The log, else (its directory not searchable) the directory, names him.
    std::string owned = path, owner = OwnerName(path);
    if (owner.empty()) owner = OwnerName(owned = fs::Dirname(path));
    if (!owner.empty() && owner != UserName(::geteuid())) {
      return WithHint(log.status().WithContext("opening the audit log " + path + " (" + owned + " owned by " + owner +
                                               ")"),
                      "run ailee-cli as the user the node and the jobs run as: sudo -u " + owner +
                          " ailee-cli ... (docs/operations.md, \"Permission model\")");
    }
    return WithHint(log.status().WithContext("opening the audit log " + path),
                    "the user running ailee-cli (" + UserName(::geteuid()) + ") must be able to append to it and to "
                    "write " + fs::Dirname(path));
  }
  if (!log.ok()) {
    return log.status().WithContext("opening the audit log " + path +
                                    " (--audit-log, else the config's logging.audit_log, else " +
                                    std::string(config::kDefaultAuditLog) + "); operations are not run unaudited");
  }
  return log;
}

std::string NodeUrlFor(Session& s, const std::string& url) {
  if (!url.empty()) return url;
  const config::NodeConfig* cfg = s.config_if_loaded();
  return cfg ? config::NodeUrl(*cfg) : "http://127.0.0.1:8545";
}

Result<state::Federation> FederationOf(const config::NodeConfig& cfg) {
  ASSIGN_OR_RETURN(auto keys, config::FederationKeys(cfg));
  return state::Federation{std::move(keys), static_cast<int>(cfg.federation.threshold)};
}

}  // namespace ailee::cli
