// HTTP client for a node's API, used by ailee-cli (health-check, sync-status,
// create-checkpoint), by followers and by the load generator.
// Not thread-safe: use one client per thread.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace httplib { class Client; }

namespace ailee::node {

class NodeClient {
 public:
  // `base_url` like "http://127.0.0.1:8545". `admin_token` is sent as a
  // bearer token on admin calls only.
  explicit NodeClient(std::string base_url, std::string admin_token = "", int timeout_ms = 10000);
  ~NodeClient();
  NodeClient(NodeClient&&) noexcept;
  NodeClient& operator=(NodeClient&&) noexcept;

  const std::string& url() const { return base_url_; }

  // Unreachable node -> kUnavailable; HTTP 4xx -> kInvalidArgument/kNotFound/
  // kPermissionDenied/kAlreadyExists (409; kFailedPrecondition when the body's
  // code says "failed precondition") with the server's error text; 503 ->
  // kUnavailable; other 5xx -> kInternal.
  Result<nlohmann::json> GetJson(const std::string& path);
  Result<nlohmann::json> PostJson(const std::string& path, const nlohmann::json& body, bool admin = false);
  // PostJson with a body already serialized (the load generator serializes
  // its requests before it starts the clock).
  Result<nlohmann::json> PostJsonText(const std::string& path, const std::string& json_text, bool admin = false);
  Result<std::string> GetText(const std::string& path);

 private:
  std::string base_url_;
  std::string admin_token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace ailee::node
