// ailee-cli validate-config [FILE]: lists every problem of a node config at
// once ("<field>: expected <x>, found <y>") and exits 2 when there is any.
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "config/config.h"

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
};

Result<Validation> ValidateConfig(const std::string& path) {
  Validation v{path, config::ValidateConfigFile(path), std::nullopt};
  if (v.problems.empty()) {
    ASSIGN_OR_RETURN(v.config, config::LoadConfig(path));  // an error only if it changed between the two reads
  }
  return v;
}

Status VerdictOf(const Validation& v) {
  if (v.problems.empty()) return Status::Ok();
  return InvalidArgument("config " + v.path + " has " + std::to_string(v.problems.size()) + " problem(s):\n" +
                         config::FormatProblems(v.problems));
}

nlohmann::json ValidationJson(const Validation& v) {
  if (v.config) {
    return {{"ok", true}, {"config", v.config->config_path}, {"summary", config::Summary(*v.config)},
            {"problems", nlohmann::json::array()}};
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : v.problems) list.push_back(ProblemJson(p));
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
               [&] { return v->config ? "config OK: " + config::Summary(*v->config) : ""; });
  });
}

}  // namespace ailee::cli
