// The checkpoint format: AILEE-CHECKPOINT.json, the manifest of a checkpoint
// directory (docs/checkpoint-format.md).
//
// A checkpoint is a directory holding a consistent RocksDB copy of a node's
// state at a block boundary plus its manifest: node id, height, block hash,
// state root, and every file with size and SHA-256. The manifest is written
// last, atomically, and the directory is built under a temporary name and
// renamed into place, so a checkpoint that exists under its final name is
// complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::state {

inline constexpr char kCheckpointManifestName[] = "AILEE-CHECKPOINT.json";

struct CheckpointFile {
  std::string path;  // relative to the checkpoint directory
  uint64_t size = 0;
  crypto::Hash256 sha256{};
};

struct CheckpointManifest {
  int format = 1;
  std::string node_id;
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  int64_t created_unix = 0;
  std::string source;  // "online:<url>", "offline:<data dir>" or "snapshot:<id>"
  std::vector<CheckpointFile> files;
};

// Progress of the checkpoint jobs: phase ("hash", "files", "apply",
// "download"...), bytes done and total.
// Threads the checkpoint code hashes, verifies and applies files with
// (base/parallel.h): two, as the worker pool it replaced had.
inline constexpr int kCheckpointThreads = 2;

using CheckpointProgressFn = std::function<void(const std::string& phase, uint64_t done, uint64_t total)>;

std::string EncodeManifest(const CheckpointManifest& m);
// kDataLoss when the text is not a manifest, names a path that escapes the
// checkpoint, or a malformed hash; kInvalidArgument for another format.
Result<CheckpointManifest> DecodeManifest(std::string_view json_text, const std::string& where);
// `dir`/AILEE-CHECKPOINT.json, read without following anything
// (state/checkpoint_files.h). kNotFound when there is none.
Result<CheckpointManifest> ReadManifest(const std::string& dir);

// The sum of the files' sizes.
uint64_t ManifestBytes(const CheckpointManifest& m);

}  // namespace ailee::state
