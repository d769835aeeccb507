// ailee-cli validate-config [FILE]: lists every problem of a node config at
// once ("<field>: expected <x>, found <y>") and exits 2 when there is any;
// a valid config is then compared with its node's chain (federation epochs,
// ops/config/chain_check.h) when the node or its data dir can be read.
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "config/config.h"
#include "ops/config/chain_check.h"

namespace ailee::cli {
namespace {

nlohmann::json ProblemJson(const config::ConfigProblem& p) {
  return {{"field", p.field}, {"expected", p.expected}, {"found", p.found}, {"message", p.message}};
}

// The problems of the config at `path`, or its summary when it has none.
struct Validation {
  std::string path;
  std::vector<config::ConfigProblem> problems;
  std::optional<config::NodeConfig> config;  // when there is no problem
  std::optional<ops::ChainComparison> chain;  // when the config is valid and the chain could be read
  std::string chain_not_compared;             // why not, otherwise
};

Result<Validation> ValidateConfig(const std::string& path) {
  Validation v{path, config::ValidateConfigFile(path), std::nullopt, std::nullopt, ""};
  if (v.problems.empty()) {
    ASSIGN_OR_RETURN(v.config, config::LoadConfig(path));  // an error only if it changed between the two reads
    v.chain = ops::CompareConfigWithChain(*v.config, &v.chain_not_compared);
    if (v.chain) v.problems = v.chain->problems;
  }
  return v;
}

Status VerdictOf(const Validation& v) {
  if (v.problems.empty()) return Status::Ok();
  return InvalidArgument("config " + v.path + " has " + std::to_string(v.problems.size()) + " problem(s):\n" +
                         config::FormatProblems(v.problems));
}

nlohmann::json ChainJson(const Validation& v) {
  if (!v.chain) return {{"compared", false}, {"why_not", v.chain_not_compared}};
  return {{"compared", true}, {"source", v.chain->source}, {"epoch", v.chain->epoch},
          {"start_height", v.chain->start_height}, {"threshold", v.chain->threshold}, {"signers", v.chain->signers}};
}

std::string ChainLine(const Validation& v) {
  if (!v.chain) return "chain: not compared (" + v.chain_not_compared + ")";
  std::string signers;
  for (const auto& id : v.chain->signers) signers += (signers.empty() ? "" : ", ") + id;
  return "chain: federation epoch " + std::to_string(v.chain->epoch) + " since height " +
         std::to_string(v.chain->start_height) + ", threshold " + std::to_string(v.chain->threshold) + " of " +
         signers + " (" + v.chain->source + ")";
}

nlohmann::json ValidationJson(const Validation& v) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : v.problems) list.push_back(ProblemJson(p));
  if (v.config) {
    return {{"ok", v.problems.empty()}, {"config", v.config->config_path}, {"summary", config::Summary(*v.config)},
            {"chain", ChainJson(v)}, {"problems", list}};
  }
  return {{"ok", false}, {"config", v.path}, {"problems", list}};
}

}  // namespace

void SetUpValidateConfigCommand(CLI::App& parent, Session& s) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = parent.add_subcommand(
      "validate-config", "check a node config and list every problem (field, expected, found)");
  cmd->add_option("file", *file, "config file (default: the global --config)");
  cmd->callback([file, &s] {
    auto v = ValidateConfig(file->empty() ? s.global().config_path : *file);
    if (!v.ok()) return EndCommand(s, v.status());
    // The problems are the error main prints; with --json the document lists them.
    EndWithVerdict(s, VerdictOf(*v), {}, [&] { return ValidationJson(*v); },
               [&] {
                 if (!v->config) return std::string();
                 return (v->problems.empty() ? "config OK: " : "config: ") + config::Summary(*v->config) + "\n" +
                        ChainLine(*v);
               });
  });
}

}  // namespace ailee::cli
