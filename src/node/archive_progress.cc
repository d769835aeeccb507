#include "node/archive_progress.h"

#include <string>

namespace ailee::node {

Status ArchiveProgress::Report(uint64_t archived_height, int64_t sealed_at_ms, uint64_t tip, int64_t now_ms) {
  if (archived_height > tip) {
    return InvalidArgument("archived_height " + std::to_string(archived_height) + " is above this node's tip " +
                           std::to_string(tip) + ": the report is of another node's archive, or this node was restored "
                           "to an older state (archive status --node-url names the node the archiver follows)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (last_ && archived_height < last_->archived_height) {
    return InvalidArgument("archived_height " + std::to_string(archived_height) + " is below the last report " +
                           std::to_string(last_->archived_height) +
                           ": an archive never shrinks, so this report is stale or from another archiver");
  }
  last_ = ArchiveReport{archived_height, sealed_at_ms, now_ms};
  return Status::Ok();
}

std::optional<ArchiveReport> ArchiveProgress::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

}  // namespace ailee::node
