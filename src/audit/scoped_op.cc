#include "audit/scoped_op.h"

namespace ailee::audit {
namespace {
// Durations come from the monotonic clock: wall-clock jumps must not show up
// as negative or huge durations in the trail.
int64_t NowNanos() { return Clock::Real().MonotonicNanos(); }
}  // namespace

ScopedAuditOp::ScopedAuditOp(AuditLog* log, std::string operation, Json args)
    : log_(log), start_nanos_(NowNanos()) {
  event_.operation = std::move(operation);
  event_.args = std::move(args);
}

ScopedAuditOp::~ScopedAuditOp() {
  if (!finished_ && log_ != nullptr) {
    (void)Finish(Status(StatusCode::kAborted, "operation ended without reporting a result"));
  }
}

Status ScopedAuditOp::Finish(const Status& result) {
  if (finished_ || log_ == nullptr) return result;
  finished_ = true;
  event_.duration_ms = (NowNanos() - start_nanos_) / 1000000;
  event_.result = ResultName(result);
  if (event_.message.empty()) event_.message = result.message();
  auto head = log_->Append(event_);
  if (!head.ok()) {
    append_status_ = head.status();
    if (result.ok()) return head.status().WithContext("operation succeeded but its audit line was not written");
  }
  return result;
}

}  // namespace ailee::audit
