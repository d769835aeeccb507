// ailee-cli: the operator's tool. Each command lives in its own cmd_*.cc.
#include <malloc.h>

#include <iostream>

#include "cli/command.h"
#include "cli/object_stores.h"
#include "crypto/secure.h"

namespace {

std::string HintFor(const ailee::Status& st) {
  using ailee::StatusCode;
  switch (st.code()) {
    case StatusCode::kInvalidArgument: return "check the arguments and the config (ailee-cli validate-config)";
    case StatusCode::kNotFound: return "check the path, URL or id; `ailee-cli snapshots` lists what exists";
    case StatusCode::kDataLoss: return "the data failed its check; restore from another snapshot or copy";
    case StatusCode::kUnavailable: return "a transient condition; retry, or check that the node/server is running";
    case StatusCode::kAborted: return "another operation holds the lock; retry when it finishes";
    case StatusCode::kPermissionDenied:
      return "check the passphrase source, the S3 credentials (AWS_* or backup.s3.credentials_file) and file permissions";
    case StatusCode::kResourceExhausted: return "free disk space (or memory) and rerun; nothing was left half-written";
    case StatusCode::kAlreadyExists: return "choose another target, or pass --force where the command offers it";
    default: return "";
  }
}

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
  ailee::cli::GlobalOptions global;
  auto* cfg = app.add_option("--config", global.config_path, "node configuration file")
                  ->envname("AILEE_CONFIG")
                  ->capture_default_str();
  app.add_flag("--json", global.json, "print one JSON document on stdout instead of text");
  app.add_flag("-q,--quiet", global.quiet, "no progress output");
  // Commands first, then hooks ("*-hook") that add subcommands to them, so the
  // result does not depend on static initialization order.
  for (bool hooks : {false, true}) {
    for (const auto& spec : ailee::cli::CommandRegistry::Get().specs()) {
      bool is_hook = spec.name.size() > 5 && spec.name.compare(spec.name.size() - 5, 5, "-hook") == 0;
      if (is_hook == hooks) spec.setup(app, global);
    }
  }
  ailee::cli::RegisterObjectStoreSchemes(global);
  app.parse_complete_callback([&] { global.config_given = cfg->count() > 0 || std::getenv("AILEE_CONFIG"); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ailee::cli::kExitUsage;
  }
  ailee::Status st = ailee::cli::TakeResult();
  if (!st.ok()) {
    if (global.json && !ailee::cli::JsonWasPrinted()) {
      ailee::cli::PrintJson({{"ok", false}, {"error", std::string(ailee::StatusCodeName(st.code()))},
                             {"message", st.message()}});
    }
    std::cerr << "error: " << st.message() << std::endl;
    std::string hint = HintFor(st);
    if (!hint.empty()) std::cerr << "hint: " << hint << std::endl;
  }
  return ailee::cli::ExitCodeFor(st);
}
