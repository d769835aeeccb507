// Internal to src/config: the `drill` section's reader, shared by the
// validation of the whole document and by LoadDrillSection.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/drill.h"
#include "config/yaml_fields.h"

namespace ailee::config::internal {

// Relative paths are resolved against `config_dir`.
void ParseDrill(const YAML::Node& root, const std::string& config_dir, FieldReader& r, DrillSection* out);

}  // namespace ailee::config::internal
