// ScopedAuditOp: one audit line per operation, with its duration.
//
//   ScopedAuditOp op(log, "backup", {{"repository", url}});
//   ... op.Touch(snapshot_id);
//   return op.Finish(status);   // appends once; returns `status` unchanged
//
// If Finish is never called (early return, exception), the destructor appends
// the line with result "aborted". A null log makes every call a no-op, so
// operations run the same with auditing off. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "audit/audit_log.h"

namespace ailee::audit {

class ScopedAuditOp {
 public:
  ScopedAuditOp(AuditLog* log, std::string operation, Json args = Json::object());
  ScopedAuditOp(const ScopedAuditOp&) = delete;
  ScopedAuditOp& operator=(const ScopedAuditOp&) = delete;
  ~ScopedAuditOp();

  void Touch(std::string id) { event_.touched.push_back(std::move(id)); }
  void SetMessage(std::string message) { event_.message = std::move(message); }

  // Appends the line (result "ok" or the code name, message defaulting to the
  // status message) and returns `result`. If appending fails, an ok `result`
  // becomes that failure (an unaudited operation is not a clean success);
  // a failed `result` is returned as is. Later calls do nothing.
  Status Finish(const Status& result);

  // The append's outcome after Finish (ok before it).
  const Status& append_status() const { return append_status_; }

 private:
  AuditLog* log_;
  AuditEvent event_;
  int64_t start_nanos_;
  bool finished_ = false;
  Status append_status_;
};

}  // namespace ailee::audit
