#include "storage/s3/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ailee::storage::s3 {
namespace {

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->data.size() - up->offset);
  std::memcpy(buffer, up->data.data() + up->offset, n);
  up->offset += n;
  return n;
}

int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* up = static_cast<Upload*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > up->data.size()) return CURL_SEEKFUNC_FAIL;
  up->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// The response being received, and where its body goes.
struct Receiver {
  HttpResponse* resp;
  char* into;        // HttpRequest::body_into
  size_t into_size;
  bool partial = false;  // this response is a 206: its body goes `into`
};

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* rx = static_cast<Receiver*>(userdata);
  const size_t n = size * nmemb;
  if (!rx->partial) {
    rx->resp->body.append(ptr, n);
    return n;
  }
  uint64_t& at = rx->resp->body_into_length;
  if (at < rx->into_size) std::memcpy(rx->into + at, ptr, std::min<uint64_t>(n, rx->into_size - at));
  at += n;
  return n;
}

size_t OnHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* rx = static_cast<Receiver*>(userdata);
  auto* resp = rx->resp;
  std::string_view line(buffer, size * nitems);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after "100 Continue"): forget the previous headers.
    resp->headers.clear();
    auto space = line.find(' ');
    rx->partial = rx->into != nullptr && space != std::string_view::npos && line.substr(space + 1, 3) == "206";
    return size * nitems;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * nitems;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  resp->headers[name] = std::string(value);
  if (name == "content-length" && !rx->partial) {
    // Reserve for whole-object GETs; capped so a lying header cannot make us
    // allocate gigabytes before a byte arrived.
    uint64_t n = std::strtoull(std::string(value).c_str(), nullptr, 10);
    resp->body.reserve(static_cast<size_t>(std::min<uint64_t>(n, uint64_t{256} << 20)));
  }
  return size * nitems;
}

bool Retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

void GlobalInit() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpTransport::HttpTransport() { GlobalInit(); }

HttpTransport::~HttpTransport() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpTransport::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpTransport::Release(void* handle) {
  // Forget options (the secret among them); keep the connection cache.
  curl_easy_reset(static_cast<CURL*>(handle));
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

Result<HttpResponse> HttpTransport::Perform(const HttpRequest& req) {
  CURL* h = static_cast<CURL*>(Acquire());
  if (h == nullptr) return Internal("curl_easy_init failed");
  HttpResponse resp;
  Receiver rx{&resp, req.body_into, req.body_into_size};
  Upload up{req.body, 0};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& hd : req.headers) headers = curl_slist_append(headers, hd.c_str());

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &rx);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &rx);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout_ms));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.stall_timeout_s));
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req.sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, req.user.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, req.password ? req.password->c_str() : "");
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    // A null POSTFIELDS would make curl read the body from stdin.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.empty() ? "" : req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  Release(h);
  if (rc != CURLE_OK) {
    std::string msg = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Retryable(rc) ? Unavailable(msg) : Internal(msg);
  }
  resp.status = status;
  return resp;
}

}  // namespace ailee::storage::s3
