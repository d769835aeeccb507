#include "config/node_access.h"

#include <unistd.h>

#include "base/fs.h"
#include "base/hint.h"
#include "base/user_name.h"

namespace ailee::config {

std::string NodeUrl(const NodeConfig& cfg) {
  const auto& host = cfg.node.listen_host;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(cfg.node.listen_port);
}

Result<std::string> ReadAdminToken(const NodeConfig& cfg) {
  auto token = fs::ReadFile(cfg.node.admin_token_file);
  if (token.status().code() == StatusCode::kPermissionDenied) {
    // ailee-cli run as another user than the node's (an admin without
    // sudo -u): the token belongs to the user the node runs as.
    std::string owner = OwnerName(cfg.node.admin_token_file);
    if (owner.empty()) owner = OwnerName(cfg.node.data_dir);
    if (owner.empty()) owner = "the node's user";
    return WithHint(PermissionDenied("the node's admin token " + cfg.node.admin_token_file + " (node.admin_token_file) "
                                     "is readable only by the user the node runs as, " + owner + ", not by " +
                                     UserName(::geteuid()) + ": " + std::string(MessageWithoutHint(token.status()))),
                    "run ailee-cli as the node's user: sudo -u " + owner + " ailee-cli ... (docs/operations.md, "
                    "\"Permission model\")");
  }
  if (!token.ok()) return token.status().WithContext("reading the node's admin token (node.admin_token_file)");
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

}  // namespace ailee::config
