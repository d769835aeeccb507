// The S3 XML documents the store reads and writes: error bodies,
// ListObjectsV2 and ListMultipartUploads pages, multipart initiate/complete,
// and the bucket's Object Lock configuration. Parsers ignore elements they do
// not know and namespaces; a body that is not the expected document is
// kInternal with its first bytes in the message (servers differ: a Swift
// proxy may answer with HTML).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::storage::s3 {

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SlowDown", ...
  std::string message;  // human text from the server
};
// nullopt unless `body` is an <Error> document.
std::optional<S3ErrorBody> ParseErrorBody(std::string_view body);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;  // 0 if missing or unparsable
};
struct ListPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListPage> ParseListObjectsV2(std::string_view body);

struct PendingUpload {
  std::string key;
  std::string upload_id;
  int64_t initiated_ms = 0;
};
struct UploadsPage {
  std::vector<PendingUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
Result<UploadsPage> ParseListMultipartUploads(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// True iff `body` is an ObjectLockConfiguration with ObjectLockEnabled =
// Enabled. Any other document (some servers ignore ?object-lock and answer
// with a bucket listing) is false.
bool ParseObjectLockEnabled(std::string_view body);

// <CompleteMultipartUpload> for parts 1..n with these ETags (quotes kept).
std::string BuildCompleteMultipartUpload(const std::vector<std::string>& etags);

}  // namespace ailee::storage::s3
