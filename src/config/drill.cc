#include "config/drill.h"

#include "base/fs.h"
#include "config/drill_parse.h"

namespace ailee::config {
namespace internal {

void ParseDrill(const YAML::Node& root, FieldReader& r, DrillTargetsConfig* out) {
  auto drill = r.Map(root, "", "drill", false);
  if (!drill) return;
  r.CheckKnownKeys(*drill, "drill", {"targets"});
  auto targets = r.Map(*drill, "drill", "targets", false);
  if (!targets) return;
  const std::string p = "drill.targets";
  r.CheckKnownKeys(*targets, p, {"rto_s", "rpo_s", "rpo_blocks"});
  out->rto_s = r.Int(*targets, p, "rto_s", 1, 365 * 86400, false);
  out->rpo_s = r.Int(*targets, p, "rpo_s", 0, 365 * 86400, false);
  out->rpo_blocks = r.Int(*targets, p, "rpo_blocks", 0, 1000000000, false);
}

}  // namespace internal

Result<DrillTargetsConfig> LoadDrillTargets(const NodeConfig& cfg) {
  auto text = fs::ReadFile(cfg.config_path);
  if (!text.ok()) return text.status().WithContext("reading drill.targets");
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config " + cfg.config_path + ": " + e.what());
  }
  std::vector<ConfigProblem> problems;
  internal::FieldReader reader(&problems);
  DrillTargetsConfig out;
  if (root.IsMap()) internal::ParseDrill(root, reader, &out);
  if (!problems.empty()) {
    return InvalidArgument("config " + cfg.config_path + ": " + problems.front().ToString());
  }
  return out;
}

}  // namespace ailee::config
