// apply-checkpoint from a checkpoint directory or a checkpoint URL (the
// repository-snapshot source is ops/state/restore.h).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "state/checkpoint_apply.h"
#include "state/federation.h"

namespace ailee::ops {

struct CheckpointApplyOptions {
  std::string source;  // a checkpoint directory, or a checkpoint URL (s3://bucket/prefix)
  std::string target;  // the node data dir to update
  std::optional<state::Federation> federation;
  bool allow_rollback = false;
  state::CheckpointProgressFn progress;
  fs::FileSystem* file_system = nullptr;  // the staged tree and the swap (nullptr: the default)
};

// A URL: a rollback is refused (state::CheckNotRollingBack) on the remote
// manifest before anything is downloaded; the checkpoint is then downloaded
// beside the target (same filesystem, so files are linked, not copied),
// checked file by file, applied, and the download removed on every path
// (killed runs' downloads first). A URL holding a backup repository instead
// is kInvalidArgument naming the command that applies from it. A directory:
// state::ApplyCheckpointDir.
Result<state::ApplyReport> ApplyCheckpoint(const CheckpointApplyOptions& options);

}  // namespace ailee::ops
