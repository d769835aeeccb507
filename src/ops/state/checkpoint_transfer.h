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
#include "state/checkpoint_manifest.h"
#include "storage/object_store.h"

namespace ailee::ops {

// True for URLs that name an object store rather than a local directory
// (anything with a scheme other than file://).
bool IsRemoteCheckpointUrl(const std::string& url);

// Uploads the checkpoint directory `dir` (with its manifest) to `store`.
// Refuses (kAlreadyExists) when `store` already holds a checkpoint manifest.
// Every file is checked against the manifest as it is read.
Status UploadCheckpoint(const std::string& dir, storage::ObjectStore& store, const state::CheckpointProgressFn& progress = {});

// Downloads the checkpoint in `store` into `dir` (must not exist), checking
// each file's size and SHA-256 against the manifest; the directory is built
// under a temporary name and renamed into place when complete.
Result<state::CheckpointManifest> DownloadCheckpoint(storage::ObjectStore& store, const std::string& dir,
                                              const state::CheckpointProgressFn& progress = {});

// Downloads the checkpoint in `store` into a fresh scratch directory beside
// `beside` ("<beside>.tmp.<owner>...", fs::TempSiblingName: same filesystem,
// so an apply can link instead of copy), after removing what killed runs
// left there. Returns the directory, which the caller removes on every path.
Result<std::string> DownloadCheckpointBeside(storage::ObjectStore& store, const std::string& beside,
                                             const state::CheckpointProgressFn& progress = {});

}  // namespace ailee::ops
