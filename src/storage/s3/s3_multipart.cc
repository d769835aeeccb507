// S3ObjectStore's multipart uploads: Put of a large object in parts, and
// the cleanup of uploads that a killed process left behind.
#include <algorithm>

#include "base/parallel.h"
#include "storage/s3/s3_hash.h"
#include "storage/s3/s3_object_store.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {
namespace {

constexpr uint64_t kMaxParts = 10000;  // S3's limit per upload

}  // namespace

Status S3ObjectStore::UploadParts(const std::string& key, const std::string& upload_id, std::string_view data,
                                  std::vector<std::string>* etags) {
  const S3Options& o = client_.config().options;
  const uint64_t part_size = std::max<uint64_t>(o.part_size, (data.size() + kMaxParts - 1) / kMaxParts);
  const size_t parts = static_cast<size_t>((data.size() + part_size - 1) / part_size);
  etags->assign(parts, "");
  return ParallelFor(parts, o.parallel_parts, [&](size_t i, int) {
    S3Request req;
    req.method = "PUT";
    req.object = client_.ObjectName(key);
    req.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}};
    req.body = data.substr(i * part_size, part_size);
    req.content_md5 = true;
    auto r = client_.Send(req, "put object " + key + " (part " + std::to_string(i + 1) + " of " +
                                   std::to_string(parts) + ")");
    if (!r.ok()) return r.status();
    if (r->header("etag").empty()) {
      return Internal("put object " + key + " (part " + std::to_string(i + 1) + ") in " + Location() +
                      ": the server returned no ETag");
    }
    (*etags)[i] = r->header("etag");
    return Status::Ok();
  });
}

Status S3ObjectStore::PutMultipart(const std::string& key, std::string_view data, const std::string& sha256) {
  const std::string what = "put object " + key + " (multipart)";
  const std::string object = client_.ObjectName(key);
  S3Request init;
  init.method = "POST";
  init.object = object;
  init.query = {{"uploads", ""}};
  init.headers = PutHeaders(key, sha256);
  ASSIGN_OR_RETURN(S3Response started, client_.Send(init, what));
  auto upload_id = ParseInitiateMultipartUpload(started.body);
  if (!upload_id.ok()) return upload_id.status().WithContext(what + " in " + Location());

  auto abort = [&](Status failure) {
    Status st = client_.Delete(object, "abort upload of object " + key, *upload_id);
    if (st.ok()) return failure;
    return Status(failure.code(), failure.message() + " (aborting the upload failed too: " + st.message() +
                                      "; AbortStaleMultipartUploads will remove it)");
  };

  std::vector<std::string> etags;
  Status parts = UploadParts(key, *upload_id, data, &etags);
  if (!parts.ok()) return abort(parts);

  std::string xml = BuildCompleteMultipartUpload(etags);
  S3Request done;
  done.method = "POST";
  done.object = object;
  done.query = {{"uploadId", *upload_id}};
  done.headers = {"content-type: application/xml"};
  done.body = xml;
  done.content_md5 = true;
  done.accept = {404};
  auto r = client_.Send(done, what);
  if (!r.ok()) return abort(r.status());
  if (r->status == 404) {
    // NoSuchUpload after a retry: the first CompleteMultipartUpload may
    // have succeeded and only its answer was lost. The object says.
    if (r->attempts > 1) {
      auto head = Head(object, what);
      if (head.ok() && *head && (*head)->header("x-amz-meta-sha256") == sha256) return Status::Ok();
    }
    return abort(client_.ErrorFor(*r, what));
  }
  return Status::Ok();
}

Result<int> S3ObjectStore::AbortStaleMultipartUploads(int64_t older_than_s) {
  const std::string prefix = client_.ObjectName("");
  int aborted = 0;
  std::string key_marker, id_marker;
  for (;;) {
    S3Request req;
    req.query = {{"uploads", ""}, {"prefix", prefix}};
    if (!key_marker.empty()) req.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) req.query.emplace_back("upload-id-marker", id_marker);
    ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, "list multipart uploads"));
    auto page = ParseListMultipartUploads(resp.body);
    if (!page.ok()) return page.status().WithContext("list multipart uploads in " + Location());
    const int64_t now = ServerNowMs(resp);
    for (const auto& u : page->uploads) {
      // Servers round Initiated up to the second: with a zero age every
      // upload counts as stale, whatever the clocks say.
      if (older_than_s > 0 && (u.initiated_ms <= 0 || now - u.initiated_ms < older_than_s * 1000)) continue;
      RETURN_IF_ERROR(client_.Delete(u.key, "abort stale upload of object " + u.key, u.upload_id));
      ++aborted;
    }
    if (!page->truncated || page->next_key_marker.empty()) break;
    key_marker = page->next_key_marker;
    id_marker = page->next_upload_id_marker;
  }
  return aborted;
}

}  // namespace ailee::storage::s3
