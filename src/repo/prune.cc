#include "repo/prune.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "repo/block_archive_upkeep.h"
#include "repo/snapshot.h"

namespace ailee::repo {
namespace {

constexpr size_t kPacksPerRewrittenIndexFile = 4096;

}  // namespace

Result<PruneStats> Prune(Repository& repo, const PruneOptions& options) {
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo.shared_store(), repo.clock(), true, options.lock));
  PruneStats stats;
  ASSIGN_OR_RETURN(IndexLoadReport loaded, repo.ReloadIndex());
  ASSIGN_OR_RETURN(size_t adopted, repo.IndexUnindexedPacks());
  (void)adopted;
  const std::set<Id> old_index_files = [&] {
    std::set<Id> ids = repo.loaded_index_files();
    for (const auto& [id, st] : loaded.damaged) ids.insert(id);  // their packs were re-indexed from headers
    return ids;
  }();

  ASSIGN_OR_RETURN(SnapshotListing listing, ListSnapshots(repo));
  if (!listing.damaged.empty()) {
    return DataLoss("prune refuses to run: snapshot " + IdHex(listing.damaged[0].first) +
                    " is damaged, so what it references is unknown (" + listing.damaged[0].second.message() +
                    "); run verify");
  }
  stats.snapshots = listing.snapshots.size();
  std::unordered_set<Id, IdHash> used;
  for (const auto& s : listing.snapshots) {
    for (const auto& f : s.files) {
      for (const auto& c : f.chunks) {
        if (used.insert(c).second && !repo.index().Has(c)) {
          return DataLoss("prune refuses to run: snapshot " + s.id_hex() + " file " + f.path + " references blob " +
                          IdHex(c) + ", which is in no pack; run verify");
        }
      }
    }
  }

  ASSIGN_OR_RETURN(auto stored, repo.store().List(std::string(kDataPrefix)));
  std::map<Id, uint64_t> present;
  for (const auto& obj : stored) {
    if (auto id = IdFromKey(obj.key); id.ok()) present[*id] = obj.size;
  }
  std::map<Id, PackRecord> keep;
  std::vector<std::pair<Id, uint64_t>> remove;
  for (const auto& [pack, rec] : repo.index().Packs()) {
    if (!present.count(pack)) continue;  // already gone; dropped from the new index
    uint64_t used_bytes = 0;
    for (const auto& b : rec.blobs) {
      if (used.count(b.id)) used_bytes += b.length;
    }
    if (used_bytes == 0) {
      remove.emplace_back(pack, rec.size);
      continue;
    }
    uint64_t blob_bytes = 0;
    for (const auto& b : rec.blobs) blob_bytes += b.length;
    if (used_bytes < blob_bytes) {
      ++stats.packs_partly_used;
      stats.bytes_unused_kept += blob_bytes - used_bytes;
    }
    keep[pack] = rec;
  }
  // Packs whose header cannot be read are in no index; nothing can use them.
  for (const auto& [pack, size] : present) {
    if (!repo.index().HasPack(pack)) remove.emplace_back(pack, size);
  }
  // Object Lock: what cannot be deleted yet stays, with everything a
  // retained index file names.
  std::set<Id> retained_index_files;
  if (repo.store().Features().object_lock) {
    const int64_t now = repo.clock().NowMillis();
    std::set<Id> pinned;
    for (const auto& id : old_index_files) {
      ASSIGN_OR_RETURN(int64_t until, repo.store().RetainedUntilUnixMs(IndexKey(id)));
      if (until <= now) continue;
      retained_index_files.insert(id);
      stats.retained_until_ms = std::max(stats.retained_until_ms, until);
      ASSIGN_OR_RETURN(std::string body, repo.LoadObject(ObjectKind::kIndex, id));
      ASSIGN_OR_RETURN(auto listed, DecodeIndexFile(body, "index " + IdHex(id)));
      for (const auto& [pack, rec] : listed) pinned.insert(pack);
    }
    std::vector<std::pair<Id, uint64_t>> deletable;
    const auto packs = repo.index().Packs();
    for (const auto& [pack, size] : remove) {
      int64_t until = 0;
      if (!pinned.count(pack)) {
        ASSIGN_OR_RETURN(until, repo.store().RetainedUntilUnixMs(PackKey(pack)));
      }
      if (!pinned.count(pack) && until <= now) {
        deletable.emplace_back(pack, size);
        continue;
      }
      stats.retained_until_ms = std::max(stats.retained_until_ms, until);
      ++stats.packs_retained;
      auto rec = packs.find(pack);
      if (rec != packs.end()) keep[pack] = rec->second;  // stays indexed while it stays
    }
    remove = std::move(deletable);
    stats.index_files_retained = retained_index_files.size();
  }
  stats.packs_total = present.size();
  for (const auto& [pack, size] : remove) {
    ++stats.packs_deleted;
    stats.bytes_deleted += size;
  }
  // Every referenced blob must survive in a kept pack.
  std::unordered_set<Id, IdHash> kept_blobs;
  for (const auto& [pack, rec] : keep) {
    for (const auto& b : rec.blobs) kept_blobs.insert(b.id);
  }
  for (const auto& id : used) {
    if (!kept_blobs.count(id)) {
      return DataLoss("prune refuses to run: referenced blob " + IdHex(id) + " is in no stored pack; run verify");
    }
  }
  stats.index_files_replaced = old_index_files.size();
  // The block archive, kept back to each node's oldest state snapshot (block_archive_upkeep.h).
  ASSIGN_OR_RETURN(BlockArchivePruneStats blocks, PruneBlockArchive(repo, listing.snapshots, options.dry_run));
  stats.block_segments_deleted = blocks.segments_deleted;
  stats.block_segments_retained = blocks.segments_retained;
  if (options.dry_run) {
    RETURN_IF_ERROR(lock->Release());
    return stats;
  }

  // 1. New index files for the packs that stay.
  std::map<Id, PackRecord> batch;
  std::set<Id> new_index_files;
  for (auto& [pack, rec] : keep) {
    batch[pack] = std::move(rec);
    if (batch.size() >= kPacksPerRewrittenIndexFile) {
      ASSIGN_OR_RETURN(Id id, repo.WriteIndex(batch));
      new_index_files.insert(id);
      batch.clear();
    }
  }
  if (!batch.empty()) {
    ASSIGN_OR_RETURN(Id id, repo.WriteIndex(batch));
    new_index_files.insert(id);
  }
  stats.index_files_written = new_index_files.size();
  // 2. Old index files (an identical rewrite keeps its name: do not delete it).
  for (const auto& id : old_index_files) {
    if (!new_index_files.count(id) && !retained_index_files.count(id)) {
      RETURN_IF_ERROR(repo.store().Delete(IndexKey(id)));
    }
  }
  // 3. Packs nobody references any more.
  for (const auto& [pack, size] : remove) RETURN_IF_ERROR(repo.store().Delete(PackKey(pack)));
  ASSIGN_OR_RETURN(IndexLoadReport reloaded, repo.ReloadIndex());
  (void)reloaded;
  RETURN_IF_ERROR(lock->Release());
  return stats;
}

}  // namespace ailee::repo
