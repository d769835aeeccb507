// Making a checkpoint of a stopped node's data dir, and sealing a checkpoint
// directory with its manifest (state/checkpoint_manifest.h).
//
// Asking a running node for one goes through its admin API: that is a job
// (ops/state/checkpoint_create.h), which then seals the directory here.
// Related: state/checkpoint_verify.h (verify-checkpoint), state/
// checkpoint_apply.h (apply-checkpoint), state/checkpoint_files.h (reading a
// checkpoint nobody vouches for), state/data_dir.h (the LOCK probe).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "state/checkpoint_manifest.h"
#include "state/database_file_facts.h"

namespace ailee::fs {
class FileSystem;
}  // namespace ailee::fs

namespace ailee::state {

// Hashes every regular file under `dir` (skipping the manifest), kCheckpointThreads threads.
Result<std::vector<CheckpointFile>> HashTree(const std::string& dir, const CheckpointProgressFn& progress = {});

// The RocksDB checkpoint of the stopped node's `data_dir` alone, into `dir`
// (must not exist), without hashing files or writing a manifest: the
// returned manifest has no files (backups use this so that unchanged SST
// files are never read). kNotFound when `data_dir` does not exist;
// kFailedPrecondition, hinting to stop the node or use the online path,
// when a node holds it (a retry alone does not help); refused as
// EnsureProven (state/proof_pending.h) says when `data_dir` holds a restored
// state not proven yet (checked while the database is held, before anything
// is written to `dir`). The database is opened with compactions off
// (OpenOptions::compact): the checkpoint holds the data dir's table files,
// plus what the WAL's replay flushes, and the data dir keeps them.
// `table_facts`, when given, receives CheckpointInfo::table_facts
// (state/state_db.h): what the open database knows of each table file.
Result<CheckpointManifest> TakeOfflineCheckpoint(const std::string& data_dir, const std::string& node_id,
                                                 const std::string& dir,
                                                 std::map<std::string, DatabaseFileFacts>* table_facts = nullptr);

// Completes the checkpoint taken into `dir`: hashes its files into
// `manifest->files`, fsyncs each, and writes the manifest last (atomically).
// A crash before the manifest leaves a directory that is not a checkpoint;
// once this returns, the manifest and `dir`'s entry in its parent are
// durable. The directory syncs and the manifest's write go through
// `file_system` (nullptr: the default).
Status SealCheckpoint(const std::string& dir, CheckpointManifest* manifest, const CheckpointProgressFn& progress = {},
                      fs::FileSystem* file_system = nullptr);

}  // namespace ailee::state
