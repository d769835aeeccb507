// Helpers shared by commands: the config, the node's URL and admin token,
// the federation, and a terminal progress line.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "base/status.h"
#include "cli/command.h"
#include "config/config.h"
#include "state/federation.h"

namespace ailee::cli {

// Loads the config named by --config / AILEE_CONFIG.
Result<config::NodeConfig> LoadConfigFor(const GlobalOptions& g);
// The audit log of this run, opened (its directory created when possible:
// audit/audit_log.h): `option` (a subcommand's own --audit-log) if set, else
// the global --audit-log / $AILEE_AUDIT_LOG, else the config's
// logging.audit_log when `cfg` is given, else /var/log/ailee/audit.log.
// A command run without a config is audited too.
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const GlobalOptions& g, const config::NodeConfig* cfg,
                                                      const std::string& option = "");
// The same, loading the config named by --config when it loads.
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogFor(const GlobalOptions& g);

// "http://127.0.0.1:8545" from node.listen (IPv6 bracketed).
std::string NodeUrl(const config::NodeConfig& cfg);
Result<std::string> ReadAdminToken(const config::NodeConfig& cfg);
Result<state::Federation> FederationOf(const config::NodeConfig& cfg);
// The federation when a config is loadable, else nullopt (verification then
// skips signature checks and says so).
std::optional<state::Federation> FederationIfConfigured(const GlobalOptions& g, std::string* why_not);

// "2.1 GiB", "512 B".
std::string HumanBytes(uint64_t bytes);
// "0.36 s", "12.4 s", "3 min 05 s".
std::string HumanSeconds(int64_t millis);

// A single self-overwriting progress line on stderr when it is a terminal
// (rate and ETA); silent otherwise, with --json or --quiet.
class ProgressLine {
 public:
  ProgressLine(const GlobalOptions& g, std::string label);
  ~ProgressLine();
  void Update(const std::string& phase, uint64_t done, uint64_t total);
  void Done();

 private:
  bool enabled_;
  std::string label_;
  int64_t start_ns_;
  int64_t last_ns_ = 0;
  bool printed_ = false;
};

}  // namespace ailee::cli
