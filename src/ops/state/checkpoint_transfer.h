// Checkpoints on object storage: the runbook's `create-checkpoint --output`
// and `apply-checkpoint` with an s3:// (or any ObjectStore) URL instead of a
// directory.
//
// A checkpoint in a store is one object per file, keyed by its path relative
// to the checkpoint directory, plus the manifest (AILEE-CHECKPOINT.json)
// written last: a checkpoint whose manifest exists is complete, exactly as
// on disk. These are plain RocksDB files, like the runbook's `aws s3 sync`
// of a checkpoint; the encrypted, deduplicated way offsite is the
// repository (`backup state` + `copy`).
#pragma once

#include <string>

#include "base/status.h"
#include "ops/checkpoint.h"
#include "storage/object_store.h"

namespace ailee::ops {

// True for URLs that name an object store rather than a local directory
// (anything with a scheme other than file://).
bool IsRemoteCheckpointUrl(const std::string& url);

// Uploads the checkpoint directory `dir` (with its manifest) to `store`.
// Refuses (kAlreadyExists) when `store` already holds a checkpoint manifest.
// Every file is checked against the manifest as it is read.
Status UploadCheckpoint(const std::string& dir, storage::ObjectStore& store, const ProgressFn& progress = {});

// create-checkpoint --output URL: takes the checkpoint (options.output is
// ignored) into a scratch directory beside options.data_dir (hard links need
// its filesystem; "/tmp/ailee-checkpoint" when there is none), named
// "<data dir>.tmp.<pid>...", uploads it, and removes the scratch directory on
// every path out. A run killed midway leaves it behind: every run first
// removes the scratch directories of processes that are gone, which would
// otherwise pin compacted-away SST files forever.
Result<CheckpointManifest> CreateCheckpointInStore(CreateCheckpointOptions options, storage::ObjectStore& store);

// Downloads the checkpoint in `store` into `dir` (must not exist), checking
// each file's size and SHA-256 against the manifest; the directory is built
// under a temporary name and renamed into place when complete.
Result<CheckpointManifest> DownloadCheckpoint(storage::ObjectStore& store, const std::string& dir,
                                              const ProgressFn& progress = {});

}  // namespace ailee::ops
