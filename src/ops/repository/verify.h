// `verify`: the repository check (repo::Verify, with every state snapshot's
// database opened read-only) and, when asked and the check passed, the
// restore test (ops/state/restore.h RestoreTest).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "ops/state/restore.h"
#include "repo/repository.h"
#include "repo/verify.h"
#include "state/federation.h"

namespace ailee::ops {

struct RepositoryVerifyOptions {
  bool read_data = false;       // decrypt and re-hash every object and file
  bool restore_test = false;
  std::string scratch_parent;   // where the restore test restores (empty: $TMPDIR, else /tmp)
  std::optional<state::Federation> federation;  // the restore test's signature checks
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct RepositoryVerification {
  repo::VerifyReport report;
  std::optional<Result<StateRestoreResult>> restore_test;  // set when it ran
};

Result<RepositoryVerification> VerifyRepository(repo::Repository& repo, const RepositoryVerifyOptions& options);

// Ok, or the first failure the verification shows: damage (kDataLoss), then
// the restore test's error.
Status VerdictOf(const RepositoryVerification& v);

}  // namespace ailee::ops
