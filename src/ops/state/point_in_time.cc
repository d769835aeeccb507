#include "ops/state/point_in_time.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "base/clock.h"
#include "repo/block_archive.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

std::string Range(uint64_t a, uint64_t b) {
  return a == b ? std::to_string(a) : std::to_string(a) + ".." + std::to_string(b);
}

std::string TimeOf(int64_t ms) { return ms > 0 ? " (" + FormatUtc(ms / 1000) + ")" : std::string(); }

// The newest state snapshot of `node_id` whose height is at most `height`
// (the highest height; the newest of equal heights).
Result<repo::Snapshot> SnapshotAtOrBelow(repo::Repository& repo, const std::string& node_id, uint64_t height) {
  ASSIGN_OR_RETURN(repo::SnapshotListing listing, repo::ListSnapshots(repo));
  const repo::Snapshot* best = nullptr;
  for (const auto& s : listing.snapshots) {
    if (s.kind != "state" || !s.meta.is_object() || s.meta.value("node_id", "") != node_id ||
        !s.meta.contains("height")) {
      continue;
    }
    const uint64_t h = s.meta["height"].get<uint64_t>();
    if (h > height) continue;
    if (!best || h > best->meta["height"].get<uint64_t>() ||
        (h == best->meta["height"].get<uint64_t>() && s.time_ms >= best->time_ms)) {
      best = &s;
    }
  }
  if (best) return *best;
  ASSIGN_OR_RETURN(RecoveryWindow w, GetRecoveryWindow(repo, node_id));
  return NotFound("height " + std::to_string(height) + " of node " + node_id + " cannot be restored from " +
                  repo.Location() + ": it is outside the recovery window, which is " + DescribeRecoveryWindow(w) +
                  " (no state snapshot at or below it to replay from); `ailee-cli snapshots` shows the window");
}

}  // namespace

std::string DescribeRecoveryWindow(const RecoveryWindow& w) {
  if (!w.has_snapshot) return "empty (node " + w.node_id + " has no state snapshot)";
  const uint64_t latest = std::max(w.latest_height, w.earliest_height);
  return "heights " + std::to_string(w.earliest_height) + TimeOf(w.earliest_time_ms) + " .. " +
         std::to_string(latest) + TimeOf(w.latest_height >= w.earliest_height ? w.latest_time_ms : 0);
}

nlohmann::json RecoveryWindowsJson(const std::vector<RecoveryWindow>& windows) {
  using nlohmann::json;
  json arr = json::array();
  for (const auto& w : windows) {
    arr.push_back({{"node_id", w.node_id}, {"earliest_height", w.has_snapshot ? json(w.earliest_height) : json()},
                   {"earliest_time", w.has_snapshot ? FormatUtc(w.earliest_time_ms / 1000) : ""},
                   {"earliest_snapshot", w.earliest_snapshot}, {"latest_height", w.latest_height},
                   {"latest_time", w.latest_time_ms > 0 ? FormatUtc(w.latest_time_ms / 1000) : ""}});
  }
  return arr;
}

Result<std::vector<RecoveryWindow>> ListRecoveryWindows(repo::Repository& repo) {
  std::map<std::string, RecoveryWindow> by_node;
  ASSIGN_OR_RETURN(repo::SnapshotListing listing, repo::ListSnapshots(repo));
  for (const auto& s : listing.snapshots) {
    if (s.kind != "state" || !s.meta.is_object() || !s.meta.contains("height")) continue;
    const std::string node = s.meta.value("node_id", "");
    RecoveryWindow& w = by_node[node];
    w.node_id = node;
    const uint64_t h = s.meta["height"].get<uint64_t>();
    if (!w.has_snapshot || h < w.earliest_height) {
      w.earliest_height = h;
      w.earliest_time_ms = s.time_ms;
      w.earliest_snapshot = s.id_hex();
    }
    w.has_snapshot = true;
    if (h >= w.latest_height) {  // the newest snapshot, until the archive says more
      w.latest_height = h;
      w.latest_time_ms = s.time_ms;
    }
  }
  ASSIGN_OR_RETURN(auto segments, repo::ListBlockSegments(repo.store(), ""));
  for (const auto& seg : segments) by_node[seg.node_id].node_id = seg.node_id;
  std::vector<RecoveryWindow> out;
  for (auto& [node, w] : by_node) {
    ASSIGN_OR_RETURN(repo::BlockArchiveTail tail, repo::ReadBlockArchiveTail(repo, node));
    if (tail.height > w.latest_height || !w.has_snapshot) {
      w.latest_height = tail.height;
      w.latest_time_ms = tail.timestamp_ms;
    }
    out.push_back(w);
  }
  return out;
}

