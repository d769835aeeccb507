#include "config/node_access.h"

#include "base/fs.h"

namespace ailee::config {

std::string NodeUrl(const NodeConfig& cfg) {
  const auto& host = cfg.node.listen_host;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(cfg.node.listen_port);
}

Result<std::string> ReadAdminToken(const NodeConfig& cfg) {
  auto token = fs::ReadFile(cfg.node.admin_token_file);
  if (!token.ok()) return token.status().WithContext("reading the node's admin token (node.admin_token_file)");
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

}  // namespace ailee::config
