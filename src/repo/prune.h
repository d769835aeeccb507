// Prune: deletes packs that no snapshot references and rewrites the index,
// and block archive segments no state snapshot needs (block_archive_upkeep.h).
//
// Takes the exclusive lock, so it fails with kAborted ("backup in progress
// by host/pid since T; retry later") while any live backup, restore or
// forget holds a shared lock; stale locks (crashed processes) are ignored.
// Before deciding anything it indexes unindexed packs and loads every
// snapshot; a damaged snapshot or a referenced blob that is missing aborts
// with kDataLoss and deletes nothing.
//
// Deletion order, so that a crash at any point leaves a valid repository:
// new index files first, then the old index files, then the packs. Packs
// that hold at least one referenced blob are kept whole (no repacking: the
// unused bytes in them are reported, not reclaimed).
//
// Object Lock (store Features().object_lock): a pack or index file whose
// retention has not ended cannot be deleted, so prune keeps it, and keeps
// every pack a retained index file lists (an index must never name a pack
// that is gone). Such objects are counted in packs_retained /
// index_files_retained; a later prune reclaims them once retention ends.
#pragma once

#include <cstdint>

#include "repo/lock.h"
#include "repo/repository.h"

namespace ailee::repo {

struct PruneOptions {
  bool dry_run = false;
  LockOptions lock;
};

struct PruneStats {
  uint64_t snapshots = 0;
  uint64_t packs_total = 0;
  uint64_t packs_deleted = 0;
  uint64_t bytes_deleted = 0;
  uint64_t packs_partly_used = 0;
  uint64_t bytes_unused_kept = 0;  // unreferenced blobs inside kept packs
  uint64_t index_files_replaced = 0;
  uint64_t index_files_written = 0;
  uint64_t packs_retained = 0;        // unreferenced, but under Object Lock retention
  uint64_t index_files_retained = 0;  // replaced, but under retention: left in place
  int64_t retained_until_ms = 0;      // the latest retention among them
  uint64_t block_segments_deleted = 0;  // below every node's oldest state snapshot
  uint64_t block_segments_retained = 0;  // as deletable, but under Object Lock retention
};

Result<PruneStats> Prune(Repository& repo, const PruneOptions& options);

}  // namespace ailee::repo
