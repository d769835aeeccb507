// verify-checkpoint: a checkpoint directory, or one in an object store
// (downloaded to scratch first), verified as state/checkpoint_verify.h says.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "state/checkpoint_verify.h"
#include "state/federation.h"

namespace ailee::ops {

struct CheckpointVerifyOptions {
  std::string location;  // a directory, or a checkpoint URL (s3://bucket/prefix)
  // A URL is downloaded beside this path (the node's data dir: same
  // filesystem, room for its state); $TMPDIR/ailee-checkpoint when empty.
  std::string download_beside;
  std::optional<state::Federation> federation;
  state::CheckpointProgressFn progress;
};

// The report of state::VerifyCheckpoint on the location; a download is
// removed on every path out (and killed runs' downloads first).
Result<state::CheckpointVerifyReport> VerifyCheckpointAt(const CheckpointVerifyOptions& options);

}  // namespace ailee::ops
