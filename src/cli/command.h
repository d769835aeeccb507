// What every ailee-cli command shares: the global options, the exit codes,
// the slot a callback stores its outcome in, and stdout. Commands are listed
// in main.cc's table (setup functions: cli/commands.h) and end through
// cli/ending.h; main maps the outcome to an exit code (docs/exit-codes.md) and
// prints the message and the Status's own hint on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "base/status.h"

namespace ailee::cli {

// Options every command sees.
struct GlobalOptions {
  std::string config_path = "/etc/ailee/config.yaml";
  bool config_given = false;  // --config was passed explicitly
  bool json = false;          // machine-readable output on stdout
  bool quiet = false;         // nothing on stdout/stderr on success (cron mails every line)
  std::string audit_log;      // --audit-log / $AILEE_AUDIT_LOG; "" = config's, else the default
  std::string metrics_dir;    // --metrics-dir / $AILEE_METRICS_DIR; "" = the config's monitoring.textfile_dir
};

// Exit codes, documented in docs/exit-codes.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,          // operation failed (generic)
  kExitUsage = 2,            // bad command line or invalid input/config
  kExitVerifyFailed = 3,     // verification found damage or mismatch
  kExitNotFound = 4,         // repository, snapshot, file or key not found
  kExitAuth = 5,             // wrong passphrase, credentials, permission
  kExitUnavailable = 6,      // transient only: node/server down, lock busy; retry
  kExitAlreadyExists = 7,    // refused to overwrite
  kExitNoSpace = 8,          // disk full / quota
};

int ExitCodeFor(const Status& status);

// Records the outcome of the command that ran (called from its callback).
void SetResult(Status status);
Status TakeResult();

// Output helpers: human text goes to stdout unless --json, where exactly one
// JSON document is printed. Errors always go to stderr.
void PrintJson(const nlohmann::json& doc);
// The same for a document whose keys keep their insertion order.
void PrintOrderedJson(const nlohmann::ordered_json& doc);
// True once a command printed its document (then main adds no error document).
bool JsonWasPrinted();
// Suppressed with --json (one document only) and with -q (nothing on success).
void PrintLine(const GlobalOptions& g, const std::string& line);

}  // namespace ailee::cli
