// ailee-cli: the operator's tool. The commands are listed below; each lives
// in the cmd_*.cc file of its group (cli/commands.h).
#include <malloc.h>

#include <iostream>
#include <string_view>

#include "base/hint.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/job_metrics.h"
#include "ops/object_stores.h"
#include "cli/session.h"
#include "crypto/secure.h"

namespace {

using namespace ailee::cli;

struct CommandEntry {
  std::string_view parent;  // "" for a top-level command, else the group an earlier entry defined
  void (*setup)(CLI::App& parent, Session& session);
};

// In the order `ailee-cli --help` lists them (tests/golden/cli_golden.sh).
constexpr CommandEntry kCommands[] = {
    {"", SetUpAuditCommand},
    {"", SetUpBackupCommand},
    {"backup", SetUpBackupConfigSubcommand},
    {"", SetUpRestoreCommand},
    {"restore", SetUpRestoreConfigSubcommand},
    {"", SetUpApplyCheckpointCommand},
    {"", SetUpVerifyStateCommand},
    {"", SetUpCreateCheckpointCommand},
    {"", SetUpVerifyCheckpointCommand},
    {"", SetUpConfigCommand},
    {"", SetUpRestoreConfigCommand},
    {"", SetUpCopyCommand},
    {"", SetUpArchiveCommand},
    {"", SetUpDrillCommand},
    {"", SetUpEmergencyCommand},
    {"", SetUpCheckCommand},
    {"", SetUpKeysCommand},
    {"", SetUpFederationCommand},
    {"", SetUpLoadCommand},
    {"", SetUpLogsCommand},
    {"", SetUpHealthCheckCommand},
    {"", SetUpSyncStatusCommand},
    {"", SetUpRepoCommand},
    {"repo", SetUpRepoStatusSubcommand},
    {"", SetUpSnapshotsCommand},
    {"", SetUpForgetCommand},
    {"", SetUpPruneCommand},
    {"", SetUpVerifyCommand},
    {"", SetUpRecoverNodeCommand},
    {"", SetUpTestSignerCommand},
    {"", SetUpValidateConfigCommand},
};

}  // namespace

int main(int argc, char** argv) {
  ailee::crypto::DisableCoreDumps();  // this process may hold keys and passphrases
  // Backup and restore cycle through many 4 MiB buffers; keeping them in the
  // heap instead of mmap/munmap per buffer avoids page-fault storms.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"ailee-cli: back up, verify and recover AILEE-Core nodes, keys and configuration.\n"
               "Exit codes: 0 ok, 1 failed, 2 usage/invalid input, 3 verification failed, 4 not found,\n"
               "5 auth/permission, 6 unavailable (retry), 7 already exists, 8 no space. See docs/exit-codes.md."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ailee-cli 0.1.0");
  ailee::cli::Session session;
  ailee::cli::GlobalOptions& global = session.global();
  auto* cfg = app.add_option("--config", global.config_path, "node configuration file")
                  ->envname("AILEE_CONFIG")
                  ->capture_default_str();
  app.add_flag("--json", global.json, "print one JSON document on stdout instead of text");
  app.add_flag("-q,--quiet", global.quiet, "print nothing on success (errors still go to stderr)");
  app.add_option("--audit-log", global.audit_log,
                 "audit log file (default: the config's logging.audit_log, else /var/log/ailee/audit.log)")
      ->envname("AILEE_AUDIT_LOG");
  app.add_option("--metrics-dir", global.metrics_dir,
                 "write the job's Prometheus metrics here, for node_exporter's textfile collector\n"
                 "(default: the config's monitoring.textfile_dir; none: no metrics; docs/metrics.md)")
      ->envname("AILEE_METRICS_DIR");
  for (const auto& command : kCommands) {
    command.setup(command.parent.empty() ? app : *app.get_subcommand(std::string(command.parent)), session);
  }
  // s3:// takes the config's backup.s3 (the Session's, loaded once), read
  // when the first s3:// URL is opened: commands that never touch S3 do not
  // need a valid backup.s3. Without --config, a missing or invalid config
  // means the defaults.
  ailee::ops::RegisterS3Scheme([&session]() -> ailee::Result<std::optional<ailee::config::S3Section>> {
    const auto& loaded = session.config();
    if (loaded.ok()) return std::optional<ailee::config::S3Section>(loaded->backup.s3);
    if (session.global().config_given) {
      return loaded.status().WithContext("config " + session.global().config_path + " (for backup.s3)");
    }
    return std::optional<ailee::config::S3Section>();
  });
  app.parse_complete_callback([&] { global.config_given = cfg->count() > 0 || std::getenv("AILEE_CONFIG"); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ailee::cli::kExitUsage;
  }
  ailee::Status st = ailee::cli::TakeResult();
  ailee::cli::WriteRunMetrics(session, ailee::cli::CommandPath(app), ailee::cli::RanDryRun(app), st);
  if (!st.ok()) {
    if (global.json && !ailee::cli::JsonWasPrinted()) {
      nlohmann::json doc = {{"ok", false}, {"error", std::string(ailee::StatusCodeName(st.code()))},
                            {"message", std::string(ailee::MessageWithoutHint(st))}};
      if (!ailee::HintOf(st).empty()) doc["hint"] = std::string(ailee::HintOf(st));
      ailee::cli::PrintJson(doc);
    }
    // The hint is the cause's own (attached where the error arose), or none.
    std::cerr << "error: " << ailee::MessageWithoutHint(st) << std::endl;
    if (!ailee::HintOf(st).empty()) std::cerr << "hint: " << ailee::HintOf(st) << std::endl;
  }
  return ailee::cli::ExitCodeFor(st);
}
