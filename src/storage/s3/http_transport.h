// One HTTP exchange through a libcurl easy handle, signed with libcurl's
// built-in AWS SigV4 (CURLOPT_AWS_SIGV4). No retries here: s3_client.h
// decides what to retry.
//
// Signing notes (libcurl 7.88): curl signs every header we pass plus host
// and x-amz-date, takes the payload hash from our x-amz-content-sha256
// header, and uses the URL path and query verbatim as the canonical URI and
// query string. The caller therefore passes a path already URI-encoded the
// AWS way and a query already in canonical form (sorted, encoded, "k=v"
// even for empty values), and never passes an empty header ("Expect:").
//
// Thread-safe: handles come from a pool, one per transfer in flight; a
// returned handle keeps its connection for reuse.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::storage::s3 {

struct HttpRequest {
  std::string method;                // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // canonical path and query, see above
  std::vector<std::string> headers;  // "name: value"
  std::string_view body;             // sent for PUT and POST
  std::string sigv4;                 // "aws:amz:REGION:s3"
  std::string user;                  // access key id
  const std::string* password = nullptr;  // secret key (not copied by us)
  int64_t connect_timeout_ms = 10000;
  int64_t timeout_ms = 0;            // 0: none
  int64_t stall_timeout_s = 60;      // abort when no byte moves for this long
  // Where a 206 (Partial Content) body goes instead of HttpResponse::body:
  // the caller's `body_into_size` bytes (a ranged GET into a reused buffer,
  // no allocation or copy). Bytes beyond them are counted, not written.
  char* body_into = nullptr;
  size_t body_into_size = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // With HttpRequest::body_into and status 206: the body's length (it is
  // at body_into when <= body_into_size); body stays empty.
  uint64_t body_into_length = 0;
  std::string header(const std::string& lower_name) const;
};

class HttpTransport {
 public:
  HttpTransport();
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Any HTTP status is a response. A transport failure is a Status: code
  // kUnavailable when another attempt may succeed (refused, reset, timeout,
  // DNS), kInternal otherwise; the message is curl's, without secrets.
  Result<HttpResponse> Perform(const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;
};

}  // namespace ailee::storage::s3
