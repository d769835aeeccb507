#include "cli/job_metrics.h"

#include <iostream>
#include <string_view>
#include <utility>

#include "base/clock.h"
#include "base/hint.h"
#include "ops/metrics/textfile.h"

namespace ailee::cli {
namespace {

struct ScheduledJob {
  std::string_view command;  // as CommandPath says it
  std::string_view job;      // label and file name
};

// The jobs the runbook schedules (packaging/ runs them); their aliases map
// to the same job so a timer may use either spelling.
constexpr ScheduledJob kScheduledJobs[] = {
    {"backup state", "backup_state"},     {"backup config", "backup_config"}, {"config backup", "backup_config"},
    {"logs archive", "logs_archive"},     {"verify", "verify"},               {"keys verify", "keys_verify"},
    {"copy", "copy"},                     {"archive run", "archive_run"},     {"archive status", "archive_status"},
    {"prune", "prune"},                   {"forget", "forget"},           {"backup all", "backup_all"},     {"drill", "drill"},
    {"drill --keys", "drill_keys"},       {"drill --config", "drill_config"},
};

// Flags that make a command another job (own file, own metrics): the key
// drill must not replace the state drill's numbers, nor a listing of the
// reports ("drill --history", no job) the last drill's.
constexpr std::pair<std::string_view, std::string_view> kJobFlags[] = {
    {"drill", "--keys"}, {"drill", "--config"}, {"drill", "--history"}};

}  // namespace

std::string CommandPath(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app;;) {
    auto subs = a->get_subcommands();
    if (subs.empty()) break;
    a = subs.front();
    path += (path.empty() ? "" : " ") + a->get_name();
  }
  for (const auto& [command, flag] : kJobFlags) {
    if (path != command) continue;  // also once a flag was appended: one job per run
    const CLI::App* leaf = &app;
    while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
    const CLI::Option* given = leaf->get_option_no_throw(std::string(flag));
    if (given != nullptr && given->count() > 0) path += " " + std::string(flag);
  }
  return path;
}

bool RanDryRun(const CLI::App& app) {
  const CLI::App* leaf = &app;
  while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
  const CLI::Option* dry = leaf->get_option_no_throw("--dry-run");
  return dry != nullptr && dry->count() > 0;
}

std::string MetricsJobOf(const std::string& command_path, bool dry_run) {
  if (dry_run) return "";
  for (const auto& j : kScheduledJobs) {
    if (j.command == command_path) return std::string(j.job);
  }
  return "";
}

void WriteRunMetrics(Session& session, const std::string& command_path, bool dry_run, const Status& outcome) {
  const std::string job = MetricsJobOf(command_path, dry_run);
  if (job.empty()) return;
  const config::NodeConfig* cfg = session.config_if_loaded();
  std::string dir = session.global().metrics_dir;
  if (dir.empty() && cfg != nullptr) dir = cfg->monitoring.textfile_dir;
  if (dir.empty()) return;
  ops::metrics::JobReport report;
  report.job = job;
  report.node = cfg != nullptr ? cfg->node.id : "unknown";
  report.started_ms = session.started_ms();
  report.finished_ms = Clock::Real().NowMillis();
  report.exit_code = ExitCodeFor(outcome);
  report.samples = session.metrics();
  if (Status st = ops::metrics::WriteJobMetrics(dir, report); !st.ok()) {
    std::cerr << "warning: metrics not written: " << MessageWithoutHint(st) << std::endl;
  }
}

}  // namespace ailee::cli
