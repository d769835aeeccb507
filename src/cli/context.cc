// Transitional wrappers (context.h says why they remain).
#include "cli/context.h"

namespace ailee::cli {

Result<config::NodeConfig> LoadConfigFor(const GlobalOptions& g) {
  auto cfg = config::LoadConfig(g.config_path);
  if (!cfg.ok()) return cfg.status().WithContext("config " + g.config_path);
  return cfg;
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const GlobalOptions& g, const config::NodeConfig* cfg,
                                                      const std::string& option) {
  return OpenAuditLogAt(AuditLogPath(g, cfg, option));
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogFor(const GlobalOptions& g) {
  auto cfg = config::LoadConfig(g.config_path);
  return OpenAuditLog(g, cfg.ok() ? &*cfg : nullptr);
}

std::optional<state::Federation> FederationIfConfigured(const GlobalOptions& g, std::string* why_not) {
  Session once;
  once.global() = g;
  return once.FederationIfConfigured(why_not);
}

}  // namespace ailee::cli
