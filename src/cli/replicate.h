// Rendering of ops::ReplicateSnapshot (ops/state/replicate.h) for the backup
// commands: each calls ReplicateToSecondaries after its snapshot landed in
// the primary repository.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/command.h"
#include "cli/repo_session.h"
#include "ops/state/replicate.h"

namespace ailee::cli {

using ops::IsPermanentLocationFailure;
using ops::ReplicationOutcome;
using ops::ReplicationStatus;

// Copies `snapshot_id` (hex) from the session's repository to each
// secondary repository named by the config (none without a config), one
// audited repo.copy operation each, printing a line per location copied.
std::vector<ReplicationOutcome> ReplicateToSecondaries(const GlobalOptions& g, RepoSession& session,
                                                       const std::string& snapshot_id);

// [{"url","ok","error"?,"bytes_copied","packs_copied"}, ...]
nlohmann::json ReplicationJson(const std::vector<ReplicationOutcome>& outcomes);

}  // namespace ailee::cli
