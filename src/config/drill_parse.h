// Internal to src/config: the `drill` section's reader, shared by the
// validation of the whole document and by LoadDrillTargets.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/drill.h"
#include "config/yaml_fields.h"

namespace ailee::config::internal {

void ParseDrill(const YAML::Node& root, FieldReader& r, DrillTargetsConfig* out);

}  // namespace ailee::config::internal
