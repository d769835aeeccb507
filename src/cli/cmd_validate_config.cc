// ailee-cli validate-config [FILE]: lists every problem of a node config at
// once ("<field>: expected <x>, found <y>") and exits 2 when there is any.
#include <cstdlib>
#include <iostream>

#include "cli/command.h"
#include "config/config.h"

namespace ailee::cli {
namespace {

struct ValidateConfigOptions {
  std::string file;
};

nlohmann::json ProblemJson(const config::ConfigProblem& p) {
  return {{"field", p.field}, {"expected", p.expected}, {"found", p.found}, {"message", p.message}};
}

Status RunValidateConfig(const ValidateConfigOptions& opts, const GlobalOptions& g) {
  const std::string path = opts.file.empty() ? g.config_path : opts.file;
  std::vector<config::ConfigProblem> problems = config::ValidateConfigFile(path);
  if (problems.empty()) {
    auto cfg = config::LoadConfig(path);
    if (!cfg.ok()) return cfg.status();  // changed between the two reads
    if (g.json) {
      PrintJson({{"ok", true}, {"config", cfg->config_path}, {"summary", config::Summary(*cfg)},
                 {"problems", nlohmann::json::array()}});
    } else {
      PrintLine(g, "config OK: " + config::Summary(*cfg));
    }
    return Status::Ok();
  }
  if (g.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : problems) list.push_back(ProblemJson(p));
    PrintJson({{"ok", false}, {"config", path}, {"problems", list}});
    // main() would print a second JSON document for the error; --json promises
    // exactly one, so leave with the invalid-input exit code directly.
    std::cout.flush();
    std::exit(kExitUsage);
  }
  return InvalidArgument("config " + path + " has " + std::to_string(problems.size()) + " problem(s):\n" +
                         config::FormatProblems(problems));
}

void SetupValidateConfig(CLI::App& parent, GlobalOptions& g) {
  auto opts = std::make_shared<ValidateConfigOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "validate-config", "check a node config and list every problem (field, expected, found)");
  cmd->add_option("file", opts->file, "config file (default: the global --config)");
  cmd->callback([opts, &g] { SetResult(RunValidateConfig(*opts, g)); });
}

}  // namespace

AILEE_REGISTER_COMMAND(validate_config, "validate-config", SetupValidateConfig);

}  // namespace ailee::cli
