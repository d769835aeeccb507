// S3ObjectStore and Object Lock: detecting it, refusing to run without it
// when immutability was requested, and reading an object's retention.
#include "storage/s3/s3_object_store.h"
#include "storage/s3/s3_errors.h"
#include "storage/s3/s3_time.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {

Result<bool> S3ObjectStore::ObjectLockEnabled() {
  int known = lock_enabled_.load();
  if (known >= 0) return known == 1;
  S3Request req;
  req.query = {{"object-lock", ""}};
  // 404 ObjectLockConfigurationNotFoundError: a bucket without the lock;
  // 400/405/501: a server without the feature.
  req.accept = {400, 404, 405, 501};
  const std::string what = "read Object Lock configuration of bucket " + client_.config().bucket;
  ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, what));
  if (resp.status == 404 && ErrorCode(resp) == "NoSuchBucket") return client_.ErrorFor(resp, what);
  bool enabled = resp.status == 200 && ParseObjectLockEnabled(resp.body);
  lock_enabled_ = enabled ? 1 : 0;
  return enabled;
}

Status S3ObjectStore::EnsureLockReady() {
  const S3Config& c = client_.config();
  const S3Options& o = c.options;
  if (o.object_lock_mode.empty() || lock_ready_.load()) return Status::Ok();
  ASSIGN_OR_RETURN(bool enabled, ObjectLockEnabled());
  if (!enabled) {
    return FailedPrecondition("bucket " + c.bucket + " at " + c.endpoint +
                              " has no Object Lock; immutability was requested (object_lock_mode " +
                              o.object_lock_mode + ", retention_days " + std::to_string(o.retention_days) +
                              "): use a bucket created with Object Lock enabled, or remove the object lock "
                              "settings");
  }
  lock_ready_ = true;
  return Status::Ok();
}

Result<int64_t> S3ObjectStore::RetainedUntilUnixMs(const std::string& key) {
  RETURN_IF_ERROR(CheckKey(key));
  const std::string what = "read retention of object " + key;
  ASSIGN_OR_RETURN(auto head, Head(client_.ObjectName(key), what));
  if (!head) return NotFound(what + " in " + Location() + ": not found");
  std::string v = head->header("x-amz-object-lock-retain-until-date");
  if (v.empty()) return int64_t{0};
  auto ms = ParseIso8601Millis(v);
  if (!ms) return Internal(what + " in " + Location() + ": unreadable retain-until date \"" + v + "\"");
  return *ms;
}

}  // namespace ailee::storage::s3
