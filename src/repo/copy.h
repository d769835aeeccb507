// Copy: replicates snapshots from one repository into another location
// (the runbook's geographic distribution, and backup.secondary_repositories).
//
// The destination is a replica: the same repository (same config id, same
// master key, same key slots), so packs, index files and snapshots are
// copied byte for byte and keep their names. Nothing is decrypted and
// re-encrypted, and an object is transferred only when the destination
// lacks it. An empty destination becomes a replica on the first copy; a
// destination that holds a different repository is refused.
//
// Every object read from the source is checked against its name (SHA-256 of
// the stored bytes) before it is written, so damage in one location never
// spreads to another.
//
// Order, so that a crash at any point leaves the destination valid: key
// slots, then config (create-only: the commit point of a new replica), then
// packs, then one index file for the packs the destination has not indexed
// yet, then the snapshots. A rerun after a crash transfers only what is
// still missing and indexes packs copied by the crashed run.
//
// Takes a shared lock on the destination, so a prune there cannot delete
// packs between their copy and the snapshot that needs them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "repo/lock.h"
#include "repo/repository.h"
#include "storage/object_store.h"

namespace ailee::repo {

struct CopyProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // bytes of packs the destination lacks
};

struct CopyOptions {
  // Snapshot ids, unique prefixes or "latest"; empty: every snapshot.
  std::vector<std::string> snapshots;
  int workers = 4;  // packs in flight
  std::function<void(const CopyProgress&)> progress;
  LockOptions lock;
};

struct CopyStats {
  bool created_replica = false;
  uint64_t key_slots_copied = 0;
  uint64_t snapshots_selected = 0;
  uint64_t snapshots_copied = 0;  // the rest were already there
  uint64_t packs_needed = 0;
  uint64_t packs_copied = 0;
  uint64_t bytes_copied = 0;
  uint64_t index_files_written = 0;
  uint64_t block_segments_copied = 0;  // block archive segments (block_archive.h)
  std::vector<std::string> copied_snapshot_ids;  // hex
};

Result<CopyStats> CopySnapshots(Repository& source, std::shared_ptr<storage::ObjectStore> destination,
                                const CopyOptions& options);

// Which of `snapshot_ids` (hex) the store at `store` holds, by listing its
// snapshots/ (no key needed). kNotFound when it holds no repository.
struct ReplicaListing {
  std::string repo_id;              // from its config
  std::vector<std::string> snapshot_ids;  // hex, sorted
};
Result<ReplicaListing> ListReplica(storage::ObjectStore& store);

}  // namespace ailee::repo
