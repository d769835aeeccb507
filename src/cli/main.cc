// ailee-cli: the operator's tool. Each command lives in its own cmd_*.cc.
#include <malloc.h>

#include <iostream>

#include "base/hint.h"
#include "cli/command.h"
#include "cli/object_stores.h"
#include "crypto/secure.h"

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
  app.add_flag("-q,--quiet", global.quiet, "print nothing on success (errors still go to stderr)");
  app.add_option("--audit-log", global.audit_log,
                 "audit log file (default: the config's logging.audit_log, else /var/log/ailee/audit.log)")
      ->envname("AILEE_AUDIT_LOG");
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
