// The archiver: follows a node like a follower does (GET /v1/status and
// /v1/blocks from its HTTP API) and appends every block it commits to the
// repository's block archive (repo/block_archive.h) in sealed segments.
//
// Sealing: a segment is sealed when `seal_blocks` blocks are pending or the
// oldest pending block has waited `seal_interval_ms` (default: the node's
// block interval), so with the default config every block is in the
// repository within about one block interval (RPO <= 1 block).
//
// Crash safety (kill -9 at any point): the repository is the truth. On start
// the archiver reads the archive's last height and continues at the next
// one. A sealed segment is first written durably to the local buffer dir
// (<buffer_dir>/<node_id>/*.seg), then appended to the repository, then
// removed from the buffer; a restart uploads what the buffer still holds
// (and drops what the repository already has). Blocks fetched but not sealed
// are simply fetched again. So no block is skipped or archived twice.
//
// The repository unreachable: segments stay in the buffer (bounded by
// buffer_limit_bytes; when it is full the archiver stops fetching, the node
// keeps its blocks) with an alarm in the log and in status.json in the
// buffer dir; they are uploaded in order once the repository answers.
//
// A block that does not link to the last archived one (the node was restored
// to another chain, or forked) stops the archiver with kFailedPrecondition:
// it never archives a second chain under one node id.
//
// Progress: after each seal (and every few seconds meanwhile) the archived
// height is reported to the node (ops/blocks/progress_report.h) when
// `admin_token` is set; the node exports it on /metrics.
//
// One archiver per node id and repository: a second one with the same
// buffer dir is refused by the buffer's lock; one with another buffer dir or
// on another host stops with kFailedPrecondition at its first segment that
// overlaps one already written (repo::AppendBlockSegment re-lists first).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "repo/repository.h"

namespace ailee::ops {

struct ArchiverOptions {
  std::string node_url;               // the node's API, e.g. http://127.0.0.1:8545
  std::string admin_token;            // the node's; empty: progress is not reported to the node
  std::string buffer_dir;             // local buffer; must survive restarts (not the node's data dir)
  uint64_t seal_blocks = 100;         // N: seal at this many pending blocks
  int64_t seal_interval_ms = 1000;    // T: seal when the oldest pending block waited this long
  uint64_t buffer_limit_bytes = 256ull << 20;
  int64_t poll_interval_ms = 100;     // between polls when the node has nothing new
  bool once = false;                  // archive what the node has now, then return
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGTERM): seal what is pending and return
  // Levels: "info" (progress), "notice" (an alarm cleared), "warn", "error" (an alarm).
  std::function<void(const std::string& level, const std::string& line)> log;
};

struct ArchiverResult {
  std::string node_id;
  uint64_t archived_height = 0;  // the repository's last archived height at the end
  uint64_t blocks_archived = 0;  // by this run
  uint64_t segments_written = 0;
  uint64_t buffered_segments = 0;  // still in the local buffer at the end
};

Result<ArchiverResult> RunArchiver(repo::Repository& repo, const ArchiverOptions& options);

// `archive status`: the repository's archive of the node at `node_url`
// against the node's tip and the local buffer. The node unreachable is not
// an error (node_height is then absent).
struct ArchiveStatus {
  std::string node_id;
  uint64_t archived_height = 0;
  int64_t archived_time_ms = 0;
  uint64_t segments = 0;
  bool node_reachable = false;
  uint64_t node_height = 0;
  uint64_t lag_blocks = 0;
  uint64_t buffered_segments = 0;
  uint64_t buffered_bytes = 0;
  std::string alarm;  // empty when healthy; what the running archiver last reported otherwise
  nlohmann::json ToJson() const;
};
// `node_id` empty: asked of the node.
Result<ArchiveStatus> GetArchiveStatus(const repo::Repository& repo, const std::string& node_url,
                                       const std::string& buffer_dir, std::string node_id);

}  // namespace ailee::ops
