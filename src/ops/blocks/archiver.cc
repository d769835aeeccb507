#include "ops/blocks/archiver.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/hex.h"
#include "node/client.h"
#include "ops/blocks/archive_buffer.h"
#include "ops/blocks/progress_report.h"
#include "repo/block_archive.h"
#include "repo/ids.h"

namespace ailee::ops {
namespace {

constexpr uint64_t kFetchLimit = 200;

// A segment in the local buffer and the hash of its last block.
struct Buffered {
  repo::BlockSegmentName name;
  crypto::Hash256 last_hash{};
};

class Archiver {
 public:
  Archiver(repo::Repository& repo, const ArchiverOptions& o)
      : repo_(repo), o_(o), node_(o.node_url, "", 10000), progress_(o.node_url, o.admin_token, o.log) {}

  Result<ArchiverResult> Run() {
    RETURN_IF_ERROR(Start());
    int64_t backoff_ms = o_.poll_interval_ms;
    for (;;) {
      if (Stopping()) break;
      uint64_t fetched = 0, tip = 0;
      Status st = Fetch(&fetched, &tip);
      if (!st.ok()) {
        if (st.code() == StatusCode::kFailedPrecondition || st.code() == StatusCode::kDataLoss || o_.once) return st;
        Log("warn", "node " + o_.node_url + ": " + st.message());
      }
      if (!pending_.empty() && (pending_.size() >= o_.seal_blocks || Now() - pending_since_ms_ >= o_.seal_interval_ms ||
                                o_.once)) {
        RETURN_IF_ERROR(Seal());
      }
      RETURN_IF_ERROR(Flush());
      WriteStatus(false);
      progress_.Tick(node_id_, tail_.height, archived_at_ms_, Now());
      if (o_.once && st.ok() && next_ > tip) break;
      if (fetched == 0) {
        if (!SleepMs(st.ok() && alarm_.empty() ? o_.poll_interval_ms : backoff_ms)) break;
        backoff_ms = std::min<int64_t>(std::max<int64_t>(backoff_ms * 2, 100), 2000);
      } else {
        backoff_ms = o_.poll_interval_ms;
      }
    }
    // Stopping (or --once): what was fetched is sealed and handed on.
    if (!pending_.empty()) RETURN_IF_ERROR(Seal());
    RETURN_IF_ERROR(Flush());
    WriteStatus(true);
    progress_.Tick(node_id_, tail_.height, archived_at_ms_, Now());
    result_.archived_height = tail_.height;
    result_.buffered_segments = buffered_.size();
    if (o_.once && !buffered_.empty()) {
      return Unavailable("the repository did not take " + std::to_string(buffered_.size()) +
                         " sealed segment(s); they stay in " + buffer_->dir() + " for the next run: " + alarm_);
    }
    return result_;
  }

 private:
  int64_t Now() const { return Clock::Real().NowMillis(); }
  bool Stopping() const { return o_.stop && o_.stop->load(); }
  void Log(const std::string& level, const std::string& line) const {
    if (o_.log) o_.log(level, line);
  }
  // Sleeps in small steps so a stop request is seen; false when stopping.
  bool SleepMs(int64_t ms) const {
    for (int64_t slept = 0; slept < ms; slept += 20) {
      if (Stopping()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, ms - slept)));
    }
    return !Stopping();
  }

  // Retries `fn` while the node or repository is unreachable (not in --once).
  template <typename Fn>
  auto Retrying(const std::string& what, Fn fn) -> decltype(fn()) {
    for (int64_t backoff = 200;; backoff = std::min<int64_t>(backoff * 2, 5000)) {
      auto r = fn();
      if (r.ok() || r.status().code() != StatusCode::kUnavailable || o_.once || Stopping()) return r;
      Log("warn", what + ": " + r.status().message() + "; retrying");
      SleepMs(backoff);
    }
  }

