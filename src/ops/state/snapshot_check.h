// Would a state snapshot restore into a database that opens? The bridge
// between a repo::Snapshot and state::CheckDatabaseOpens: the snapshot's
// files are served from their blobs (decrypted on demand, a few cached), so
// RocksDB reads only what it reads at open (MANIFEST, WALs, table file
// footers, properties, indexes and filters), never the data blocks, and
// nothing is written anywhere. Used by `verify --read-data` for every
// snapshot of kind "state" (repo::VerifyOptions::check_snapshot).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

struct StateSnapshotCheckStats {
  uint64_t bytes_requested = 0;  // bytes RocksDB read through the file source
  uint64_t blob_bytes = 0;       // plaintext bytes of the blobs decrypted to serve them
  uint64_t file_bytes = 0;       // the snapshot's file sizes, for comparison
};

// Ok when the snapshot's files open as a RocksDB database read-only, with
// every table file's unique id matching its MANIFEST. kDataLoss naming the
// file (e.g. "table file 000123.sst") otherwise, or when a blob it needs is
// damaged; kUnavailable when the store could not be read.
Status CheckStateSnapshotOpens(repo::Repository& repo, const repo::Snapshot& snapshot,
                               StateSnapshotCheckStats* stats = nullptr);

}  // namespace ailee::ops
