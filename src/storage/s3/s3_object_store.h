// S3ObjectStore: the repository on S3-compatible object storage
// (s3://bucket/prefix). Passes the ObjectStore conformance suite against
// real servers (Swift's s3api, Ceph RGW); docs/s3.md is the operator's view.
//
// Objects: key K is the object "PREFIX/K". Put is one PUT up to
// multipart_threshold, else a multipart upload (part_size parts,
// parallel_parts in flight); both are atomic on S3 (the object appears
// whole when the PUT or CompleteMultipartUpload returns) and durable when
// they return. A failed multipart Put aborts its upload; uploads left by a
// killed process are aborted by AbortStaleMultipartUploads, which Open runs
// for uploads older than abort_uploads_older_than_s (default 24 h, longer
// than any live upload can take).
//
// Integrity: Put stores the SHA-256 of the whole object as user metadata
// (x-amz-meta-sha256) and signs the payload hash (x-amz-content-sha256) and
// Content-MD5 so the server rejects a body damaged in transit. Get of a whole
// object checks the body against x-amz-meta-sha256 (or, for objects written
// by other tools, against a single-part MD5 ETag): a mismatch is kDataLoss
// naming the object. GetRange checks the length it got.
//
// PutIfAbsent: "If-None-Match: *" where the server honours it (probed once
// per store: 412 on the second of two conditional PUTs of a probe object);
// otherwise the claim protocol (s3_create.cc): claims are objects
// "PREFIX/K.claims/<128-bit random hex>"; the claimant that lists only its
// own claim and then finds K absent writes K; one that sees a smaller
// claim backs off with kAlreadyExists; the smallest waits for the others
// to withdraw. At most one writer wins given strongly consistent LIST and
// HEAD (true of AWS, Ceph and a single-region Swift). Claims are temporary
// files of this store: List never returns keys with a ".claims/"
// component, and Put refuses such keys (kInvalidArgument).
//
// Object Lock (S3Options::object_lock_mode): Put sends the mode and a
// retain-until date; Open (or the first Put) fails with kFailedPrecondition
// if the bucket has no Object Lock. Delete checks the retention first and
// fails with kFailedPrecondition while it lasts: on a versioned bucket a
// plain DELETE would "succeed" by adding a delete marker and leave the
// locked version behind, which prune must not mistake for a deletion.
//
// Thread-safe; every request retries per S3Options::retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/object_store.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_options.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {

class S3ObjectStore final : public ObjectStore {
 public:
  // Resolves `url` with `defaults` (s3_options.h), then checks the bucket
  // (kNotFound "bucket X does not exist at E", kPermissionDenied with a
  // credentials hint), Object Lock if requested, and aborts stale uploads.
  static Result<std::shared_ptr<S3ObjectStore>> Open(const std::string& url, const S3Options& defaults,
                                                     const EnvLookup& env = ProcessEnv());
  // Without any request: for tests and callers that check later.
  explicit S3ObjectStore(S3Config config);

  std::string Location() const override { return client_.location(); }
  Status Put(const std::string& key, std::string_view data) override;
  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  // Straight into `out` from the socket: no allocation, no copy.
  Status GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out) override;
  Result<uint64_t> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  StoreFeatures Features() const override;
  Result<int64_t> RetainedUntilUnixMs(const std::string& key) override;

  // HEAD bucket: ok, or the clear error Open reports.
  Status CheckBucket();
  // Whether the bucket has Object Lock enabled (GET ?object-lock). Servers
  // without the feature (Swift) answer false. Cached after the first answer.
  Result<bool> ObjectLockEnabled();
  // Aborts multipart uploads under the store's prefix initiated more than
  // `older_than_s` seconds ago (by the server's clock; 0: every pending
  // upload under the prefix); returns how many.
  // Safe while other processes upload only if `older_than_s` exceeds the
  // longest upload (Open uses 24 h). Prune may call it with a shorter age
  // while it holds the exclusive repository lock.
  Result<int> AbortStaleMultipartUploads(int64_t older_than_s);

  const S3Config& config() const { return client_.config(); }

 private:
  Status CheckKey(const std::string& key) const;
  std::vector<std::string> PutHeaders(const std::string& key, const std::string& sha256) const;
  Status EnsureLockReady();
  // Put without the key and lock checks (PutIfAbsent's winner uses it too).
  Status PutObject(const std::string& key, std::string_view data);
  Status PutSingle(const std::string& key, std::string_view data, const std::string& sha256);
  Status PutMultipart(const std::string& key, std::string_view data, const std::string& sha256);
  Status UploadParts(const std::string& key, const std::string& upload_id, std::string_view data,
                     std::vector<std::string>* etags);
  Status VerifyBody(const std::string& key, const HttpResponse& resp);
  // GetRange and GetRangeInto: the bytes go to `into` (`length` of them),
  // or with into == nullptr to `*body`.
  Status ReadRange(const std::string& key, uint64_t offset, uint64_t length, char* into, std::string* body);
  struct Listing {
    std::vector<ListedObject> objects;  // full object names
    int64_t server_now_ms = 0;          // the server's Date, for ages
  };
  Result<Listing> ListRaw(const std::string& object_prefix, std::string_view what);
  // HEAD of an object name: the response, or nullopt if it does not exist.
  Result<std::optional<S3Response>> Head(const std::string& object, std::string_view what);
  int64_t ServerNowMs(const HttpResponse& resp) const;

  // PutIfAbsent (s3_create.cc).
  Result<bool> ConditionalPutSupported();
  Status PutConditional(const std::string& key, std::string_view data);
  Status PutWithClaims(const std::string& key, std::string_view data);
  Status ClaimAndCreate(const std::string& key, std::string_view data, const std::string& claims,
                        const std::string& mine);

  S3Client client_;
  std::atomic<int> conditional_put_{-1};  // -1 unknown, 0 no, 1 yes
  std::mutex probe_mu_;
  std::atomic<int> lock_enabled_{-1};     // -1 unknown, 0 no, 1 yes
  std::atomic<bool> lock_ready_{false};
};

}  // namespace ailee::storage::s3
