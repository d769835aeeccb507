#include "storage/s3/s3_errors.h"

#include "base/hint.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {

std::string ErrorCode(const HttpResponse& resp) {
  auto err = ParseErrorBody(resp.body);
  return err ? err->code : std::string();
}

bool IsRetryable(long status, const std::string& code) {
  if (status >= 500 && status != 501) return true;
  if (status == 429) return true;
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "Throttling" || code == "ThrottlingException" || code == "RequestThrottled" ||
         code == "ConditionalRequestConflict" || code == "OperationAborted";
}

Status MapS3Error(const ErrorContext& ctx, const HttpResponse& resp) {
  auto body = ParseErrorBody(resp.body);
  std::string code = body ? body->code : "";
  std::string detail = "HTTP " + std::to_string(resp.status) + (code.empty() ? "" : " " + code) +
                       (body && !body->message.empty() ? ": " + body->message : "");
  std::string head = std::string(ctx.what) + " in " + std::string(ctx.location) + ": ";
  std::string bucket(ctx.bucket), endpoint(ctx.endpoint);

  if (code == "NoSuchBucket") {
    return NotFound(head + "bucket " + bucket + " does not exist at " + endpoint + " (" + detail +
                    "); create it first, or check the bucket name and endpoint");
  }
  if (resp.status == 404) return NotFound(head + "not found (" + detail + ")");
  if (code == "InvalidObjectState") {
    return FailedPrecondition(head + "the object is archived (storage class " +
                              (resp.header("x-amz-storage-class").empty() ? std::string("GLACIER or DEEP_ARCHIVE")
                                                                          : resp.header("x-amz-storage-class")) +
                              ") and must be restored before it can be read: request a RestoreObject (aws s3api "
                              "restore-object) and wait for it to finish, which takes hours (" + detail + ")");
  }
  if (code == "RequestTimeTooSkewed") {
    return FailedPrecondition(head + "the server rejects this host's clock (" + detail +
                              "); synchronize the clock (NTP) and retry");
  }
  if (resp.status == 301 || resp.status == 307 || code == "PermanentRedirect" ||
      code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException") {
    std::string other = resp.header("x-amz-bucket-region");
    return FailedPrecondition(head + "bucket " + bucket + " is not served from region " + std::string(ctx.region) +
                              " at " + endpoint + (other.empty() ? "" : " (it is in " + other + ")") + " (" +
                              detail + "); set region= in the URL or AWS_REGION");
  }
  if (resp.status == 403 || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
      code == "AccessDenied") {
    std::string hint;
    if (code == "SignatureDoesNotMatch") {
      hint = "the secret access key does not match the access key id";
    } else if (code == "InvalidAccessKeyId") {
      hint = "the server does not know this access key id";
    } else {
      hint = "the credentials are not allowed to do this (bucket policy, IAM, or wrong keys)";
    }
    return WithHint(PermissionDenied(head + "access denied (" + detail + "): " + hint + "; access key id " +
                            std::string(ctx.access_key_id) + " from " + std::string(ctx.credentials_source) +
                            " (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the shared "
                            "credentials file, see docs/s3.md)"), "check the S3 credentials (AWS_* or backup.s3.credentials_file) and what they may access");
  }
  if (resp.status == 416) return InvalidArgument(head + "range not satisfiable (" + detail + ")");
  if (resp.status == 501) return FailedPrecondition(head + "the server does not implement this (" + detail + ")");
  if (resp.status == 409 || resp.status == 412 || resp.status == 405) {
    return FailedPrecondition(head + detail);
  }
  if (resp.status == 400) return InvalidArgument(head + "request rejected (" + detail + ")");
  return Internal(head + "unexpected answer (" + detail + ")");
}

}  // namespace ailee::storage::s3