Status CheckArchiveCovers(const repo::Repository& repo, const std::string& node_id, uint64_t from, uint64_t to) {
  if (from > to) return Status::Ok();
  ASSIGN_OR_RETURN(auto segments, repo::ListBlockSegments(repo.store(), node_id));
  uint64_t next = from;
  for (const auto& seg : segments) {
    if (seg.last < next) continue;
    if (seg.first > next) {
      return DataLoss("the block archive of node " + node_id + " in " + repo.Location() + " has a gap: blocks " +
                      Range(next, seg.first - 1) + " are missing (needed to replay " + Range(from, to) +
                      "); restore from a copy that holds them (`ailee-cli copy`), or to a height below " +
                      std::to_string(next));
    }
    next = seg.last + 1;
    if (next > to) return Status::Ok();
  }
  return NotFound("the block archive of node " + node_id + " in " + repo.Location() + " ends at height " +
                  std::to_string(next - 1) + ", before " + std::to_string(to));
}

Result<StateRestoreResult> RestoreToPoint(repo::Repository& repo, const std::string& target,
                                          const PointInTimeOptions& o) {
  if (o.node_id.empty()) return InvalidArgument("point-in-time restore: which node? (node.id from the config, or --host)");
  if (!o.replay && o.target) return InvalidArgument("--no-replay restores a snapshot as it is: it cannot reach a height");
  StateRestoreOptions ro;
  ro.force = o.force;
  ro.verify = o.verify;
  ro.prove_in_background = o.prove_in_background;
  ro.federation = o.federation;
  ro.node_id = o.node_id;
  ro.progress = o.progress;
  if (!o.replay) return RestoreState(repo, "latest", target, ro);

  ASSIGN_OR_RETURN(repo::BlockArchiveTail tail, repo::ReadBlockArchiveTail(repo, o.node_id));
  uint64_t height = tail.height;
  if (o.target) {
    auto resolved = ResolveReplayTarget(repo, o.node_id, *o.target, o.commitment_interval);
    if (!resolved.ok()) {
      // A height a state snapshot holds exactly needs no archive.
      if (resolved.status().code() != StatusCode::kNotFound || !o.target->height) return resolved.status();
      auto exact = SnapshotAtOrBelow(repo, o.node_id, *o.target->height);
      if (!exact.ok() || exact->meta.value("height", uint64_t{0}) != *o.target->height) return resolved.status();
      resolved = *o.target->height;
    }
    height = *resolved;
  } else if (tail.height == 0) {
    return RestoreState(repo, "latest", target, ro);  // no archive: the newest snapshot is the latest state
  }
  // `latest`: the archive's end, or a snapshot newer than it (an archiver
  // that fell behind) as it is.
  ASSIGN_OR_RETURN(repo::Snapshot snap, SnapshotAtOrBelow(repo, o.node_id, o.target ? height : UINT64_MAX));
  if (!o.target) height = std::max(height, snap.meta["height"].get<uint64_t>());
  const uint64_t snap_height = snap.meta["height"].get<uint64_t>();
  if (height > snap_height) {
    if (!o.federation) {
      return InvalidArgument("replaying archived blocks " + Range(snap_height + 1, height) +
                             " needs the federation that signed them: give the node's config (--config), or "
                             "--no-replay to restore the newest snapshot as it is");
    }
    RETURN_IF_ERROR(CheckArchiveCovers(repo, o.node_id, snap_height + 1, height)
                        .WithContext("nothing was restored; " + target + " is untouched"));
    ro.roll_forward = RollForward{o.node_id, height, *o.federation, o.commitment_interval, o.replay_progress};
  }
  return RestoreStateSnapshot(repo, snap, target, ro);
}

}  // namespace ailee::ops
