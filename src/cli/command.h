// How ailee-cli commands plug in: each cmd_*.cc file defines its commands and
// registers them with AILEE_REGISTER_COMMAND; main() builds the CLI11 app from
// the registry. A command returns a Status; main maps it to an exit code
// (docs/exit-codes.md) and prints the message and the Status's own hint.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ailee::cli {

// Options every command sees.
struct GlobalOptions {
  std::string config_path = "/etc/ailee/config.yaml";
  bool config_given = false;  // --config was passed explicitly
  bool json = false;          // machine-readable output on stdout
  bool quiet = false;         // nothing on stdout/stderr on success (cron mails every line)
  std::string audit_log;      // --audit-log / $AILEE_AUDIT_LOG; "" = config's, else the default
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

// A command: `setup` adds its subcommand to `parent`; the callback it installs
// must store its result with SetResult (so main can map it to an exit code).
struct CommandSpec {
  std::string name;
  std::function<void(CLI::App& parent, GlobalOptions& global)> setup;
};

class CommandRegistry {
 public:
  static CommandRegistry& Get();
  void Add(CommandSpec spec) { specs_.push_back(std::move(spec)); }
  const std::vector<CommandSpec>& specs() const { return specs_; }

 private:
  std::vector<CommandSpec> specs_;
};

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSpec spec) { CommandRegistry::Get().Add(std::move(spec)); }
};

#define AILEE_REGISTER_COMMAND(ident, name, setup_fn) \
  static ::ailee::cli::CommandRegistrar ailee_cmd_registrar_##ident({name, setup_fn})

// Records the outcome of the command that ran (called from its callback).
void SetResult(Status status);
Status TakeResult();

// Output helpers: human text goes to stdout unless --json, where exactly one
// JSON document is printed. Errors always go to stderr.
void PrintJson(const nlohmann::json& doc);
// True once a command printed its document (then main adds no error document).
bool JsonWasPrinted();
// Suppressed with --json (one document only) and with -q (nothing on success).
void PrintLine(const GlobalOptions& g, const std::string& line);

}  // namespace ailee::cli
