// How a tool reaches the node a config describes: its API URL and its admin
// token (node.listen, node.admin_token_file).
#pragma once

#include <string>

#include "base/status.h"
#include "config/config.h"

namespace ailee::config {

// "http://127.0.0.1:8545" from node.listen (IPv6 bracketed).
std::string NodeUrl(const NodeConfig& cfg);
// The admin token from node.admin_token_file, without its line ending.
Result<std::string> ReadAdminToken(const NodeConfig& cfg);

}  // namespace ailee::config
