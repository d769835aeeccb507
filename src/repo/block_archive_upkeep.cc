#include "repo/block_archive_upkeep.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace ailee::repo {
namespace {

// Read_data for one node's sorted segments: every segment opens, and each
// one's first block links to the block before it when that is archived.
Status ReadNodeSegments(const Repository& repo, const std::vector<BlockSegmentName>& segments, size_t begin,
                        size_t end, std::vector<BlockRangeProblem>* problems) {
  std::optional<crypto::Hash256> chain_id;
  uint64_t prev_height = 0;
  crypto::Hash256 prev_hash{};
  for (size_t i = begin; i < end; ++i) {
    const auto& name = segments[i];
    auto seg = LoadBlockSegment(repo, name);
    if (!seg.ok()) {
      if (seg.status().code() == StatusCode::kUnavailable) return seg.status();
      problems->push_back({"block segment " + name.key(), seg.status().message()});
      prev_height = 0;
      continue;
    }
    if (chain_id && *chain_id != seg->chain_id) {
      problems->push_back({"block segment " + name.key(),
                           "refused: it names another chain than the segments before it of node " + name.node_id});
    }
    if (!chain_id) chain_id = seg->chain_id;
    const auto& first = seg->blocks.front().header;
    if (prev_height > 0 && prev_height + 1 == first.height && first.prev_hash != prev_hash) {
      problems->push_back({"block segment " + name.key(),
                           "block " + std::to_string(first.height) + " does not link to block " +
                               std::to_string(prev_height) + " of the segment before it (broken chain at " +
                               std::to_string(prev_height) + ".." + std::to_string(first.height) + ")"});
    }
    prev_height = seg->blocks.back().header.height;
    prev_hash = seg->blocks.back().header.Hash();
  }
  return Status::Ok();
}

}  // namespace

Result<BlockArchiveCheck> CheckBlockArchive(const Repository& repo, bool read_data) {
  BlockArchiveCheck check;
  ASSIGN_OR_RETURN(auto objects, repo.store().List(std::string(kBlocksPrefix)));
  for (const auto& o : objects) {
    if (!ParseBlockSegmentKey(o.key).ok()) {
      check.problems.push_back({o.key, "not a block segment name (blocks/<node>/<first:020>-<last:020>-<sha256>)"});
    }
  }
  ASSIGN_OR_RETURN(auto segments, ListBlockSegments(repo.store(), ""));
  check.segments = segments.size();
  for (const auto& s : segments) check.blocks += s.last - s.first + 1;
  auto ranges = FindRangeProblems(segments);
  check.problems.insert(check.problems.end(), ranges.begin(), ranges.end());
  if (!read_data) return check;
  for (size_t begin = 0; begin < segments.size();) {
    size_t end = begin;
    while (end < segments.size() && segments[end].node_id == segments[begin].node_id) ++end;
    RETURN_IF_ERROR(ReadNodeSegments(repo, segments, begin, end, &check.problems));
    begin = end;
  }
  return check;
}

Result<BlockArchivePruneStats> PruneBlockArchive(const Repository& repo, const std::vector<Snapshot>& snapshots,
                                                 bool dry_run) {
  std::map<std::string, uint64_t> oldest;  // node -> lowest state snapshot height
  for (const auto& s : snapshots) {
    if (s.kind != "state" || !s.meta.is_object() || !s.meta.contains("height")) continue;
    const std::string node = s.meta.value("node_id", "");
    const uint64_t height = s.meta["height"].get<uint64_t>();
    auto [it, inserted] = oldest.emplace(node, height);
    if (!inserted) it->second = std::min(it->second, height);
  }
  ASSIGN_OR_RETURN(auto segments, ListBlockSegments(repo.store(), ""));
  BlockArchivePruneStats stats;
  stats.segments_total = segments.size();
  const bool object_lock = repo.store().Features().object_lock;
  for (const auto& s : segments) {
    auto it = oldest.find(s.node_id);
    if (it == oldest.end() || s.last > it->second) continue;  // needed to roll a snapshot forward
    if (object_lock) {
      ASSIGN_OR_RETURN(int64_t until, repo.store().RetainedUntilUnixMs(s.key()));
      if (until > repo.clock().NowMillis()) {
        stats.segments_retained++;  // a later prune deletes it
        continue;
      }
    }
    if (!dry_run) {
      ASSIGN_OR_RETURN(uint64_t size, repo.store().Stat(s.key()));
      RETURN_IF_ERROR(repo.store().Delete(s.key()));
      stats.bytes_deleted += size;
    }
    stats.segments_deleted++;
  }
  return stats;
}

Result<uint64_t> CopyBlockSegments(const Repository& source, storage::ObjectStore& destination) {
  ASSIGN_OR_RETURN(auto want, ListBlockSegments(source.store(), ""));
  ASSIGN_OR_RETURN(auto have_list, ListBlockSegments(destination, ""));
  std::set<std::string> have;
  for (const auto& s : have_list) have.insert(s.key());
  uint64_t copied = 0;
  for (const auto& s : want) {
    const std::string key = s.key();
    if (have.count(key)) continue;
    ASSIGN_OR_RETURN(std::string bytes, source.store().Get(key));
    if (crypto::Sha256(bytes) != s.id) {
      return DataLoss(key + " in " + source.Location() +
                      " does not match its name (damaged); it was not copied. Run `ailee-cli verify --read-data`");
    }
    RETURN_IF_ERROR(destination.Put(key, bytes));
    copied++;
  }
  return copied;
}

}  // namespace ailee::repo
