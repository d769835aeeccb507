#include "storage/s3/s3_object_store.h"

#include <algorithm>
#include <cstring>

#include "storage/s3/s3_hash.h"
#include "storage/s3/s3_time.h"

namespace ailee::storage::s3 {
namespace {

std::string Range(uint64_t offset, uint64_t length) {
  return "[" + std::to_string(offset) + ", +" + std::to_string(length) + ")";
}

// Total size from "Content-Range: bytes 8-9/10" or "bytes */10"; -1 if absent.
int64_t TotalFromContentRange(const std::string& v) {
  auto slash = v.rfind('/');
  if (slash == std::string::npos || slash + 1 >= v.size() || v[slash + 1] == '*') return -1;
  return std::strtoll(v.c_str() + slash + 1, nullptr, 10);
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

bool IsHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

S3ObjectStore::S3ObjectStore(S3Config config) : client_(std::move(config)) {}

Result<std::shared_ptr<S3ObjectStore>> S3ObjectStore::Open(const std::string& url, const S3Options& defaults,
                                                           const EnvLookup& env) {
  ASSIGN_OR_RETURN(S3Config config, ResolveS3Config(url, defaults, env));
  auto store = std::make_shared<S3ObjectStore>(std::move(config));
  const S3Options& o = store->config().options;
  if (o.check_bucket_on_open) RETURN_IF_ERROR(store->CheckBucket());
  RETURN_IF_ERROR(store->EnsureLockReady());
  if (o.abort_uploads_older_than_s > 0) {
    // Housekeeping only: a server or a policy that refuses to list uploads
    // must not stop a backup or a restore.
    (void)store->AbortStaleMultipartUploads(o.abort_uploads_older_than_s);
  }
  return store;
}

int64_t S3ObjectStore::ServerNowMs(const HttpResponse& resp) const {
  auto t = ParseHttpDateMillis(resp.header("date"));
  return t ? *t : client_.clock().NowMillis();
}

Status S3ObjectStore::CheckKey(const std::string& key) const {
  RETURN_IF_ERROR(ValidateKey(key));
  if (key.find(".claims/") != std::string::npos) {
    return InvalidArgument("object key \"" + key + "\": a \".claims\" component is reserved by the S3 store");
  }
  return Status::Ok();
}

Status S3ObjectStore::CheckBucket() {
  const S3Config& c = client_.config();
  S3Request req;
  req.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", client_.ObjectName("")}};
  auto r = client_.Send(req, "open bucket " + c.bucket);
  if (r.ok()) return Status::Ok();
  return r.status();
}

std::vector<std::string> S3ObjectStore::PutHeaders(const std::string& key, const std::string& sha256) const {
  const S3Options& o = client_.config().options;
  std::vector<std::string> h = {"content-type: application/octet-stream", "x-amz-meta-sha256: " + sha256};
  std::string cls = MatchPrefixTable(o.storage_classes, key);
  if (cls.empty()) cls = o.storage_class;
  if (!cls.empty()) h.push_back("x-amz-storage-class: " + cls);
  if (!o.object_lock_mode.empty() && MatchesAnyPrefix(o.lock_prefixes, key)) {
    int64_t until = client_.clock().NowMillis() + int64_t{o.retention_days} * 86400 * 1000;
    h.push_back("x-amz-object-lock-mode: " + o.object_lock_mode);
    h.push_back("x-amz-object-lock-retain-until-date: " + FormatIso8601(until));
  }
  return h;
}

Status S3ObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(CheckKey(key));
  RETURN_IF_ERROR(EnsureLockReady());
  return PutObject(key, data);
}

Status S3ObjectStore::PutObject(const std::string& key, std::string_view data) {
  ASSIGN_OR_RETURN(std::string sha256, Sha256Hex(data));
  if (data.size() > client_.config().options.multipart_threshold) return PutMultipart(key, data, sha256);
  return PutSingle(key, data, sha256);
}

Status S3ObjectStore::PutSingle(const std::string& key, std::string_view data, const std::string& sha256) {
  S3Request req;
  req.method = "PUT";
  req.object = client_.ObjectName(key);
  req.headers = PutHeaders(key, sha256);
  req.body = data;
  req.body_sha256 = sha256;
  req.content_md5 = true;
  return client_.Send(req, "put object " + key).status();
}

Status S3ObjectStore::VerifyBody(const std::string& key, const HttpResponse& resp) {
  std::string expected = resp.header("x-amz-meta-sha256");
  std::string how = "x-amz-meta-sha256";
  std::string actual;
  if (!expected.empty()) {
    ASSIGN_OR_RETURN(actual, Sha256Hex(resp.body));
  } else {
    // Written by another tool: a single-part ETag is the MD5 of the body
    // (a multipart one has "-N" and cannot be checked without the parts).
    expected = Unquote(resp.header("etag"));
    if (expected.size() != 32 || !IsHex(expected)) return Status::Ok();
    how = "ETag (MD5)";
    ASSIGN_OR_RETURN(actual, Md5Hex(resp.body));
  }
  std::transform(expected.begin(), expected.end(), expected.begin(), [](unsigned char c) { return std::tolower(c); });
  if (expected == actual) return Status::Ok();
  return DataLoss("get object " + key + " in " + Location() + ": content does not match its checksum (" + how +
                  " " + expected + ", the " + std::to_string(resp.body.size()) + " bytes read hash to " + actual +
                  "): the stored object is damaged or was replaced");
}

Result<std::string> S3ObjectStore::Get(const std::string& key) {
  RETURN_IF_ERROR(CheckKey(key));
  S3Request req;
  req.object = client_.ObjectName(key);
  ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, "get object " + key));
  RETURN_IF_ERROR(VerifyBody(key, resp));
  return std::move(resp.body);
}

