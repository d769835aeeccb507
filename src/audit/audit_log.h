// The tamper-evident audit log: an append-only file of JSON lines where each
// line holds the SHA-256 of the line before it (format: audit/record.h,
// docs/audit-log.md). Any edit, deletion, insertion or reordering breaks the
// chain; truncation of the tail is caught by comparing with a recorded head
// (each repository snapshot records one).
//
// Appends are crash-safe and safe across processes and threads:
//   open(O_APPEND) -> flock(LOCK_EX) -> read the last line (prev, seq) ->
//   one write(2) of the whole line -> fdatasync -> unlock.
// A crash before fdatasync returns leaves either nothing or a torn last line
// without '\n'. That line was never acknowledged to anyone, so the next
// appender, under the lock, truncates it and first writes an
// "audit.recover" line saying how many bytes it removed (and their SHA-256),
// then its own line. A short write (disk full) is truncated away the same way
// before Append returns its error, so the file never keeps a partial line.
//
// An AuditLog holds no file descriptor between calls: every Append reopens the
// file, so log rotation or a replaced file is picked up. Rotation keeps one
// chain (audit/continuation.h): appenders first lock "<log>.lock", and the
// first line of an empty live file whose predecessor was rotated away is an
// "audit.continue" record whose prev and seq follow that file's last line.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "audit/record.h"
#include "base/clock.h"
#include "base/status.h"
#include "crypto/asymmetric.h"

namespace ailee::audit {

// The last line of a log: its seq and hash. An empty log has seq 0 and a hash
// of 64 zeros (the `prev` the first line will carry).
struct AuditHead {
  uint64_t seq = 0;
  std::string hash = kZeroHash;
  bool operator==(const AuditHead&) const = default;
};

struct AuditLogOptions {
  Clock* clock = &Clock::Real();                       // for "time"; not owned
  std::shared_ptr<const crypto::PrivateKey> signer;    // signs every line when set
  unsigned file_mode = 0640;                           // when the file is created
};

class AuditLog {
 public:
  // Creates the file if missing, and its directory (mode 0750) when only
  // that directory is missing. Otherwise fails naming the directory and the
  // command that creates it (with a hint): kNotFound when its parent is
  // missing too (a typo is not turned into a tree), kPermissionDenied when
  // it cannot be created or written, kFailedPrecondition when something
  // other than a directory is in its place.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, AuditLogOptions options = {});

  // Appends one line and returns the new head once it is durable. Fails with
  // kDataLoss if the last complete line is not a valid record (run
  // `ailee-cli audit verify`); nothing is written then.
  Result<AuditHead> Append(const AuditEvent& event);

  // Called with the new head after each successful Append, once the line is
  // durable and the file lock released (e.g. to record the head in a
  // repository: audit/head_store.h). Set it before the log is shared between
  // threads; it runs on the appending thread.
  void SetAppendObserver(std::function<void(const AuditHead&)> observer) { observer_ = std::move(observer); }

  // The current head (read under a shared lock; a torn tail is ignored). For
  // a live file emptied by a rotation: the rotated file's head.
  Result<AuditHead> Head() const;

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, AuditLogOptions options);
  Result<AuditHead> AppendLocked(const AuditEvent& event);
  std::string path_;
  std::function<void(const AuditHead&)> observer_;
  AuditLogOptions options_;
  Origin origin_;
};

}  // namespace ailee::audit
