#include "ops/blocks/progress_report.h"

#include <utility>

namespace ailee::ops {

ArchiveProgressReporter::ArchiveProgressReporter(const std::string& node_url, std::string admin_token, LogFn log,
                                                 int64_t interval_ms)
    : enabled_(!admin_token.empty()),
      // Short: a hung node must not hold up the archiving that follows.
      node_(node_url, std::move(admin_token), 2000),
      log_(std::move(log)),
      interval_ms_(interval_ms) {}

void ArchiveProgressReporter::Tick(const std::string& node_id, uint64_t archived_height, int64_t sealed_at_ms,
                                   int64_t now_ms) {
  if (!enabled_ || (reported_ && archived_height == last_height_ && now_ms - last_ms_ < interval_ms_)) return;
  // Whatever the outcome, not again before the interval unless the height moves.
  last_ms_ = now_ms;
  last_height_ = archived_height;
  reported_ = true;
  auto r = node_.PostJson("/v1/admin/archive-progress",
                          {{"node_id", node_id}, {"archived_height", archived_height}, {"sealed_at_ms", sealed_at_ms}},
                          /*admin=*/true);
  if (r.ok()) {
    if (!last_error_.empty() && log_) log_("notice", "the node takes archive progress reports again");
    last_error_.clear();
    return;
  }
  if (r.status().message() != last_error_ && log_) {
    log_("warn", "archive progress not reported to the node (its /metrics shows an older archive height): " +
                     r.status().message());
  }
  last_error_ = r.status().message();
}

}  // namespace ailee::ops