Result<std::string> S3ObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  std::string body;
  RETURN_IF_ERROR(ReadRange(key, offset, length, nullptr, &body));
  return body;
}

Status S3ObjectStore::GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out) {
  return ReadRange(key, offset, length, out, nullptr);
}

Status S3ObjectStore::ReadRange(const std::string& key, uint64_t offset, uint64_t length, char* into,
                                std::string* body) {
  RETURN_IF_ERROR(CheckKey(key));
  const std::string what = "get range " + Range(offset, length) + " of object " + key;
  auto too_far = [&](int64_t size) {
    return InvalidArgument(what + " in " + Location() + ": object has only " + std::to_string(size) + " bytes");
  };
  auto truncated = [&](int64_t size) {
    return DataLoss(what + " in " + Location() + ": object is truncated at " + std::to_string(size) + " bytes");
  };
  if (length == 0) {
    ASSIGN_OR_RETURN(uint64_t size, Stat(key));
    if (offset > size) return too_far(static_cast<int64_t>(size));
    if (body) body->clear();
    return Status::Ok();
  }
  S3Request req;
  req.object = client_.ObjectName(key);
  req.headers = {"range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)};
  req.accept = {416};
  req.body_into = into;
  req.body_into_size = into ? static_cast<size_t>(length) : 0;
  ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, what));
  if (resp.status == 416) {
    int64_t total = TotalFromContentRange(resp.header("content-range"));
    if (total < 0) {
      ASSIGN_OR_RETURN(uint64_t size, Stat(key));
      total = static_cast<int64_t>(size);
    }
    return too_far(total);
  }
  if (resp.status == 200) {
    // The server ignored Range and sent the whole object.
    RETURN_IF_ERROR(VerifyBody(key, resp));
    uint64_t size = resp.body.size();
    if (offset >= size) return too_far(static_cast<int64_t>(size));
    if (offset + length > size) return truncated(static_cast<int64_t>(size));
    if (into) std::memcpy(into, resp.body.data() + offset, length);
    if (body) *body = resp.body.substr(offset, length);
    return Status::Ok();
  }
  const bool in_buffer = into && resp.status == 206;
  const uint64_t got = in_buffer ? resp.body_into_length : resp.body.size();
  if (got != length) {
    int64_t total = TotalFromContentRange(resp.header("content-range"));
    if (got < length) return truncated(total >= 0 ? total : static_cast<int64_t>(offset + got));
    return Internal(what + " in " + Location() + ": server sent " + std::to_string(got) + " bytes");
  }
  if (into && !in_buffer) std::memcpy(into, resp.body.data(), length);
  if (body) *body = std::move(resp.body);
  return Status::Ok();
}

