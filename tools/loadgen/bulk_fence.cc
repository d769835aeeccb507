#include "loadgen/bulk_fence.h"

#include "base/hint.h"
#include "crypto/hash.h"
#include "state/block.h"

namespace ailee::loadgen {
namespace {

constexpr const char* kFenceDoc = "docs/keys.md \"The signing fence\"";

// The fence's block one above the tip, when it extends the tip; verified by
// ApplyBlock (signatures, state root) like a block from a leader.
Status ApplyPendingBlock(const keys::FenceState& f, const config::NodeConfig& config, state::StateDb& db,
                         const state::Federation& federation) {
  const state::ChainTip tip = db.Tip();
  if (f.pending_block.empty() || f.height != tip.height + 1) return Status::Ok();
  auto block = state::DecodeBlock(f.pending_block);
  if (!block.ok() || block->header.Hash() != f.block_hash || block->header.prev_hash != tip.block_hash) {
    return Status::Ok();  // not applicable: the check below refuses the data dir
  }
  return db.ApplyBlock(*block, federation, static_cast<uint64_t>(config.node.commitment_interval))
      .WithContext("applying block " + std::to_string(f.height) + " held by the signing fence");
}

}  // namespace

Result<std::unique_ptr<keys::SigningFence>> OpenFenceForBulkLoad(const config::NodeConfig& config,
                                                                 state::StateDb& db,
                                                                 const state::Federation& federation) {
  // The loader signs with the key file only (config::LoadSignerKey), so its
  // fence is the key file's.
  const std::string path = keys::FencePathForKeyFile(config.signer->key_file);
  auto opened = keys::SigningFence::Open(path);
  if (!opened.ok()) return opened.status().WithContext("bulk load: opening the signer's fence");
  std::unique_ptr<keys::SigningFence> fence = std::move(opened).value();
  const keys::FenceState& f = fence->state();
  RETURN_IF_ERROR(ApplyPendingBlock(f, config, db, federation));
  const state::ChainTip tip = db.Tip();
  const std::string where = "the data dir " + config.node.data_dir + " is at height " + std::to_string(tip.height);

  if (tip.height < f.height) {
    return WithHint(FailedPrecondition("bulk load refused: the signing fence " + path + " is at height " +
                                       std::to_string(f.height) + " (this key signed up to there) but " + where +
                                       "; loading would sign heights this key already signed"),
                    "bring the data dir to the fence first: start the node with its peers (it catches up, and "
                    "applies a block the fence holds), or load a data dir this key built; " + std::string(kFenceDoc));
  }
  if (f.height == 0 && tip.height > 0) {
    return WithHint(FailedPrecondition("bulk load refused: the signer key has no signing fence (" + path +
                                       ") but " + where + "; what this key signed is unknown"),
                    "check the tip against the network, then re-create the fence with the node stopped "
                    "(ailee-node --recreate-fence); docs/keys.md \"When the fence is lost\"");
  }
  if (f.height > 0) {
    ASSIGN_OR_RETURN(state::Block ours, db.GetBlock(f.height));
    if (ours.header.Hash() != f.block_hash) {
      return WithHint(FailedPrecondition("bulk load refused: the data dir " + config.node.data_dir +
                                         " holds block " + std::to_string(f.height) + " " +
                                         crypto::HashToHex(ours.header.Hash()) + " but the signing fence " + path +
                                         " has " + crypto::HashToHex(f.block_hash) +
                                         " there: the data dir is on another chain"),
                      "load only a data dir on the chain this key signed; " + std::string(kFenceDoc));
    }
  }
  return fence;
}

state::StateDb::BeforeCommitFn FenceBeforeCommit(keys::SigningFence& fence) {
  return [&fence](const state::Block& b) {
    return fence.Advance(b.header.height, b.header.Hash(), state::EncodeBlock(b));
  };
}

}  // namespace ailee::loadgen
