#include "config/drill.h"

#include "base/fs.h"
#include "config/drill_parse.h"

namespace ailee::config {
namespace internal {

namespace {

void ParseTargets(const YAML::Node& drill, FieldReader& r, DrillTargetsConfig* out) {
  auto targets = r.Map(drill, "drill", "targets", false);
  if (!targets) return;
  const std::string p = "drill.targets";
  r.CheckKnownKeys(*targets, p, {"rto_s", "rpo_s", "rpo_blocks"});
  out->rto_s = r.Int(*targets, p, "rto_s", 1, 365 * 86400, false);
  out->rpo_s = r.Int(*targets, p, "rpo_s", 0, 365 * 86400, false);
  out->rpo_blocks = r.Int(*targets, p, "rpo_blocks", 0, 1000000000, false);
}

void ParseTestToken(const YAML::Node& drill, const std::string& config_dir, FieldReader& r,
                    std::optional<DrillTestTokenConfig>* out) {
  auto token = r.Map(drill, "drill", "test_token", false);
  if (!token) return;
  const std::string p = "drill.test_token";
  r.CheckKnownKeys(*token, p, {"module", "token_label", "pin_file"});
  DrillTestTokenConfig t;
  if (auto m = r.String(*token, p, "module", true)) t.module = ResolvePath(config_dir, *m);
  if (auto l = r.String(*token, p, "token_label", true)) t.token_label = *l;
  if (auto pin = r.String(*token, p, "pin_file", false)) t.pin_file = ResolvePath(config_dir, *pin);
  *out = t;
}

}  // namespace

void ParseDrill(const YAML::Node& root, const std::string& config_dir, FieldReader& r, DrillSection* out) {
  auto drill = r.Map(root, "", "drill", false);
  if (!drill) return;
  r.CheckKnownKeys(*drill, "drill", {"targets", "test_token"});
  ParseTargets(*drill, r, &out->targets);
  ParseTestToken(*drill, config_dir, r, &out->test_token);
}

}  // namespace internal

Result<DrillTargetsConfig> LoadDrillTargets(const NodeConfig& cfg) {
  ASSIGN_OR_RETURN(DrillSection d, LoadDrillSection(cfg));
  return d.targets;
}

Result<DrillSection> LoadDrillSection(const NodeConfig& cfg) {
  auto text = fs::ReadFile(cfg.config_path);
  if (!text.ok()) return text.status().WithContext("reading the drill section");
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config " + cfg.config_path + ": " + e.what());
  }
  std::vector<ConfigProblem> problems;
  internal::FieldReader reader(&problems);
  DrillSection out;
  if (root.IsMap()) internal::ParseDrill(root, cfg.config_dir, reader, &out);
  if (!problems.empty()) {
    return InvalidArgument("config " + cfg.config_path + ": " + problems.front().ToString());
  }
  return out;
}

}  // namespace ailee::config
