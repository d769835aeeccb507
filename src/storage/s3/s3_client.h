// S3Client: one S3 request against one bucket, signed, retried and turned
// into a Status with context. Knows the REST protocol's envelope (URLs,
// signing headers, error documents), not what the requests mean.
//
// Every message names what was done, to which key, the bucket and the
// endpoint, e.g. "get object config in s3://bkt/repo (endpoint
// http://127.0.0.1:9000): not found (HTTP 404 NoSuchKey)". Messages never
// contain the secret key, the session token or a signature.
//
// Thread-safe: requests may be sent from many threads at once.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/s3/http_transport.h"
#include "storage/s3/s3_options.h"

namespace ailee::storage::s3 {

struct S3Request {
  std::string method = "GET";
  std::string object;  // full object name in the bucket; empty: the bucket
  std::vector<std::pair<std::string, std::string>> query;  // raw; encoded and sorted here
  std::vector<std::string> headers;  // "name: value", never empty values
  std::string_view body;
  bool content_md5 = false;   // send Content-MD5 (PUT, parts, Object Lock, DeleteObjects)
  std::string body_sha256;    // hex of `body`, if the caller has it already
  std::vector<long> accept;   // non-2xx statuses returned as responses (404 on DELETE, ...)
  // A ranged GET's 206 body goes here (HttpRequest::body_into); every
  // attempt writes it from the start.
  char* body_into = nullptr;
  size_t body_into_size = 0;
};

struct S3Response : HttpResponse {
  int attempts = 1;  // > 1: an earlier attempt may have taken effect
};

class S3Client {
 public:
  explicit S3Client(S3Config config);

  // Sends `req` with retries. A 2xx or accepted status is a response; any
  // other status is a Status mapped from the HTTP status and the S3 error
  // code (see docs/s3.md); `what` starts the message ("put object config").
  Result<S3Response> Send(const S3Request& req, std::string_view what);

  // DELETE of an object name, or with `upload_id` the abort of that
  // multipart upload. Idempotent: 404 is success.
  Status Delete(const std::string& object, std::string_view what, const std::string& upload_id = "");

  const S3Config& config() const { return config_; }
  // "s3://bucket/prefix (endpoint URL)": the store's Location().
  const std::string& location() const { return location_; }
  // The object name for a store key: "prefix/key" (or "key").
  std::string ObjectName(std::string_view key) const;
  const Clock& clock() const { return *clock_; }
  void Sleep(int64_t millis) const;

  // Status for a final response that is not a success, e.g. to report an
  // accepted status that the caller could not use after all.
  Status ErrorFor(const HttpResponse& resp, std::string_view what) const;

 private:
  std::string Url(const S3Request& req) const;
  Result<S3Response> Attempt(const S3Request& req, const std::string& sha256, const std::string& md5) const;

  S3Config config_;
  std::string location_;
  const Clock* clock_;
  mutable HttpTransport transport_;
};

// AWS URI encoding: everything but A-Z a-z 0-9 - . _ ~ becomes %XX; '/'
// too unless `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace ailee::storage::s3
