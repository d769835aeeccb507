#include "ops/state/checkpoint_verify.h"

#include <cstdlib>

#include "base/fs.h"
#include "ops/state/checkpoint_transfer.h"
#include "storage/object_store.h"

namespace ailee::ops {

Result<state::CheckpointVerifyReport> VerifyCheckpointAt(const CheckpointVerifyOptions& o) {
  if (!IsRemoteCheckpointUrl(o.location)) return state::VerifyCheckpoint(o.location, o.federation, o.progress);
  ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(o.location));
  std::string beside = o.download_beside;
  if (beside.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    beside = std::string(tmp ? tmp : "/tmp") + "/ailee-checkpoint";
  }
  ASSIGN_OR_RETURN(std::string local, DownloadCheckpointBeside(*store, beside, o.progress));
  auto r = state::VerifyCheckpoint(local, o.federation, o.progress);
  (void)fs::RemoveAll(local);
  return r;
}

}  // namespace ailee::ops
