// Settings of an S3 repository: S3Options (what the node config can set),
// the URL that names the bucket, and their resolution into an S3Config.
//
// URL: s3://BUCKET[/PREFIX][?NAME=VALUE&...]. Query names (all optional,
// none secret; an unknown name is kInvalidArgument):
//   endpoint=http://127.0.0.1:9000   region=us-east-1   path_style=1|0
//   profile=NAME                     storage_class=STANDARD_IA
//   storage_class.NAME=CLASS         (keys NAME and NAME/..., e.g. .data=GLACIER)
//   put_if_absent=auto|conditional|claims
// Precedence for every setting: URL, then S3Options (node config), then the
// AWS environment (AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL, AWS_PROFILE), then the default. Credentials: see
// s3_credentials.h; they are never taken from the URL.
// docs/s3.md documents every option.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_credentials.h"

namespace ailee::storage::s3 {

// How PutIfAbsent makes "create only if absent" atomic.
enum class CreateMode {
  kAuto,         // probe once whether the server honours If-None-Match: *, else claims
  kConditional,  // PUT with If-None-Match: * (AWS since 2024, Ceph RGW, MinIO)
  kClaims,       // the claim protocol (Swift answers 501 to conditional PUTs)
};

struct S3Options {
  // Where.
  std::string endpoint;           // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region;             // SigV4 region; default us-east-1
  std::optional<bool> path_style; // default: true for a custom endpoint, false on AWS
  std::string profile;            // credentials profile (explicit: only that profile is used)
  std::string credentials_file;   // AWS shared-credentials file

  // Storage classes (x-amz-storage-class). `storage_class` applies to every
  // key; `storage_classes` overrides it per key prefix. An entry "data/"
  // (ending in '/') matches keys that start with it; an entry "config" (no
  // trailing '/') matches the key "config" and keys below "config/". The
  // longest matching entry wins. Empty: the bucket's default (STANDARD).
  std::string storage_class;
  std::map<std::string, std::string> storage_classes;

  // Object Lock: when `object_lock_mode` is set, Put sends mode and a
  // retain-until date `retention_days` ahead for keys under `lock_prefixes`
  // (same matching as storage_classes; empty = every key). Opening fails
  // with kFailedPrecondition if the bucket has no Object Lock.
  std::string object_lock_mode;  // "", "GOVERNANCE" or "COMPLIANCE"
  int retention_days = 0;
  std::vector<std::string> lock_prefixes;

  // Transfers.
  // Larger objects use multipart upload. Above the repository's 32 MiB
  // packs: on Swift and Ceph a multipart object is a manifest over segments,
  // which costs the server work on every ranged read of it (measured on
  // Swift, 1 GiB: restore 5.1 s with single-PUT packs, 7.7 s with 16 MiB
  // multipart); parallel_uploads keeps several packs in flight instead.
  uint64_t multipart_threshold = 64 << 20;
  uint64_t part_size = 8 << 20;             // AWS needs >= 5 MiB except the last part
  int parallel_parts = 4;                   // parts in flight per Put
  int parallel_uploads = 4;                 // Puts a backup keeps in flight (StoreFeatures::puts_in_flight)
  int list_page_size = 1000;                // keys per ListObjectsV2 page (S3's maximum)
  CreateMode put_if_absent = CreateMode::kAuto;

  // Network and retries (every request; see retry_policy.h).
  RetryPolicy retry;
  int64_t connect_timeout_ms = 10000;
  int64_t request_timeout_ms = 0;       // whole request; 0 = no limit (large parts)
  int64_t stall_timeout_s = 60;         // abort a transfer that moves no byte for this long

  // Housekeeping on open.
  bool check_bucket_on_open = true;                // HEAD the bucket: clear error if missing
  int64_t abort_uploads_older_than_s = 24 * 3600;  // abort stale multipart uploads; 0 = never
  int64_t claim_stale_after_ms = 10 * 60 * 1000;   // claims older than this are abandoned

  // Seams for tests: the clock for retention dates and retry budgets, and
  // how to wait between retries. nullptr / empty = the real ones.
  const Clock* clock = nullptr;
  std::function<void(int64_t millis)> sleep;
};

// Everything needed to talk to one bucket, after resolution.
struct S3Config {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'; may be empty
  std::string endpoint;  // scheme://host[:port], no trailing '/'
  std::string region;
  bool path_style = true;
  S3Options options;  // with URL overrides applied
  S3Credentials credentials;
};

// Parses the URL, applies precedence, resolves credentials. Does no I/O
// except reading the credentials file.
Result<S3Config> ResolveS3Config(const std::string& url, const S3Options& defaults,
                                 const EnvLookup& env = ProcessEnv());

// The entry of `table` matching `key` by the rules above ("" if none).
std::string MatchPrefixTable(const std::map<std::string, std::string>& table, const std::string& key);
bool MatchesAnyPrefix(const std::vector<std::string>& prefixes, const std::string& key);

}  // namespace ailee::storage::s3
