#include "node/client.h"

#include <httplib.h>

namespace ailee::node {
namespace {

Status StatusFromHttp(const std::string& url, const std::string& path, const httplib::Result& res) {
  if (!res) {
    return Unavailable("node at " + url + " is not reachable (" + httplib::to_string(res.error()) +
                       " on " + path + ")");
  }
  if (res->status >= 200 && res->status < 300) return Status::Ok();
  std::string detail = res->body;
  std::string code;  // the node's StatusCodeName, when it sent one
  try {
    auto j = nlohmann::json::parse(res->body);
    if (j.contains("error")) detail = j["error"].get<std::string>();
    if (j.contains("code") && j["code"].is_string()) code = j["code"].get<std::string>();
  } catch (...) {
  }
  std::string msg = url + path + " answered HTTP " + std::to_string(res->status) + ": " + detail;
  if (res->status == 404) return NotFound(msg);
  if (res->status == 401 || res->status == 403) return PermissionDenied(msg);
  // 409 is both "exists" and "wrong state" (already halted, a follower).
  if (res->status == 409) return code == "failed precondition" ? FailedPrecondition(msg) : AlreadyExists(msg);
  if (res->status == 503) return Unavailable(msg);
  if (res->status == 429) return ResourceExhausted(msg);  // mempool full: retry after the next block
  if (res->status >= 400 && res->status < 500) return InvalidArgument(msg);
  return Internal(msg);
}

Result<nlohmann::json> ParseBody(const std::string& url, const std::string& path, const std::string& body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const std::exception& e) {
    return Internal(url + path + " returned invalid JSON: " + e.what());
  }
}

}  // namespace

NodeClient::NodeClient(std::string base_url, std::string admin_token, int timeout_ms)
    : base_url_(std::move(base_url)), admin_token_(std::move(admin_token)),
      http_(std::make_unique<httplib::Client>(base_url_)) {
  http_->set_connection_timeout(0, timeout_ms * 1000);
  http_->set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  http_->set_write_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
}

NodeClient::~NodeClient() = default;
NodeClient::NodeClient(NodeClient&&) noexcept = default;
NodeClient& NodeClient::operator=(NodeClient&&) noexcept = default;

Result<nlohmann::json> NodeClient::GetJson(const std::string& path) {
  auto res = http_->Get(path);
  RETURN_IF_ERROR(StatusFromHttp(base_url_, path, res));
  return ParseBody(base_url_, path, res->body);
}

Result<std::string> NodeClient::GetText(const std::string& path) {
  auto res = http_->Get(path);
  RETURN_IF_ERROR(StatusFromHttp(base_url_, path, res));
  return res->body;
}

Result<nlohmann::json> NodeClient::PostJson(const std::string& path, const nlohmann::json& body, bool admin) {
  std::string text;
  try {
    text = body.dump();
  } catch (const nlohmann::json::type_error& e) {
    // Only text that is not UTF-8 (a Latin-1 terminal's --reason) gets here.
    return InvalidArgument("the request to " + base_url_ + path +
                           " holds text that is not valid UTF-8 (write it in UTF-8): " + e.what());
  }
  return PostJsonText(path, text, admin);
}

Result<nlohmann::json> NodeClient::PostJsonText(const std::string& path, const std::string& json_text, bool admin) {
  httplib::Headers headers;
  if (admin) headers.emplace("Authorization", "Bearer " + admin_token_);
  auto res = http_->Post(path, headers, json_text, "application/json");
  RETURN_IF_ERROR(StatusFromHttp(base_url_, path, res));
  return ParseBody(base_url_, path, res->body);
}

}  // namespace ailee::node
