// Session: what one ailee-cli run shares between main and the command that
// runs: the global options, the node config (loaded at most once, on first
// use, its error kept) and the audit log (opened at most once). main() makes
// one and hands it to every command's setup (cli/commands.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/status.h"
#include "cli/command.h"
#include "config/config.h"
#include "ops/metrics/textfile.h"
#include "state/federation.h"

namespace ailee::cli {

class Session {
 public:
  using ConfigLoader = std::function<Result<config::NodeConfig>(const std::string& path)>;
  using AuditLogOpener = std::function<Result<std::unique_ptr<audit::AuditLog>>(const std::string& path)>;

  // The loader and opener are seams for tests (counting calls); the defaults
  // read the real files.
  explicit Session(ConfigLoader load_config = nullptr, AuditLogOpener open_audit_log = nullptr);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Filled by the command line; read by the command once parsing is done.
  GlobalOptions& global() { return global_; }
  const GlobalOptions& global() const { return global_; }

  // The config named by --config / $AILEE_CONFIG, loaded on the first call;
  // later calls return the same value or the same error (as the loader
  // said it, without context).
  const Result<config::NodeConfig>& config();
  // The loaded config, or nullptr when it did not load.
  const config::NodeConfig* config_if_loaded();
  // The config, or its error with the path as context ("config PATH: ...").
  Result<const config::NodeConfig*> RequireConfig();

  // The audit log of this run, opened on the first call (its directory
  // created when possible): `option` (a subcommand's own --audit-log) if
  // set, else the global --audit-log / $AILEE_AUDIT_LOG, else the config's
  // logging.audit_log when the config loads, else /var/log/ailee/audit.log.
  // A command run without a config is audited too. Later calls return the
  // log (or the error) of the first.
  Result<audit::AuditLog*> audit_log(const std::string& option = "");

  // The federation of the config; nullopt when no config loads or it names
  // no valid federation (`why_not` then says why; verification then skips
  // signature checks and says so).
  std::optional<state::Federation> FederationIfConfigured(std::string* why_not);

  // The job's own numbers for its metrics file, added by the command from
  // its job's result (ops/metrics/job_samples.h); the file itself is
  // written once, after the command ended (cli/job_metrics.h).
  void AddMetrics(std::vector<ops::metrics::Sample> samples);
  const std::vector<ops::metrics::Sample>& metrics() const { return metrics_; }
  // Wall clock when the session was made: the start of the job.
  int64_t started_ms() const { return started_ms_; }

 private:
  GlobalOptions global_;
  ConfigLoader load_config_;
  AuditLogOpener open_audit_log_;
  std::optional<Result<config::NodeConfig>> config_;
  std::optional<Result<std::unique_ptr<audit::AuditLog>>> audit_log_;
  std::vector<ops::metrics::Sample> metrics_;
  int64_t started_ms_ = 0;
};

// Where the audit log of a run is (Session::audit_log says the order).
std::string AuditLogPath(const GlobalOptions& g, const config::NodeConfig* cfg, const std::string& option);
// Opens it, with what to do when that fails as context.
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogAt(const std::string& path);
// A node's API URL: `url` (a command's --url) when given, else the config's
// node.listen, else the default listen address.
std::string NodeUrlFor(Session& s, const std::string& url);
// The federation a config names (its keys and threshold).
Result<state::Federation> FederationOf(const config::NodeConfig& cfg);

}  // namespace ailee::cli
