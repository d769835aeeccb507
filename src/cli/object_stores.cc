#include "cli/object_stores.h"

#include "config/config.h"
#include "ops/object_stores.h"

namespace ailee::cli {

void RegisterObjectStoreSchemes(const GlobalOptions& g) {
  ops::RegisterS3Scheme([&g]() -> Result<std::optional<config::S3Section>> {
    auto cfg = config::LoadConfig(g.config_path);
    if (cfg.ok()) return std::optional<config::S3Section>(cfg->backup.s3);
    if (g.config_given) return cfg.status().WithContext("config " + g.config_path + " (for backup.s3)");
    return std::optional<config::S3Section>();
  });
}

}  // namespace ailee::cli
