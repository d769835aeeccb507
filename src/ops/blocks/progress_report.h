// The archiver's reports to the node it follows: the archived height after
// each seal (POST /v1/admin/archive-progress with the node's admin token),
// which the node exports as ailee_node_archive_* on /metrics
// (docs/metrics.md). The node forgets them when it restarts, so a height is
// also re-reported every `interval_ms` while nothing new is sealed.
//
// A report that fails (node down, wrong token, refused as above the node's
// tip) is logged once per distinct error and never stops the archiver: the
// archive is the job, the report only its gauge.
//
// Not thread-safe: the archiver's loop owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "node/client.h"

namespace ailee::ops {

class ArchiveProgressReporter {
 public:
  using LogFn = std::function<void(const std::string& level, const std::string& line)>;
  // `admin_token` empty: reporting is off (the caller says why, once).
  ArchiveProgressReporter(const std::string& node_url, std::string admin_token, LogFn log, int64_t interval_ms = 5000);

  // Reports when `archived_height` moved since the last report, or the last
  // one is `interval_ms` old.
  void Tick(const std::string& node_id, uint64_t archived_height, int64_t sealed_at_ms, int64_t now_ms);

 private:
  bool enabled_;
  node::NodeClient node_;
  LogFn log_;
  int64_t interval_ms_;
  bool reported_ = false;
  uint64_t last_height_ = 0;
  int64_t last_ms_ = 0;
  std::string last_error_;
};

}  // namespace ailee::ops
