#include "ops/repository/forget.h"

namespace ailee::ops {

Result<ForgetJobResult> ForgetAndPrune(repo::Repository& repo, const ForgetJobOptions& options) {
  const bool dry_run = options.forget.dry_run;
  ForgetJobResult r;
  ASSIGN_OR_RETURN(r.decisions, repo::Forget(repo, options.forget));
  for (const auto& d : r.decisions) {
    if (!d.keep && !dry_run && options.on_forgotten) options.on_forgotten(d.snapshot_id);
  }
  if (options.prune && !dry_run) {
    ASSIGN_OR_RETURN(r.pruned, repo::Prune(repo, {}));
  }
  return r;
}

}  // namespace ailee::ops
