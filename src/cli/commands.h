// Every command's setup function; main.cc's table lists them in the order
// `ailee-cli --help` shows them. A setup adds its (sub)command to `parent`
// (the app, or the group named in the table) and installs a callback that
// parses flags, runs one job and ends with EndCommand (cli/ending.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/session.h"

namespace ailee::cli {

// cmd_archive.cc: the block archive (run, status, list, replay).
void SetUpArchiveCommand(CLI::App& parent, Session& session);
// cmd_audit.cc
void SetUpAuditCommand(CLI::App& parent, Session& session);
// cmd_backup.cc
void SetUpBackupCommand(CLI::App& parent, Session& session);
void SetUpRestoreCommand(CLI::App& parent, Session& session);
void SetUpApplyCheckpointCommand(CLI::App& parent, Session& session);
// cmd_checkpoint.cc
void SetUpVerifyStateCommand(CLI::App& parent, Session& session);
void SetUpCreateCheckpointCommand(CLI::App& parent, Session& session);
void SetUpVerifyCheckpointCommand(CLI::App& parent, Session& session);
// cmd_config_backup.cc: the `config` group, its alias `restore-config`, and
// `backup config` / `restore config` added to the `backup` / `restore` groups.
void SetUpConfigCommand(CLI::App& parent, Session& session);
void SetUpRestoreConfigCommand(CLI::App& parent, Session& session);
void SetUpBackupConfigSubcommand(CLI::App& backup, Session& session);
void SetUpRestoreConfigSubcommand(CLI::App& restore, Session& session);
// cmd_copy.cc: `copy`, and `repo status` added to the `repo` group.
void SetUpCopyCommand(CLI::App& parent, Session& session);
void SetUpRepoStatusSubcommand(CLI::App& repo, Session& session);
// cmd_check.cc: `check`, backup freshness for monitoring (ops/check/check.h).
void SetUpCheckCommand(CLI::App& parent, Session& session);
// cmd_drill.cc: recovery drills in a sandbox (ops/drill/drill.h).
void SetUpDrillCommand(CLI::App& parent, Session& session);
// cmd_emergency.cc: halt/resume and the peg freeze (ops/emergency/emergency.h).
void SetUpEmergencyCommand(CLI::App& parent, Session& session);
// cmd_federation.cc: federation propose|sign|apply|show (ops/federation/).
void SetUpFederationCommand(CLI::App& parent, Session& session);
// cmd_keys.cc
void SetUpKeysCommand(CLI::App& parent, Session& session);
// cmd_load.cc
void SetUpLoadCommand(CLI::App& parent, Session& session);
// cmd_logs.cc
void SetUpLogsCommand(CLI::App& parent, Session& session);
// cmd_node.cc
void SetUpHealthCheckCommand(CLI::App& parent, Session& session);
void SetUpSyncStatusCommand(CLI::App& parent, Session& session);
// cmd_repo.cc
void SetUpRepoCommand(CLI::App& parent, Session& session);
void SetUpSnapshotsCommand(CLI::App& parent, Session& session);
void SetUpForgetCommand(CLI::App& parent, Session& session);
void SetUpPruneCommand(CLI::App& parent, Session& session);
void SetUpVerifyCommand(CLI::App& parent, Session& session);
// cmd_recover_node.cc
void SetUpRecoverNodeCommand(CLI::App& parent, Session& session);
// cmd_test_signer.cc
void SetUpTestSignerCommand(CLI::App& parent, Session& session);
// cmd_validate_config.cc
void SetUpValidateConfigCommand(CLI::App& parent, Session& session);

}  // namespace ailee::cli
