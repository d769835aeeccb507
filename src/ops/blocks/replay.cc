#include "ops/blocks/replay.h"

#include <algorithm>

#include "base/clock.h"
#include "repo/block_archive.h"
#include "repo/snapshot.h"
#include "state/proof_pending.h"
#include "state/state_db.h"

namespace ailee::ops {
namespace {

std::string Latest(const repo::BlockArchiveTail& tail) {
  return std::to_string(tail.height) +
         (tail.timestamp_ms > 0 ? " (" + FormatUtc(tail.timestamp_ms / 1000) + ")" : std::string());
}

// The last block at or before `time_ms`: walks the archive from its start.
Result<uint64_t> HeightAtTime(const repo::Repository& repo, const std::string& node_id, int64_t time_ms,
                              const repo::BlockArchiveTail& tail) {
  if (time_ms >= tail.timestamp_ms) {
    if (tail.height == 0) return NotFound("no archived blocks of node " + node_id);
    return tail.height;  // at or after the last archived block: the archive's end
  }
  ASSIGN_OR_RETURN(auto segments, repo::ListBlockSegments(repo.store(), node_id));
  std::optional<uint64_t> found;
  bool before_first = true;
  for (const auto& name : segments) {
    ASSIGN_OR_RETURN(repo::BlockSegment seg, repo::LoadBlockSegment(repo, name));
    for (const auto& b : seg.blocks) {
      if (b.header.timestamp_ms > time_ms) {
        if (before_first) {
          return NotFound("time " + FormatUtc(time_ms / 1000) + " is before the first archived block of node " +
                          node_id + " (height " + std::to_string(b.header.height) + ", " +
                          FormatUtc(b.header.timestamp_ms / 1000) + ")");
        }
        return *found;
      }
      before_first = false;
      found = b.header.height;
    }
  }
  return *found;
}

}  // namespace

Result<uint64_t> ResolveReplayTarget(const repo::Repository& repo, const std::string& node_id,
                                     const ReplayTarget& target, uint64_t commitment_interval) {
  const int given = target.height.has_value() + target.time_ms.has_value() + target.anchor.has_value();
  if (given != 1) return InvalidArgument("give exactly one of a height, a time and an anchor number");
  ASSIGN_OR_RETURN(repo::BlockArchiveTail tail, repo::ReadBlockArchiveTail(repo, node_id));
  uint64_t height = 0;
  if (target.height) {
    height = *target.height;
  } else if (target.time_ms) {
    return HeightAtTime(repo, node_id, *target.time_ms, tail);
  } else {
    // Anchors are committed exactly at multiples of the commitment interval
    // (StateDb::ApplyBlock enforces it), so the Nth is at N x interval; the
    // replay checks that block's anchor like every other.
    if (*target.anchor == 0) return InvalidArgument("anchor numbers start at 1");
    if (commitment_interval == 0) return InvalidArgument("this chain commits no anchors (commitment_interval 0)");
    height = *target.anchor * commitment_interval;
  }
  if (height > tail.height) {
    return NotFound("height " + std::to_string(height) + " is beyond the block archive of node " + node_id +
                    ": the latest archived height is " + Latest(tail));
  }
  return height;
}

Result<ReplayResult> ReplayBlocks(const repo::Repository& repo, const ReplayOptions& o) {
  state::OpenOptions open;
  open.create_if_missing = false;
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(o.data_dir, open));
  // A restored state still to be proven (restore --prove-in-background) is
  // not rolled forward: its marker names the restored tip, so the node's
  // proof would then fail on it, and blocks would be built on a base no one
  // has proven. Read while the database is held, as the node does. (A
  // restore's own roll-forward runs on its staging tree before the marker.)
  RETURN_IF_ERROR(state::EnsureProven(o.data_dir).WithContext("archive replay"));
  ReplayResult r;
  const state::ChainTip start = db->Tip();
  r.from_height = start.height;
  r.to_height = o.to_height;
  if (o.to_height < start.height) {
    return FailedPrecondition("the state in " + o.data_dir + " is at height " + std::to_string(start.height) +
                              ", beyond " + std::to_string(o.to_height) +
                              ": blocks cannot be undone; start from an older snapshot");
  }
  const int64_t t0 = Clock::Real().MonotonicNanos();
  if (o.to_height > start.height) {
    Status st = repo::ForEachArchivedBlock(repo, o.node_id, start.height + 1, o.to_height, [&](const state::Block& b) {
      Status applied = db->ApplyBlock(b, o.federation, o.commitment_interval);
      if (!applied.ok()) {
        return applied.WithContext("replay stopped at block " + std::to_string(b.header.height) + " (state in " +
                                   o.data_dir + " is at " + std::to_string(b.header.height - 1) + ")");
      }
      r.blocks++;
      r.transactions += b.transactions.size();
      if (o.progress) o.progress(b.header.height, o.to_height);
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }
  r.seconds = static_cast<double>(Clock::Real().MonotonicNanos() - t0) / 1e9;
  const state::ChainTip end = db->Tip();
  r.block_hash = end.block_hash;
  r.state_root = end.state_root;
  return r;
}

Result<RecoveryWindow> GetRecoveryWindow(repo::Repository& repo, const std::string& node_id) {
  RecoveryWindow w;
  w.node_id = node_id;
  ASSIGN_OR_RETURN(repo::SnapshotListing listing, repo::ListSnapshots(repo));
  for (const auto& s : listing.snapshots) {
    if (s.kind != "state" || !s.meta.is_object() || s.meta.value("node_id", "") != node_id ||
        !s.meta.contains("height")) {
      continue;
    }
    const uint64_t h = s.meta["height"].get<uint64_t>();
    if (!w.has_snapshot || h < w.earliest_height) {
      w.has_snapshot = true;
      w.earliest_height = h;
      w.earliest_time_ms = s.time_ms;
      w.earliest_snapshot = s.id_hex();
    }
  }
  ASSIGN_OR_RETURN(repo::BlockArchiveTail tail, repo::ReadBlockArchiveTail(repo, node_id));
  w.latest_height = tail.height;
  w.latest_time_ms = tail.timestamp_ms;
  return w;
}

}  // namespace ailee::ops