Result<std::optional<S3Response>> S3ObjectStore::Head(const std::string& object, std::string_view what) {
  S3Request req;
  req.method = "HEAD";
  req.object = object;
  req.accept = {404};
  ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, what));
  if (resp.status == 404) return std::optional<S3Response>();
  return std::optional<S3Response>(std::move(resp));
}

Result<uint64_t> S3ObjectStore::Stat(const std::string& key) {
  RETURN_IF_ERROR(CheckKey(key));
  ASSIGN_OR_RETURN(auto head, Head(client_.ObjectName(key), "stat object " + key));
  if (!head) return NotFound("stat object " + key + " in " + Location() + ": not found");
  return static_cast<uint64_t>(std::strtoull(head->header("content-length").c_str(), nullptr, 10));
}

Status S3ObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(CheckKey(key));
  // Unknown (no permission to read the bucket's lock configuration) counts
  // as locked: one HEAD too many is cheaper than a silent delete marker.
  auto lock_enabled = ObjectLockEnabled();
  if (!lock_enabled.ok() || *lock_enabled) {
    ASSIGN_OR_RETURN(auto head, Head(client_.ObjectName(key), "delete object " + key));
    if (!head) return Status::Ok();
    auto until = ParseIso8601Millis(head->header("x-amz-object-lock-retain-until-date"));
    if (until && *until > ServerNowMs(*head)) {
      return FailedPrecondition("delete object " + key + " in " + Location() + ": it is under Object Lock (" +
                                head->header("x-amz-object-lock-mode") + ") until " + FormatIso8601(*until) +
                                " and cannot be deleted before then");
    }
  }
  return client_.Delete(client_.ObjectName(key), "delete object " + key);
}

Result<S3ObjectStore::Listing> S3ObjectStore::ListRaw(const std::string& object_prefix, std::string_view what) {
  Listing out;
  std::string token;
  do {
    S3Request req;
    req.query = {{"list-type", "2"}, {"prefix", object_prefix}};
    if (int n = client_.config().options.list_page_size; n != 1000) req.query.emplace_back("max-keys", std::to_string(n));
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, what));
    auto page = ParseListObjectsV2(resp.body);
    if (!page.ok()) return page.status().WithContext(std::string(what) + " in " + Location());
    out.server_now_ms = ServerNowMs(resp);
    for (auto& o : page->objects) out.objects.push_back(std::move(o));
    if (page->truncated && page->next_continuation_token.empty()) {
      return Internal(std::string(what) + " in " + Location() + ": truncated listing without a continuation token");
    }
    token = page->truncated ? page->next_continuation_token : "";
  } while (!token.empty());
  return out;
}

Result<std::vector<ObjectInfo>> S3ObjectStore::List(const std::string& prefix) {
  const std::string base = client_.ObjectName("");
  ASSIGN_OR_RETURN(Listing listing, ListRaw(base + prefix, "list objects " + prefix + "*"));
  std::vector<ObjectInfo> out;
  for (auto& o : listing.objects) {
    if (o.key.compare(0, base.size(), base) != 0) continue;
    std::string key = o.key.substr(base.size());
    // Claims and anything this store could not have written (folder
    // markers "dir/", keys other tools made) are not objects of the store.
    if (!CheckKey(key).ok()) continue;
    out.push_back({std::move(key), o.size});
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

StoreFeatures S3ObjectStore::Features() const {
  StoreFeatures f;
  f.atomic_create = true;
  f.object_lock = !client_.config().options.object_lock_mode.empty() && lock_enabled_.load() == 1;
  f.puts_in_flight = client_.config().options.parallel_uploads;
  return f;
}

}  // namespace ailee::storage::s3
