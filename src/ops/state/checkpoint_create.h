// create-checkpoint: a checkpoint of a node's state (state/checkpoint.h)
// taken from a resolved source (ops/state/source.h): through the running
// node's admin API, or from its stopped data dir; into a new directory, or
// uploaded to an object store.
#pragma once

#include <map>
#include <string>

#include "base/status.h"
#include "ops/state/source.h"
#include "state/checkpoint_manifest.h"
#include "state/database_file_facts.h"
#include "storage/object_store.h"

namespace ailee::fs {
class FileSystem;
}  // namespace ailee::fs

namespace ailee::ops {

struct CreateCheckpointOptions {
  std::string output;       // CreateCheckpoint: the directory to create (must not exist)
  std::string node_url;     // online: ask this node through its admin API
  std::string admin_token;  // for node_url
  std::string data_dir;     // offline: open this stopped node's data dir
  std::string node_id;
  state::CheckpointProgressFn progress;
  // The seal (manifest, directory syncs) and the rename into place (nullptr:
  // the default). RocksDB writes the checkpoint's files itself.
  fs::FileSystem* file_system = nullptr;
};

// The options that take a checkpoint from `source`.
CreateCheckpointOptions CheckpointOptionsFor(const StateSource& source);

// The RocksDB checkpoint alone, into `dir` (must not exist): online when
// node_url is set (the node writes `dir`), else offline on data_dir
// (state::TakeOfflineCheckpoint). The returned manifest has no files.
// `table_facts`, when given, receives what an offline checkpoint's open
// database knew of each table file (state::TakeOfflineCheckpoint); an
// online one leaves it empty.
Result<state::CheckpointManifest> TakeCheckpoint(const CreateCheckpointOptions& options, const std::string& dir,
                                                 std::map<std::string, state::DatabaseFileFacts>* table_facts = nullptr);

// A sealed checkpoint at options.output: built under a temporary sibling
// name (fs::TempSiblingName; what killed runs left there is removed first)
// and renamed into place once its manifest is written, so a checkpoint that
// exists under its final name is complete. kAlreadyExists when output exists.
Result<state::CheckpointManifest> CreateCheckpoint(const CreateCheckpointOptions& options);

// create-checkpoint --output URL: takes the checkpoint (options.output is
// ignored) into a scratch directory beside options.data_dir (hard links need
// its filesystem; "/tmp/ailee-checkpoint" when there is none), named
// "<data dir>.tmp.<owner>..." (fs::TempSiblingName), seals and uploads it
// (ops/state/checkpoint_transfer.h), and removes the scratch directory on
// every path out. A run killed midway leaves it behind: every run first
// removes the scratch directories of processes that are gone, which would
// otherwise pin compacted-away SST files forever.
Result<state::CheckpointManifest> CreateCheckpointInStore(CreateCheckpointOptions options, storage::ObjectStore& store);

// create-checkpoint as one call: resolves the source (ResolveStateSource),
// then CreateCheckpoint into the directory `output`, or, for a URL
// (IsRemoteCheckpointUrl), CreateCheckpointInStore into that store. The
// store is opened first: a bad URL fails before the node is asked.
struct CheckpointOutputOptions {
  std::string output;  // a directory (must not exist) or an object-store URL
  StateSourceOptions source;
  state::CheckpointProgressFn progress;
};
Result<state::CheckpointManifest> CreateCheckpointAtOutput(const CheckpointOutputOptions& options);

}  // namespace ailee::ops
