#include "node/http_reply.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include "node/node.h"

namespace ailee::node {
namespace {

using nlohmann::json;

bool AdminAuthorized(const httplib::Request& req, const Node& node) {
  std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (auth.size() != prefix.size() + node.admin_token().size() || auth.compare(0, prefix.size(), prefix) != 0)
    return false;
  return CRYPTO_memcmp(auth.data() + prefix.size(), node.admin_token().data(), node.admin_token().size()) == 0;
}

}  // namespace

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    // The client tells these two apart by the body's "code".
    case StatusCode::kAlreadyExists: case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: case StatusCode::kAborted: return 503;
    default: return 500;
  }
}

void Reply(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const Status& st) {
  Reply(res, {{"error", st.message()}, {"code", std::string(StatusCodeName(st.code()))}}, HttpStatusFor(st));
}

bool RequireAdmin(const httplib::Request& req, httplib::Response& res, const Node& node) {
  if (AdminAuthorized(req, node)) return true;
  ReplyError(res, PermissionDenied("admin token missing or wrong (see node.admin_token_file)"));
  return false;
}

std::optional<json> JsonBody(const httplib::Request& req, httplib::Response& res, const char* expected) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_object()) return body;
  ReplyError(res, InvalidArgument(std::string("body: expected JSON ") + expected));
  return std::nullopt;
}

}  // namespace ailee::node