  Status Start() {
    ASSIGN_OR_RETURN(nlohmann::json status, Retrying("node " + o_.node_url, [&] { return node_.GetJson("/v1/status"); }));
    node_id_ = status.value("node_id", "");
    if (node_id_.empty()) return DataLoss("node " + o_.node_url + " reports no node_id in /v1/status");
    result_.node_id = node_id_;
    buffer_ = std::make_unique<ArchiveBuffer>(o_.buffer_dir, node_id_);
    RETURN_IF_ERROR(buffer_->LockForArchiver());
    ASSIGN_OR_RETURN(tail_, Retrying("repository " + repo_.Location(), [&]() -> Result<repo::BlockArchiveTail> {
      // An absent repository would list as an empty archive: start at 1 over it.
      ASSIGN_OR_RETURN(bool present, repo_.store().Exists(repo::ConfigKey()));
      if (!present) return Unavailable("its config is missing: unmounted or moved?");
      return repo::ReadBlockArchiveTail(repo_, node_id_);
    }));
    chain_id_ = tail_.chain_id;
    next_ = tail_.height + 1;
    last_hash_ = tail_.block_hash;
    RETURN_IF_ERROR(AdoptBuffer());
    Log("info", "archiving node " + node_id_ + " from " + o_.node_url + " into " + repo_.Location() +
                    ": archive ends at height " + std::to_string(tail_.height) +
                    (buffered_.empty() ? "" : ", " + std::to_string(buffered_.size()) + " segment(s) buffered"));
    return Flush();
  }

  // What a previous run left in the buffer: segments the repository already
  // has are dropped; the rest must continue the archive one after another.
  Status AdoptBuffer() {
    ASSIGN_OR_RETURN(auto names, buffer_->List());
    for (const auto& name : names) {
      if (name.last <= tail_.height || name.first != next_) {
        if (name.last > tail_.height) {
          Log("warn", "buffered segment " + name.range() + " does not continue the archive at " +
                          std::to_string(next_) + "; dropped (its blocks are fetched from the node again)");
        }
        RETURN_IF_ERROR(buffer_->Remove(name));
        continue;
      }
      ASSIGN_OR_RETURN(repo::SealedBlockSegment sealed, buffer_->Read(name));
      auto seg = repo::OpenBlockSegment(repo_, name, sealed.bytes);
      if (!seg.ok() || seg->blocks.front().header.prev_hash != last_hash_) {
        Log("warn", "buffered segment " + name.range() + " is unusable (" +
                        (seg.ok() ? std::string("does not link to the archive") : seg.status().message()) +
                        "); dropped, its blocks are fetched again");
        RETURN_IF_ERROR(buffer_->Remove(name));
        continue;
      }
      if (tail_.height == 0 && buffered_.empty()) chain_id_ = seg->chain_id;
      last_hash_ = seg->blocks.back().header.Hash();
      next_ = name.last + 1;
      buffered_.push_back({name, last_hash_});
    }
    return Status::Ok();
  }

