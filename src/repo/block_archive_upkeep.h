// What verify, prune and copy do with the block archive (block_archive.h).
// Kept out of verify.cc, prune.cc and copy.cc so that each calls one function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "repo/block_archive.h"
#include "repo/repository.h"
#include "repo/snapshot.h"
#include "storage/object_store.h"

namespace ailee::repo {

// verify: structure (always) = the listing's names parse and every node's
// ranges have no gap and no overlap; read_data = additionally every segment
// is read, its SHA-256, authentication and content checked against its name,
// and every block linked to the one before it across segments (and all of a
// node's segments name one chain). Problems are reported, not returned;
// the Status is an error only when the store cannot be read.
struct BlockArchiveCheck {
  uint64_t segments = 0;
  uint64_t blocks = 0;  // from the names
  std::vector<BlockRangeProblem> problems;
};
Result<BlockArchiveCheck> CheckBlockArchive(const Repository& repo, bool read_data);

// Retention: the archive is kept back to the oldest state snapshot of each
// node among `snapshots` (the ones that remain), so every one of them can be
// rolled forward. A segment whose last height is at or below that height is
// not needed by any of them and is deleted (not when dry_run). A node
// without any state snapshot keeps its whole archive. A segment under Object
// Lock retention is kept (segments_retained) until a later prune. Deletes
// oldest first, so a crash leaves the archive a suffix of what it was.
struct BlockArchivePruneStats {
  uint64_t segments_total = 0;
  uint64_t segments_deleted = 0;
  uint64_t bytes_deleted = 0;
  uint64_t segments_retained = 0;  // not needed, but under Object Lock retention: kept for now
};
Result<BlockArchivePruneStats> PruneBlockArchive(const Repository& repo, const std::vector<Snapshot>& snapshots,
                                                 bool dry_run);

// Copy: every segment the destination lacks, byte for byte (checked against
// its name first), in height order. Returns how many were copied.
Result<uint64_t> CopyBlockSegments(const Repository& source, storage::ObjectStore& destination);

}  // namespace ailee::repo
