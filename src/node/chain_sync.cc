#include "node/chain_sync.h"

#include "base/clock.h"
#include "base/hex.h"

namespace ailee::node {

std::string ForkInfo::Describe() const {
  return "forked at height " + std::to_string(height) + " from " + peer + ": this node's block is " +
         crypto::HashToHex(ours) + ", " + peer + "'s is " + crypto::HashToHex(theirs);
}

namespace {

Result<crypto::Hash256> OurHashAt(const state::StateDb& db, uint64_t height) {
  if (height == 0) return crypto::Hash256{};
  ASSIGN_OR_RETURN(state::Block block, db.GetBlock(height));
  return block.header.Hash();
}

}  // namespace

Result<std::optional<ForkInfo>> CompareAt(NodeClient& peer, const state::StateDb& db, uint64_t height) {
  if (height == 0) return std::optional<ForkInfo>();
  auto theirs = peer.GetJson("/v1/blocks/" + std::to_string(height));
  if (!theirs.ok()) {
    if (theirs.status().code() == StatusCode::kNotFound) return std::optional<ForkInfo>();
    return theirs.status();
  }
  crypto::Hash256 their_hash{};
  if (!theirs->contains("header") || !crypto::HashFromHex((*theirs)["header"].value("hash", ""), &their_hash)) {
    return DataLoss(peer.url() + " sent block " + std::to_string(height) + " without a header hash");
  }
  ASSIGN_OR_RETURN(crypto::Hash256 ours, OurHashAt(db, height));
  if (ours == their_hash) return std::optional<ForkInfo>();
  return std::optional<ForkInfo>(ForkInfo{height, ours, their_hash, peer.url()});
}

namespace {

// Applies `blocks` (a /v1/blocks page) in order, each with a deferred WAL
// sync, counting them in `out`; stops at a fork (out->fork) or an error.
Status ApplyPage(NodeClient& peer, const nlohmann::json& blocks, state::StateDb& db,
                 const state::Federation& federation, uint64_t commitment_interval, PullResult* out) {
  for (const auto& b : blocks) {
    auto raw = HexDecode(b.value("encoded", ""));
    if (!raw) return DataLoss(peer.url() + " sent a block that is not hex");
    ASSIGN_OR_RETURN(state::Block block, state::DecodeBlock(*raw));
    const state::ChainTip tip = db.Tip();
    if (block.header.height == tip.height + 1 && block.header.prev_hash != tip.block_hash) {
      // Its parent is not our tip: the chains differ at our tip's height.
      out->fork = ForkInfo{tip.height, tip.block_hash, block.header.prev_hash, peer.url()};
      return Status::Ok();
    }
    int64_t t0 = Clock::Real().MonotonicNanos();
    Status st = db.ApplyBlock(block, federation, commitment_interval, state::StateDb::WalSync::kDeferred);
    if (!st.ok()) return st.WithContext("applying block " + std::to_string(block.header.height) + " from " + peer.url());
    out->applied++;
    out->last_block_ms = (Clock::Real().MonotonicNanos() - t0) / 1000000;
  }
  return Status::Ok();
}

}  // namespace

Result<PullResult> PullOnce(NodeClient& peer, state::StateDb& db, const state::Federation& federation,
                            uint64_t commitment_interval) {
  PullResult out;
  const uint64_t from = db.Tip().height + 1;
  ASSIGN_OR_RETURN(auto batch, peer.GetJson("/v1/blocks?from=" + std::to_string(from) + "&limit=200"));
  if (!batch.contains("tip") || !batch["tip"].is_number_unsigned() || !batch.contains("blocks") ||
      !batch["blocks"].is_array()) {
    return DataLoss(peer.url() + " answered /v1/blocks without tip and blocks");
  }
  out.peer_tip = batch["tip"].get<uint64_t>();
  const auto& blocks = batch["blocks"];
  if (blocks.empty()) {
    ASSIGN_OR_RETURN(out.fork, CompareAt(peer, db, std::min(out.peer_tip, db.Tip().height)));
    return out;
  }
  // One WAL sync for the page instead of one per block: kill -9 mid-page
  // keeps every block applied so far (the WAL is written, only not fsynced);
  // a power loss drops a tail of whole blocks, fetched again next round.
  Status applied = ApplyPage(peer, blocks, db, federation, commitment_interval, &out);
  if (out.applied > 0) {
    Status synced = db.SyncWal();
    if (applied.ok()) applied = synced;
  }
  RETURN_IF_ERROR(applied);
  return out;
}

}  // namespace ailee::node
