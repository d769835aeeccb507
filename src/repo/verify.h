// Verify: is the repository intact, and which snapshots and files are not?
//
// Structure (always): every key slot's bytes hash to its name ("damaged key
// slot <id>") and the config's to the SHA-256 the slots recorded; every index file and
// snapshot has the right content hash and authenticates; every pack an
// index lists exists with the recorded size; every blob a snapshot file
// references is in the index.
// read_data: additionally reads every pack header, every distinct file of
// every snapshot blob by blob (decrypt, decompress, id check) with the
// file's SHA-256, and every blob no file references: each stored byte once;
// then, for each snapshot, the caller's check_snapshot (e.g. for kind
// "state": do its files form a database that opens, see
// ops/state/snapshot_check.h). repo/ knows nothing of what a kind's files mean.
//
// Damage is reported, not returned as an error: the result lists every
// problem with the snapshot, file path, pack and blob it concerns. The
// Status is an error only when verify itself could not run (store
// unreachable). The block archive is checked too (block_archive_upkeep.h:
// ranges always, contents with read_data).
//
// Reads only, under a shared repository lock (repo/lock.h): backups may run
// alongside, prune may not. While prune holds its exclusive lock, Verify
// does not wait: it fails at once with kAborted ("retry later", exit 6)
// instead of reporting packs that prune is replacing as missing. The lock
// is released (best effort) when Verify returns; one left behind by a
// failed release is removed by the next job on this host (owner gone).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "repo/lock.h"
#include "repo/blob_run_reader.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::repo {

struct VerifyOptions {
  bool read_data = false;
  int workers = 4;  // more than cores, so that reading packs overlaps checking them
  // read_data: files read at once, so ranged reads in flight (latency
  // hiding on S3), each worker merging a file's adjacent chunks into one
  // read (repo/blob_run_reader.h). Memory about read_workers x
  // (reads.max_bytes + 2 x chunk size).
  int read_workers = 8;
  BlobReadOptions reads;
  // Called with (bytes checked, bytes to check) during read_data.
  std::function<void(uint64_t, uint64_t)> progress;
  // read_data only: called once for every snapshot (not damaged) whose files
  // all read back intact. A non-ok Status is a problem of that snapshot
  // ("snapshot <id>", with the file the message starts with); kUnavailable
  // ends verify as a store error.
  std::function<Status(const Snapshot&)> check_snapshot;
  LockOptions lock;
};

struct VerifyProblem {
  std::string object;       // "pack <id>", "index <id>", "snapshot <id>", "blob <id>"
  std::string snapshot_id;  // when a snapshot is affected
  std::string path;         // when a file in a snapshot is affected
  std::string pack_id;
  std::string blob_id;
  std::string message;
  std::string ToString() const;
};

struct VerifyReport {
  uint64_t snapshots = 0;
  uint64_t index_files = 0;
  uint64_t packs = 0;
  uint64_t blobs = 0;
  uint64_t files_checked = 0;  // read_data only
  uint64_t snapshots_checked = 0;  // read_data with check_snapshot only
  uint64_t bytes_read = 0;
  uint64_t block_segments = 0;     // block archive segments (block_archive.h)
  uint64_t unreferenced_packs = 0;  // in data/ but in no index (prune removes them)
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};

Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options);

}  // namespace ailee::repo
