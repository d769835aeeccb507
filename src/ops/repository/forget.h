// `forget [--prune]`: snapshots removed by a retention policy
// (repo::Forget), then the data no snapshot references (repo::Prune) when
// asked; never pruned on a dry run.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "repo/prune.h"
#include "repo/repository.h"
#include "repo/retention.h"

namespace ailee::ops {

struct ForgetJobOptions {
  repo::ForgetOptions forget;
  bool prune = false;
  // Called for each snapshot removed (not on a dry run), before the prune:
  // the audit record names them even when the prune then fails.
  std::function<void(const repo::Id& snapshot_id)> on_forgotten;
};

struct ForgetJobResult {
  std::vector<repo::ForgetDecision> decisions;
  std::optional<repo::PruneStats> pruned;  // set when pruned
};

Result<ForgetJobResult> ForgetAndPrune(repo::Repository& repo, const ForgetJobOptions& options);

}  // namespace ailee::ops
