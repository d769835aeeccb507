// What the block archiver last told the node about its progress, for the
// node's /metrics (ailee_node_archive_*). The node never opens the backup
// repository (docs/architecture.md), so `ailee-cli archive run` reports the
// archived height after each seal on the admin API
// (POST /v1/admin/archive-progress) and the node keeps the last report in
// memory only: after a node restart it is unknown until the next report
// (the archiver reports at least every few seconds).
//
// A report never moves the archived height backwards and never claims more
// than the node's tip: both are refused (kInvalidArgument) and leave the
// stored report as it was, so a stale or confused archiver (another node's
// archive, a replayed request) cannot hide a lag.
//
// Thread-safe: HTTP handlers call Report and Get concurrently.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "base/status.h"

namespace ailee::node {

struct ArchiveReport {
  uint64_t archived_height = 0;
  int64_t sealed_at_ms = 0;    // the archiver's clock: when it sealed that height
  int64_t received_at_ms = 0;  // the node's clock: when the report arrived
};

class ArchiveProgress {
 public:
  // `tip` is the node's height now, `now_ms` its clock.
  Status Report(uint64_t archived_height, int64_t sealed_at_ms, uint64_t tip, int64_t now_ms);
  std::optional<ArchiveReport> Get() const;

 private:
  mutable std::mutex mu_;
  std::optional<ArchiveReport> last_;
};

}  // namespace ailee::node
