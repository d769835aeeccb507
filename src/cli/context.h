// TRANSITIONAL forwarding header, to be deleted after the issue-15 merge.
// The helpers it used to hold now live by concern: cli/session.h (config and
// audit log, loaded/opened once per run; the federation), cli/format.h,
// cli/progress.h, config/node_access.h (node URL, admin token). It remains
// only because cmd_backup, cmd_checkpoint, cmd_copy, cmd_config_backup,
// cmd_logs, cmd_load and replicate.cc (being rewritten by other engineers)
// include it and call the free functions below; new code uses the Session.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "base/status.h"
#include "cli/command.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/session.h"
#include "config/config.h"
#include "config/node_access.h"
#include "state/federation.h"

namespace ailee::cli {

using config::NodeUrl;
using config::ReadAdminToken;

// Transitional (each loads the config again; Session::config() loads once):
// to be removed once the callers above take the Session.
Result<config::NodeConfig> LoadConfigFor(const GlobalOptions& g);
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const GlobalOptions& g, const config::NodeConfig* cfg,
                                                      const std::string& option = "");
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogFor(const GlobalOptions& g);
std::optional<state::Federation> FederationIfConfigured(const GlobalOptions& g, std::string* why_not);

}  // namespace ailee::cli
