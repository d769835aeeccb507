// How the node's HTTP handlers answer: a JSON body, a Status mapped to its
// HTTP code ({"error": message, "code": StatusCodeName}), the admin token
// check, a JSON request body. Shared by http_api.cc and emergency_api.cc.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace ailee::node {

class Node;

int HttpStatusFor(const Status& st);
void Reply(httplib::Response& res, const nlohmann::json& body, int status = 200);
void ReplyError(httplib::Response& res, const Status& st);
// Admin endpoints: false (and the 403 sent) without the node's token.
bool RequireAdmin(const httplib::Request& req, httplib::Response& res, const Node& node);
// The request body as a JSON object, or the 400 sent (`expected` shows the shape).
std::optional<nlohmann::json> JsonBody(const httplib::Request& req, httplib::Response& res, const char* expected);

}  // namespace ailee::node
