// How S3 answers become Status codes, and which answers deserve a retry.
//
//   5xx, 429, SlowDown, RequestTimeout, ...     retried, then kUnavailable
//   404 NoSuchBucket                            kNotFound "bucket X does not exist at E"
//   404 (other)                                 kNotFound
//   403 AccessDenied, SignatureDoesNotMatch,
//       InvalidAccessKeyId, ...                 kPermissionDenied + credentials hint
//   403 InvalidObjectState                      kFailedPrecondition: archived (GLACIER), restore first
//   403 RequestTimeTooSkewed                    kFailedPrecondition: fix the clock
//   301/307 (wrong region)                      kFailedPrecondition + the bucket's region
//   416                                         kInvalidArgument
//   400                                         kInvalidArgument
//   409, 412, 405, 501                          kFailedPrecondition
//   anything else                               kInternal
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/s3/http_transport.h"

namespace ailee::storage::s3 {

struct ErrorContext {
  std::string_view what;      // "get object config"
  std::string_view location;  // "s3://bkt/prefix (endpoint ...)"
  std::string_view bucket;
  std::string_view endpoint;
  std::string_view region;
  std::string_view access_key_id;
  std::string_view credentials_source;
};

// The S3 error code of a response: from its <Error> body, else "" (HEAD
// responses have no body).
std::string ErrorCode(const HttpResponse& resp);

bool IsRetryable(long http_status, const std::string& code);

// The Status for a response that failed for good.
Status MapS3Error(const ErrorContext& ctx, const HttpResponse& resp);

}  // namespace ailee::storage::s3
