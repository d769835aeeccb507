// Status and Result<T>: errors carried as values.
//
// A Status has a code that drives decisions (retry? data loss? bad input?)
// and a message with context: what was attempted, on what, expected versus
// found. Functions that can fail return Status or Result<T>; nothing below
// the CLI throws across a layer boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ailee {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; retrying will not help
  kNotFound,           // the named thing does not exist
  kAlreadyExists,      // refusing to overwrite something that exists
  kDataLoss,           // stored data is damaged, missing or forged
  kUnavailable,        // transient: retry may succeed (network, busy lock)
  kPermissionDenied,   // OS permission, or a wrong passphrase/credential
  kFailedPrecondition, // the system is not in a state for this operation
  kResourceExhausted,  // disk full, quota
  kAborted,            // lost a race (concurrent writer, lock held)
  kInternal,           // a bug or an unexpected library failure
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prepends context ("while restoring snapshot ab12: ") to the message.
  Status WithContext(std::string_view context) const;
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Maps an errno value to a Status code with "op path: strerror" as message.
Status ErrnoStatus(std::string_view op, std::string_view path, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ailee

#define AILEE_CONCAT_INNER(a, b) a##b
#define AILEE_CONCAT(a, b) AILEE_CONCAT_INNER(a, b)

// Returns early from the enclosing function when `expr` is not ok.
#define RETURN_IF_ERROR(expr)                     \
  do {                                            \
    ::ailee::Status _ailee_st = (expr);           \
    if (!_ailee_st.ok()) return _ailee_st;        \
  } while (0)

// Declares `lhs` from a Result<T> expression, or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(AILEE_CONCAT(_ailee_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
