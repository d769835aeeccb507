#include "ops/metrics/textfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>

#include "base/fs.h"

namespace ailee::ops::metrics {
namespace {

constexpr std::string_view kLastAttempt = "ailee_job_last_attempt_timestamp_seconds";
constexpr std::string_view kLastSuccess = "ailee_job_last_success_timestamp_seconds";
constexpr std::string_view kAgeSuffix = "_age_seconds";
constexpr size_t kMaxPreviousBytes = 1 << 20;

std::string Sanitized(const std::string& s) {
  std::string out = s.empty() ? "unknown" : s;
  for (char& c : out) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return out;
}

// Label values may hold anything; the format escapes \, " and newlines.
std::string Escaped(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// The job's label is `ailee_job`, not `job`: Prometheus owns `job` (the
// scrape job) and renames a target's own `job` to `exported_job`, so rules
// written against the file would silently match nothing (docs/metrics.md).
constexpr std::string_view kJobLabel = "ailee_job";
// What files written before the rename call it; read back under the new name
// so an upgrade keeps the last success and the ages.
constexpr std::string_view kOldJobLabel = "job";

std::string JobAndNodeLabels(const JobReport& r) {
  return std::string(kJobLabel) + "=\"" + Escaped(r.job) + "\",node=\"" + Escaped(r.node) + "\"";
}

std::string SeriesKey(const JobReport& r, const Sample& s) {
  std::string key = s.name + "{" + JobAndNodeLabels(r);
  for (const auto& [k, v] : s.labels) key += "," + k + "=\"" + Escaped(v) + "\"";
  return key + "}";
}

// The shortest text that reads back as the same double.
std::string Number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The metric name of a series key "name{...}".
std::string NameOf(const std::string& key) { return key.substr(0, key.find('{')); }

// Did the previous file belong to this job and node? Its keys name them.
bool SameJobAndNode(const std::string& key, const JobReport& r) {
  return key.find("{" + JobAndNodeLabels(r)) != std::string::npos;
}

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

// Is `key` a series exactly as SeriesKey writes one: name{label="value",...}
// with distinct label names, escaped values and nothing after the brace?
// Anything else in the previous file (a hand edit, another tool) would be
// copied into every later file, and node_exporter drops a file it cannot
// parse, so the job's metrics would vanish for good.
bool IsOurSeriesKey(std::string_view key) {
  size_t i = 0;
  while (i < key.size() && IsNameChar(key[i], i == 0)) ++i;
  if (i == 0 || i >= key.size() || key[i] != '{') return false;
  std::set<std::string_view> names;
  for (++i;;) {
    const size_t start = i;
    while (i < key.size() && IsNameChar(key[i], i == start)) ++i;
    if (i == start || !names.insert(key.substr(start, i - start)).second) return false;
    if (key.substr(i, 2) != "=\"") return false;
    for (i += 2; i < key.size() && key[i] != '"'; ++i) {
      if (key[i] == '\\' && (++i >= key.size() || (key[i] != '\\' && key[i] != '"' && key[i] != 'n'))) return false;
    }
    if (++i >= key.size()) return false;  // the closing quote was missing, or nothing follows it
    if (key[i] == '}') return i + 1 == key.size();
    if (key[i++] != ',') return false;
  }
}

}  // namespace

const std::vector<MetricInfo>& AllMetrics() {
  static const std::vector<MetricInfo> kMetrics = {
      {"ailee_job_last_attempt_timestamp_seconds", "gauge", "Unix time the job's last run ended, successfully or not."},
      {"ailee_job_last_success_timestamp_seconds", "gauge",
       "Unix time the job's last successful run (exit code 0) ended; kept while later runs fail."},
      {"ailee_job_duration_seconds", "gauge", "Wall time of the job's last run."},
      {"ailee_job_exit_code", "gauge", "Exit code of the job's last run (0 ok; docs/exit-codes.md)."},
      {"ailee_job_bytes_read", "gauge", "Bytes the job's last run read from its source."},
      {"ailee_job_bytes_stored", "gauge",
       "Bytes the job's last run added to the repository (after dedup, compression and encryption)."},
      {"ailee_snapshot_age_seconds", "gauge",
       "Age of the newest snapshot the job made, when the file was written (grows while the job fails)."},
      {"ailee_snapshot_copies", "gauge",
       "Repositories holding the newest snapshot: the primary plus every secondary that received it."},
      {"ailee_snapshot_min_copies", "gauge", "Repositories that must hold each snapshot (backup.min_copies)."},
      {"ailee_snapshot_locations_reached", "gauge", "Secondary repositories that received the newest snapshot."},
      {"ailee_snapshot_locations_configured", "gauge", "Secondary repositories configured (backup.secondary_repositories)."},
      {"ailee_verify_ok", "gauge", "1 when the job's last verification found no damage, else 0."},
      {"ailee_keys_verify_ok", "gauge", "1 when every backup of the signer's key passed the job's last keys verify, else 0."},
      {"ailee_keys_verify_age_seconds", "gauge",
       "Seconds since every backup of the signer's key last passed keys verify, when the file was written."},
      {"ailee_archive_height", "gauge", "Height of the last block in the block archive."},
      {"ailee_archive_lag_blocks", "gauge", "Blocks the node's tip is ahead of the block archive."},
      {"ailee_drill_ok", "gauge", "1 when the last drill passed every check, else 0."},
      {"ailee_drill_rto_seconds", "gauge", "Recovery time the last drill measured (sum of its phases)."},
      {"ailee_drill_rpo_blocks", "gauge", "Blocks the last drill's recovery point lacked against the network's tip."},
      {"ailee_drill_rpo_seconds", "gauge", "Seconds of history the last drill's recovery point lacked against the network's tip."},
      {"ailee_drill_keys_ok", "gauge", "1 when the last key drill (drill --keys) passed every check, else 0."},
      {"ailee_drill_keys_rto_seconds", "gauge", "Key recovery time the last key drill measured (open, restore, test-signer)."},
      {"ailee_drill_config_ok", "gauge", "1 when the last config drill (drill --config) passed every check, else 0."},
      {"ailee_drill_config_rto_seconds", "gauge", "Config recovery time the last config drill measured (restore, validate)."},
      {"ailee_snapshots_forgotten", "gauge", "Snapshots the job's last run forgot."},
      {"ailee_job_bytes_deleted", "gauge", "Bytes the job's last run deleted from the repository."},
  };
  return kMetrics;
}

const MetricInfo* FindMetric(const std::string& name) {
  for (const auto& m : AllMetrics()) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::string JobMetricsPath(const std::string& dir, const JobReport& report) {
  return fs::JoinPath(dir, "ailee_" + Sanitized(report.job) + "_" + Sanitized(report.node) + ".prom");
}

std::map<std::string, double> ReadPreviousSeries(const std::string& path) {
  std::map<std::string, double> out;
  // O_NONBLOCK: a FIFO planted at the name must not hang the job; O_NOFOLLOW:
  // a symlink is not read through. Only a regular file is read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= kMaxPreviousBytes) {
    text.resize(static_cast<size_t>(st.st_size));
    ssize_t n = ::pread(fd, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;  // a line without its newline is not trusted
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    if (sp == std::string::npos || line.find('{') == std::string::npos) continue;
    const std::string value = line.substr(sp + 1);
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str() + value.size() || value.empty() || !std::isfinite(v)) continue;
    if (!IsOurSeriesKey(std::string_view(line).substr(0, sp))) continue;
    std::string key = line.substr(0, sp);
    const std::string old_label = "{" + std::string(kOldJobLabel) + "=\"";
    if (const size_t brace = key.find('{'); key.compare(brace, old_label.size(), old_label) == 0) {
      key.replace(brace + 1, kOldJobLabel.size(), kJobLabel);
    }
    out[key] = v;
  }
  return out;
}

Result<std::string> RenderJobMetrics(const JobReport& report, const std::map<std::string, double>& previous) {
  const double finished = static_cast<double>(report.finished_ms) / 1000;
  const bool ok = report.exit_code == 0;
  std::vector<Sample> all = {
      {std::string(kLastAttempt), {}, finished},
      {"ailee_job_duration_seconds", {}, static_cast<double>(report.finished_ms - report.started_ms) / 1000},
      {"ailee_job_exit_code", {}, static_cast<double>(report.exit_code)},
  };
  std::set<std::string> reported;
  for (const auto& s : report.samples) reported.insert(SeriesKey(report, s));
  const Sample success_probe{std::string(kLastSuccess), {}, 0};
  const Sample attempt_probe{std::string(kLastAttempt), {}, 0};
  if (ok) {
    all.push_back({std::string(kLastSuccess), {}, finished});
  } else if (auto it = previous.find(SeriesKey(report, success_probe)); it != previous.end()) {
    // A success dated after this failed run's own end was stamped by a clock
    // that ran ahead: carried, it would keep every staleness alert silent
    // until that date. 0 ("no success known") lets them fire.
    all.push_back({std::string(kLastSuccess), {}, it->second <= finished ? it->second : 0});
  }
  all.insert(all.end(), report.samples.begin(), report.samples.end());

  // Ages not reported this time keep growing from where the last file left them.
  std::vector<std::pair<std::string, double>> carried;  // key, value
  if (auto attempt = previous.find(SeriesKey(report, attempt_probe)); attempt != previous.end()) {
    const double elapsed = finished > attempt->second ? finished - attempt->second : 0;
    for (const auto& [key, value] : previous) {
      if (EndsWith(NameOf(key), kAgeSuffix) && SameJobAndNode(key, report) && !reported.count(key) &&
          FindMetric(NameOf(key)) != nullptr) {
        carried.emplace_back(key, value + elapsed);
      }
    }
  }

  // Each metric's HELP and TYPE once, its series together, in the order seen.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> lines;
  auto add = [&](const std::string& name, const std::string& line) {
    if (!lines.count(name)) order.push_back(name);
    lines[name].push_back(line);
  };
  for (const auto& s : all) {
    if (FindMetric(s.name) == nullptr) return Internal("metric " + s.name + " is not in the metrics catalog");
    add(s.name, SeriesKey(report, s) + " " + Number(s.value));
  }
  for (const auto& [key, value] : carried) add(NameOf(key), key + " " + Number(value));
  std::string out;
  for (const auto& name : order) {
    const MetricInfo* m = FindMetric(name);
    out += "# HELP " + name + " " + m->help + "\n# TYPE " + name + " " + m->type + "\n";
    for (const auto& l : lines[name]) out += l + "\n";
  }
  return out;
}

Status WriteJobMetrics(const std::string& dir, const JobReport& report) {
  const std::string path = JobMetricsPath(dir, report);
  if (!fs::IsDirectory(dir)) {
    return NotFound("metrics directory " + dir + " does not exist (monitoring.textfile_dir or --metrics-dir)");
  }
  fs::RemoveAbandoned(dir, fs::Basename(path) + ".tmp.");
  ASSIGN_OR_RETURN(std::string text, RenderJobMetrics(report, ReadPreviousSeries(path)));
  return fs::WriteFileAtomic(path, text, 0644).WithContext("writing metrics " + path);
}

}  // namespace ailee::ops::metrics