  // Fetches the next blocks from the node, each checked to link to the last.
  Status Fetch(uint64_t* fetched, uint64_t* tip) {
    ASSIGN_OR_RETURN(uint64_t buffered_bytes, buffer_->Bytes());
    if (buffered_bytes >= o_.buffer_limit_bytes) {
      SetAlarm("local buffer full (" + std::to_string(buffered_bytes) + " bytes in " + buffer_->dir() +
               "): not fetching blocks until the repository takes them; the node keeps them meanwhile");
      *tip = next_;  // unknown; keeps --once from ending early
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(nlohmann::json batch,
                     node_.GetJson("/v1/blocks?from=" + std::to_string(next_) + "&limit=" + std::to_string(kFetchLimit)));
    *tip = batch.value("tip", uint64_t{0});
    for (const auto& b : batch["blocks"]) {
      auto raw = HexDecode(b.value("encoded", ""));
      if (!raw) return DataLoss("node " + o_.node_url + " sent block " + std::to_string(next_) + " that is not hex");
      ASSIGN_OR_RETURN(state::Block block, state::DecodeBlock(*raw));
      const auto& h = block.header;
      if (h.height != next_) {
        return DataLoss("node " + o_.node_url + " sent block " + std::to_string(h.height) + " when asked for " +
                        std::to_string(next_));
      }
      if (h.prev_hash != last_hash_) {
        return FailedPrecondition(
            "node " + node_id_ + "'s block " + std::to_string(h.height) + " does not link to the archived block " +
            std::to_string(h.height - 1) + " (prev_hash " + crypto::HashToHex(h.prev_hash) + ", archived " +
            crypto::HashToHex(last_hash_) + "): the node is on another chain than its archive (restored or forked); "
            "archiving stopped so that no second chain is archived under node " + node_id_);
      }
      if (h.height == 1) chain_id_ = h.Hash();
      last_hash_ = h.Hash();
      ++next_;
      if (pending_.empty()) pending_since_ms_ = Now();
      pending_.push_back(std::move(block));
      ++*fetched;
      if (pending_.size() >= o_.seal_blocks) RETURN_IF_ERROR(Seal());
    }
    return Status::Ok();
  }

  // Seals the pending blocks into the local buffer (durable), then uploads.
  Status Seal() {
    repo::BlockSegment seg{node_id_, chain_id_, std::move(pending_)};
    pending_.clear();
    ASSIGN_OR_RETURN(repo::SealedBlockSegment sealed, repo::SealBlockSegment(repo_, seg));
    RETURN_IF_ERROR(buffer_->Put(sealed).WithContext("buffering block segment " + sealed.name.range()));
    buffered_.push_back({sealed.name, seg.blocks.back().header.Hash()});
    return Flush();
  }

  // Uploads buffered segments in order; stops at the first the repository
  // does not take (kept, with an alarm) unless the archive itself refuses it.
  Status Flush() {
    if (!buffered_.empty()) {
      // A local repository whose mount is gone would otherwise be recreated
      // empty by the first write, and the archive would continue elsewhere.
      auto present = repo_.store().Exists(repo::ConfigKey());
      if (!present.ok() || !*present) {
        Unreachable(present.ok() ? "its config is missing: unmounted or moved?" : present.status().message());
        return Status::Ok();
      }
    }
    while (!buffered_.empty()) {
      const Buffered& b = buffered_.front();
      ASSIGN_OR_RETURN(repo::SealedBlockSegment sealed, buffer_->Read(b.name));
      Status st = repo::AppendBlockSegment(repo_, tail_, sealed);
      if (st.code() == StatusCode::kFailedPrecondition || st.code() == StatusCode::kDataLoss) return st;
      if (!st.ok()) {
        Unreachable(st.message());
        return Status::Ok();
      }
      tail_.height = b.name.last;
      tail_.block_hash = b.last_hash;
      tail_.chain_id = chain_id_;
      archived_at_ms_ = Now();
      result_.segments_written++;
      result_.blocks_archived += b.name.last - b.name.first + 1;
      RETURN_IF_ERROR(buffer_->Remove(b.name));
      buffered_.erase(buffered_.begin());
    }
    if (!alarm_.empty()) {
      Log("notice", "alarm cleared: the repository took every buffered segment; archived height " +
                      std::to_string(tail_.height));
      alarm_.clear();
      WriteStatus(true);
    }
    return Status::Ok();
  }

  void Unreachable(const std::string& why) {
    SetAlarm("repository " + repo_.Location() + " unreachable (" + why + "): " + std::to_string(buffered_.size()) +
             " segment(s) buffered in " + buffer_->dir() + ", archived height " + std::to_string(tail_.height));
  }

  void SetAlarm(const std::string& text) {
    const bool changed = alarm_ != text;
    alarm_ = text;
    if (changed) {
      Log("error", "ALARM: " + text);
      WriteStatus(true);
    }
  }

  // status.json, at most every 2 s unless `now`.
  void WriteStatus(bool now) {
    const int64_t t = Now();
    if (!now && t - status_written_ms_ < 2000) return;
    status_written_ms_ = t;
    nlohmann::json j = {{"node_id", node_id_},         {"updated_ms", t},
                        {"archived_height", tail_.height}, {"fetched_height", next_ - 1},
                        {"buffered_segments", buffered_.size()}, {"alarm", alarm_}};
    Status st = buffer_->WriteStatus(j);
    if (!st.ok()) Log("warn", "status file: " + st.message());
  }

  repo::Repository& repo_;
  const ArchiverOptions& o_;
  node::NodeClient node_;
  ArchiveProgressReporter progress_;
  std::string node_id_;
  std::unique_ptr<ArchiveBuffer> buffer_;
  repo::BlockArchiveTail tail_;  // what the repository holds
  crypto::Hash256 chain_id_{};
  uint64_t next_ = 1;            // next height to fetch
  crypto::Hash256 last_hash_{};  // hash of block next_ - 1 (repository, buffer or pending)
  std::vector<Buffered> buffered_;
  std::vector<state::Block> pending_;
  int64_t pending_since_ms_ = 0;
  std::string alarm_;
  int64_t status_written_ms_ = 0;
  int64_t archived_at_ms_ = 0;  // when the repository took the last segment (0: none this run)
  ArchiverResult result_;
};

}  // namespace

