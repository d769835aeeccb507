// The one place a run's metrics file is written: main() calls
// WriteRunMetrics once the command ended, whatever the outcome, so every
// scheduled job reports success and failure alike and no command writes a
// file itself (a command only adds its job's numbers: Session::AddMetrics).
// docs/metrics.md lists the jobs and their metrics.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "base/status.h"
#include "cli/session.h"

namespace ailee::cli {

// "backup state", "keys verify", "verify": the subcommands that ran, joined
// by spaces ("" when none ran), and a flag that makes it another job
// ("drill --keys").
std::string CommandPath(const CLI::App& app);

// The metrics job of a command path ("backup state" -> "backup_state"), or
// "" for a command that is not a scheduled job (restore, snapshots, ...).
// `dry_run`: a dry run reports nothing.
std::string MetricsJobOf(const std::string& command_path, bool dry_run);

// True when the leaf subcommand that ran was given --dry-run.
bool RanDryRun(const CLI::App& app);

// Writes `<dir>/ailee_<job>_<node>.prom` for the job that ran, `dir` being
// --metrics-dir, else the config's monitoring.textfile_dir; nothing when
// neither is set or the command is no scheduled job. The node label is the
// config's node.id (else "unknown"). A file that cannot be written is a
// warning on stderr: the job's own outcome and exit code stand, and the
// stale file is what the alert rules notice.
void WriteRunMetrics(Session& session, const std::string& command_path, bool dry_run, const Status& outcome);

}  // namespace ailee::cli
