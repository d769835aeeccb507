#include "storage/s3/s3_client.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "storage/s3/s3_errors.h"
#include "storage/s3/s3_hash.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {
namespace {

int64_t MonoMs(const Clock& c) { return c.MonotonicNanos() / 1000000; }

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(ms) / 1000.0);
  return buf;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

S3Client::S3Client(S3Config config)
    : config_(std::move(config)), clock_(config_.options.clock ? config_.options.clock : &Clock::Real()) {
  location_ = "s3://" + config_.bucket + (config_.prefix.empty() ? "" : "/" + config_.prefix) + " (endpoint " +
              config_.endpoint + ")";
}

std::string S3Client::ObjectName(std::string_view key) const {
  if (config_.prefix.empty()) return std::string(key);
  return config_.prefix + "/" + std::string(key);
}

void S3Client::Sleep(int64_t millis) const {
  if (millis <= 0) return;
  if (config_.options.sleep) {
    config_.options.sleep(millis);
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  }
}

std::string S3Client::Url(const S3Request& req) const {
  std::string url;
  std::string object = UriEncode(req.object, true);
  if (config_.path_style) {
    url = config_.endpoint + "/" + config_.bucket + (object.empty() ? "" : "/" + object);
  } else {
    auto scheme_end = config_.endpoint.find("://") + 3;
    url = config_.endpoint.substr(0, scheme_end) + config_.bucket + "." + config_.endpoint.substr(scheme_end) + "/" +
          object;
  }
  // libcurl 7.88 signs the query string as sent: it must already be the
  // canonical one (encoded, sorted, "name=" for empty values).
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : req.query) q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i) url += (i == 0 ? "?" : "&") + q[i].first + "=" + q[i].second;
  return url;
}

Status S3Client::ErrorFor(const HttpResponse& resp, std::string_view what) const {
  ErrorContext ctx{what,          location_,
                   config_.bucket, config_.endpoint,
                   config_.region, config_.credentials.access_key_id,
                   config_.credentials.source};
  return MapS3Error(ctx, resp);
}

Result<S3Response> S3Client::Attempt(const S3Request& req, const std::string& sha256, const std::string& md5) const {
  HttpRequest h;
  h.method = req.method;
  h.url = Url(req);
  h.headers = req.headers;
  h.headers.push_back("x-amz-content-sha256: " + sha256);
  if (!md5.empty()) h.headers.push_back("content-md5: " + md5);
  if (!config_.credentials.session_token.empty()) {
    h.headers.push_back("x-amz-security-token: " + config_.credentials.session_token.reveal());
  }
  h.body = req.body;
  h.body_into = req.body_into;
  h.body_into_size = req.body_into_size;
  h.sigv4 = "aws:amz:" + config_.region + ":s3";
  h.user = config_.credentials.access_key_id;
  h.password = &config_.credentials.secret_access_key.reveal();
  h.connect_timeout_ms = config_.options.connect_timeout_ms;
  h.timeout_ms = config_.options.request_timeout_ms;
  h.stall_timeout_s = config_.options.stall_timeout_s;
  ASSIGN_OR_RETURN(HttpResponse resp, transport_.Perform(h));
  S3Response out;
  static_cast<HttpResponse&>(out) = std::move(resp);
  return out;
}

Status S3Client::Delete(const std::string& object, std::string_view what, const std::string& upload_id) {
  S3Request req;
  req.method = "DELETE";
  req.object = object;
  if (!upload_id.empty()) req.query = {{"uploadId", upload_id}};
  req.accept = {404};
  return Send(req, what).status();
}

Result<S3Response> S3Client::Send(const S3Request& req, std::string_view what) {
  std::string sha256 = req.body_sha256;
  if (sha256.empty()) {
    ASSIGN_OR_RETURN(sha256, Sha256Hex(req.body));
  }
  std::string md5;
  if (req.content_md5) {
    ASSIGN_OR_RETURN(md5, Md5Base64(req.body));
  }
  const RetryPolicy& policy = config_.options.retry;
  const int64_t start = MonoMs(*clock_);
  Backoff backoff(policy, start);
  std::string last_error;
  for (;;) {
    auto r = Attempt(req, sha256, md5);
    if (r.ok()) {
      r->attempts = backoff.attempts() + 1;
      long status = r->status;
      bool accepted = std::find(req.accept.begin(), req.accept.end(), status) != req.accept.end();
      // CompleteMultipartUpload may answer 200 and put an <Error> in the body.
      auto err_in_200 = status == 200 && req.method == "POST" ? ParseErrorBody(r->body) : std::nullopt;
      if ((status >= 200 && status < 300 && !err_in_200) || accepted) return r;
      std::string code = err_in_200 ? err_in_200->code : ErrorCode(*r);
      if (!IsRetryable(status, code)) {
        if (err_in_200) r->status = 500;  // report it as the failure it is
        return ErrorFor(*r, what);
      }
      auto body = ParseErrorBody(r->body);
      last_error = "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) +
                   (body && !body->message.empty() ? ": " + body->message : "");
    } else if (r.status().code() == StatusCode::kUnavailable) {
      last_error = r.status().message();
    } else {
      return Status(r.status().code(), std::string(what) + " in " + location_ + ": " + r.status().message());
    }
    int64_t now = MonoMs(*clock_);
    int64_t delay = backoff.NextDelayMs(now);
    if (delay < 0) {
      return Unavailable(std::string(what) + " in " + location_ + ": gave up after " +
                         std::to_string(backoff.attempts()) + " attempts in " + Seconds(now - start) +
                         " s (retry limits: " + std::to_string(policy.max_attempts) + " attempts, " +
                         Seconds(policy.budget_ms) + " s); last error: " + last_error);
    }
    Sleep(delay);
  }
}

}  // namespace ailee::storage::s3