Result<ArchiverResult> RunArchiver(repo::Repository& repo, const ArchiverOptions& options) {
  if (options.buffer_dir.empty()) return InvalidArgument("the archiver needs a local buffer dir");
  if (options.seal_blocks == 0) return InvalidArgument("seal_blocks must be at least 1");
  Archiver archiver(repo, options);
  return archiver.Run();
}

nlohmann::json ArchiveStatus::ToJson() const {
  nlohmann::json j = {{"node_id", node_id},
                      {"archived_height", archived_height},
                      {"archived_time", archived_time_ms > 0 ? FormatUtc(archived_time_ms / 1000) : ""},
                      {"segments", segments},
                      {"node_reachable", node_reachable},
                      {"buffered_segments", buffered_segments},
                      {"buffered_bytes", buffered_bytes},
                      {"alarm", alarm}};
  if (node_reachable) {
    j["node_height"] = node_height;
    j["lag_blocks"] = lag_blocks;
  }
  return j;
}

Result<ArchiveStatus> GetArchiveStatus(const repo::Repository& repo, const std::string& node_url,
                                       const std::string& buffer_dir, std::string node_id) {
  ArchiveStatus out;
  node::NodeClient node(node_url, "", 5000);
  auto status = node.GetJson("/v1/status");
  if (status.ok()) {
    out.node_reachable = true;
    out.node_height = status->value("height", uint64_t{0});
    if (node_id.empty()) node_id = status->value("node_id", "");
  }
  if (node_id.empty()) {
    return Unavailable("the node at " + node_url + " does not answer (" + status.status().message() +
                       "), so its node id is unknown; pass --node-id");
  }
  out.node_id = node_id;
  ASSIGN_OR_RETURN(repo::BlockArchiveTail tail, repo::ReadBlockArchiveTail(repo, node_id));
  out.archived_height = tail.height;
  out.archived_time_ms = tail.timestamp_ms;
  out.segments = tail.segments;
  if (out.node_reachable) out.lag_blocks = out.node_height > tail.height ? out.node_height - tail.height : 0;
  ArchiveBuffer buffer(buffer_dir, node_id);
  ASSIGN_OR_RETURN(auto buffered, buffer.List());
  out.buffered_segments = buffered.size();
  ASSIGN_OR_RETURN(out.buffered_bytes, buffer.Bytes());
  out.alarm = buffer.ReadStatus().value("alarm", "");
  return out;
}

}  // namespace ailee::ops
