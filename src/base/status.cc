#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace ailee {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string msg = std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: case ENOTDIR: return NotFound(std::move(msg));
    case EEXIST: case ENOTEMPTY: return AlreadyExists(std::move(msg));
    case EACCES: case EPERM: case EROFS: return PermissionDenied(std::move(msg));
    case ENOSPC: case EDQUOT: case EMFILE: case ENFILE: return ResourceExhausted(std::move(msg));
    case EINTR: case EAGAIN: case EBUSY: return Unavailable(std::move(msg));
    case EIO: return DataLoss(std::move(msg));
    case EINVAL: case ENAMETOOLONG: case EISDIR: return InvalidArgument(std::move(msg));
    default: return Internal(std::move(msg));
  }
}

}  // namespace ailee
