#include "ops/state/checkpoint_apply.h"

#include "base/fs.h"
#include "ops/state/checkpoint_transfer.h"
#include "state/checkpoint_verify.h"
#include "repo/ids.h"
#include "storage/object_store.h"

namespace ailee::ops {

Result<state::ApplyReport> ApplyCheckpoint(const CheckpointApplyOptions& o) {
  state::ApplyOptions ao;
  ao.federation = o.federation;
  ao.allow_rollback = o.allow_rollback;
  ao.progress = o.progress;
  ao.file_system = o.file_system;
  if (!IsRemoteCheckpointUrl(o.source)) return state::ApplyCheckpointDir(o.source, o.target, ao);

  ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(o.source));
  // A rollback is refused before anything is downloaded.
  if (auto text = store->Get(state::kCheckpointManifestName); text.ok()) {
    ASSIGN_OR_RETURN(state::CheckpointManifest remote, state::DecodeManifest(*text, o.source));
    RETURN_IF_ERROR(state::CheckNotRollingBack(o.target, remote.height, remote.block_hash, o.allow_rollback));
  }
  auto downloaded = DownloadCheckpointBeside(*store, o.target, o.progress);
  if (!downloaded.ok()) {
    auto is_repo = store->Exists(repo::ConfigKey());  // the repository's own config object
    if (downloaded.status().code() == StatusCode::kNotFound && is_repo.ok() && *is_repo) {
      return InvalidArgument(o.source + " holds a backup repository, not a checkpoint: use "
                             "`ailee-cli apply-checkpoint latest --repo " + o.source + " --target DIR`");
    }
    return downloaded.status();
  }
  // Hashed file by file as it was written; ApplyCheckpointDir still checks
  // its entries and proves its database before it may touch the target.
  ao.consume_src = true;
  auto r = state::ApplyCheckpointDir(*downloaded, o.target, ao);
  (void)fs::RemoveAll(*downloaded, o.file_system);
  return r;
}

}  // namespace ailee::ops
