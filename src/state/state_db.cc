#include "state/state_db.h"

#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <mutex>

#include "base/fs.h"
#include "base/hex.h"
#include "state/encoding.h"
#include "state/internal/executor.h"
#include "state/internal/rocks.h"
#include "state/internal/table_properties.h"
#include "state/state_root.h"
#include "state/stored_chain_id.h"

namespace ailee::state {

using internal::FromRocks;
using internal::RocksDb;
using internal::TipRecord;

struct StateDb::Impl {
  std::unique_ptr<RocksDb> rdb;
  std::mutex apply_mu;  // serializes ProduceBlock, ApplyBlock, CreateCheckpoint

  mutable std::mutex tip_mu;  // guards the cached copies below
  ChainTip tip;
  LtHash accumulator;  // equals meta/accumulator; only touched under apply_mu
  uint64_t tx_count = 0;

  // The control CF, cached (guarded by control_mu; written only by Commit,
  // under apply_mu): the stored epochs in number order, the latest freeze
  // decision, and the history built on the genesis last asked for. With
  // them the chain id (the hash of block 1, once it exists) that every
  // federation change must name.
  mutable std::mutex control_mu;
  std::optional<crypto::Hash256> chain_id;
  std::vector<FederationEpoch> stored_epochs;
  std::optional<PegFreezeRecord> freeze;
  // Immutable once built: readers keep their copy of the pointer while a
  // commit installs a new one.
  mutable std::shared_ptr<const FederationHistory> history;

  Status LoadControl();
  // The history over `genesis` (built once per genesis, cached) and the
  // freeze decision, as of the committed tip.
  struct Control {
    std::shared_ptr<const FederationHistory> history;
    std::optional<PegFreezeRecord> freeze;
  };
  Result<Control> CurrentControl(const Federation& genesis) const;
  // Folds the control writes of committed block `height` (hash
  // `block_hash`) into the caches; block 1 sets the chain id.
  Status RefreshControl(uint64_t height, const crypto::Hash256& block_hash,
                        const std::map<BlockExecutor::Key, std::string>& writes);

  StateReader Reader() const {
    return [this](std::string_view cf, std::string_view key) { return rdb->Get(cf, key); };
  }
  ChainTip CurrentTip() const {
    std::lock_guard<std::mutex> l(tip_mu);
    return tip;
  }
  Status CheckWritable() const {
    if (rdb->read_only()) return FailedPrecondition("state db " + rdb->dir() + " is open read-only");
    return Status::Ok();
  }
  Status CheckAnchorPresence(const Block& block, uint64_t interval) const;
  // Writes `block` and the state `writes` produced by executing it, as one
  // batch (fsynced with `sync`), and advances the cached tip. `new_acc` is
  // the accumulator after the writes (already folded into block.header.state_root);
  // `tx_ids[i]` is TxId(block.transactions[i]) (the caller hashed them once).
  Status Commit(const Block& block, const std::vector<crypto::Hash256>& tx_ids,
                const std::map<BlockExecutor::Key, std::string>& writes, const LtHash& new_acc, bool sync = true);
  // The accumulator after applying `writes` on top of the committed state.
  Result<LtHash> FoldWrites(const std::map<BlockExecutor::Key, std::string>& writes) const;
};

StateDb::StateDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateDb::~StateDb() = default;

const std::string& StateDb::dir() const { return impl_->rdb->dir(); }

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& dir, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->rdb, RocksDb::Open(dir, options.read_only, options.create_if_missing, options.compact));
  ASSIGN_OR_RETURN(TipRecord t, impl->rdb->ReadTip());
  ASSIGN_OR_RETURN(impl->accumulator, impl->rdb->ReadAccumulator());
  ASSIGN_OR_RETURN(impl->tx_count, impl->rdb->ReadCounter(internal::kMetaTxCount));
  if (impl->accumulator.Root() != t.state_root) {
    return DataLoss("state db " + dir + ": persisted state accumulator does not match the state root of tip block " +
                    std::to_string(t.height) + "; run verify-state");
  }
  impl->tip.height = t.height;
  impl->tip.block_hash = t.block_hash;
  impl->tip.state_root = t.state_root;
  impl->tip.timestamp_ms = t.timestamp_ms;
  ASSIGN_OR_RETURN(auto last_anchor, impl->rdb->Get(kCfMeta, internal::kMetaLastAnchor));
  if (last_anchor) {
    uint64_t h = 0;
    if (!DecodeU64(*last_anchor, &h)) return DataLoss("state db " + dir + ": malformed meta/last_anchor");
    impl->tip.last_anchor_height = h;
  }
  RETURN_IF_ERROR(impl->LoadControl());
  return std::unique_ptr<StateDb>(new StateDb(std::move(impl)));
}

Status StateDb::Impl::LoadControl() {
  // A damaged block 1 leaves the chain id unknown rather than failing the
  // open: only a federation change needs it, and CheckNext then says so
  // (verify-state names the damage).
  ASSIGN_OR_RETURN(auto first, rdb->Get(kCfBlocks, EncodeU64(1)));
  ASSIGN_OR_RETURN(auto second, rdb->Get(kCfBlocks, EncodeU64(2)));
  chain_id = StoredChainId(first, second);
  rocksdb::ColumnFamilyHandle* cf = rdb->cf(kCfControl);
  if (cf == nullptr) return Status::Ok();  // an older database opened read-only: no control records
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(rdb->db()->NewIterator(ro, cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (key == kControlPegsFrozen) {
      ASSIGN_OR_RETURN(freeze, DecodePegFreezeRecord(value));
      continue;
    }
    auto number = ParseEpochKey(key);
    if (!number) return DataLoss("state db " + rdb->dir() + ": unknown control record \"" + HexEncode(key) + "\"");
    ASSIGN_OR_RETURN(FederationEpoch e, DecodeEpochRecord(value));
    if (e.number != *number || e.number != stored_epochs.size() + 1) {
      return DataLoss("state db " + rdb->dir() + ": federation epoch records are not numbered 1, 2, ... (found " +
                      std::to_string(*number) + " after " + std::to_string(stored_epochs.size()) + ")");
    }
    stored_epochs.push_back(std::move(e));
  }
  return FromRocks(it->status(), "reading the control records of " + rdb->dir());
}

Result<StateDb::Impl::Control> StateDb::Impl::CurrentControl(const Federation& genesis) const {
  std::lock_guard<std::mutex> l(control_mu);
  if (history && history->epochs().front().federation == genesis) return Control{history, freeze};
  auto h = std::make_shared<FederationHistory>(genesis);
  if (chain_id) h->SetChainId(*chain_id);
  for (const auto& e : stored_epochs) {
    Status st = h->Append(*e.change, e.change_height, e.change_tx_id);
    if (!st.ok()) {
      // Without block 1 no stored change can be checked: the damage is the
      // block, and the genesis hint would have the operator edit a config
      // that is right.
      if (!chain_id) {
        return DataLoss("the chain's federation epoch " + std::to_string(e.number) + " (from height " +
                        std::to_string(e.start_height) + ") cannot be checked: block 1 of " + rdb->dir() +
                        " is missing or does not decode, and a federation change is checked against the hash of "
                        "block 1 (run `ailee-cli verify-state`; restore the data dir from a backup or resync it "
                        "from a peer; do not edit federation.signers)");
      }
      // A stored change for another chain is damage to this data dir, not
      // an edited config: the genesis hint would send the operator astray.
      const bool foreign = e.change->chain_id != *chain_id;  // chain_id is known here
      return FailedPrecondition("the chain's federation epoch " + std::to_string(e.number) + " (from height " +
                                std::to_string(e.start_height) + ") does not follow from the " +
                                (foreign ? "chain" : "configured genesis federation") + ": " + st.message() +
                                (foreign ? " (the data dir holds a change this chain never accepted: run verify-state)"
                                         : " (was federation.signers edited after a rotation? It must stay the genesis "
                                           "federation; the chain carries later epochs: see `ailee-cli federation "
                                           "show`)"));
    }
  }
  history = std::move(h);
  return Control{history, freeze};
}

Status StateDb::Impl::RefreshControl(uint64_t height, const crypto::Hash256& block_hash,
                                     const std::map<BlockExecutor::Key, std::string>& writes) {
  std::lock_guard<std::mutex> l(control_mu);
  if (height == 1) {
    chain_id = block_hash;
    if (history) {
      auto next = std::make_shared<FederationHistory>(*history);
      next->SetChainId(block_hash);
      history = std::move(next);
    }
  }
  for (auto it = writes.lower_bound({std::string(kCfControl), ""}); it != writes.end() && it->first.first == kCfControl;
       ++it) {
    const std::string& key = it->first.second;
    if (key == kControlPegsFrozen) {
      ASSIGN_OR_RETURN(freeze, DecodePegFreezeRecord(it->second));
      continue;
    }
    ASSIGN_OR_RETURN(FederationEpoch e, DecodeEpochRecord(it->second));
    if (history && history->epochs().size() == stored_epochs.size() + 1) {
      auto next = std::make_shared<FederationHistory>(*history);
      RETURN_IF_ERROR(next->Append(*e.change, e.change_height, e.change_tx_id));
      history = std::move(next);
    } else {
      history.reset();  // rebuilt on the next ask
    }
    stored_epochs.push_back(std::move(e));
  }
  return Status::Ok();
}

Result<FederationHistory> StateDb::Federations(const Federation& genesis) const {
  ASSIGN_OR_RETURN(Impl::Control c, impl_->CurrentControl(genesis));
  return *c.history;
}

std::optional<PegFreezeState> StateDb::PegsFrozen() const {
  std::lock_guard<std::mutex> l(impl_->control_mu);
  if (!impl_->freeze || !impl_->freeze->frozen) return std::nullopt;
  return PegFreezeState{impl_->freeze->height, impl_->freeze->reason, impl_->freeze->operator_id};
}

Result<std::optional<std::string>> StateDb::GetLocal(std::string_view key) const {
  return impl_->rdb->Get(kCfLocal, key);
}

Status StateDb::PutLocal(std::string_view key, std::string_view value) {
  RETURN_IF_ERROR(impl_->CheckWritable());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->rdb->db()->Put(wo, impl_->rdb->cf(kCfLocal), rocksdb::Slice(key.data(), key.size()),
                                         rocksdb::Slice(value.data(), value.size())),
                   "writing local/" + std::string(key) + " in " + impl_->rdb->dir());
}

Status StateDb::DeleteLocal(std::string_view key) {
  RETURN_IF_ERROR(impl_->CheckWritable());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->rdb->db()->Delete(wo, impl_->rdb->cf(kCfLocal), rocksdb::Slice(key.data(), key.size())),
                   "deleting local/" + std::string(key) + " in " + impl_->rdb->dir());
}

ChainTip StateDb::Tip() const { return impl_->CurrentTip(); }

Status StateDb::CheckTransaction(const Transaction& tx, const Federation& federation,
                                 const VerifiedTxIds* verified, const crypto::Hash256* tx_id) const {
  ASSIGN_OR_RETURN(Impl::Control c, impl_->CurrentControl(federation));
  BlockExecutor exec(impl_->Reader(), *c.history, c.freeze, impl_->CurrentTip().height + 1);
  return exec.Apply(tx, verified != nullptr && SignatureAlreadyVerified(tx, tx_id ? *tx_id : TxId(tx), verified));
}

Result<LtHash> StateDb::Impl::FoldWrites(const std::map<BlockExecutor::Key, std::string>& writes) const {
  LtHash acc = accumulator;
  for (const auto& [k, value] : writes) {
    ASSIGN_OR_RETURN(auto old, rdb->Get(k.first, k.second));
    if (old) acc.Remove(k.first, k.second, *old);
    acc.Add(k.first, k.second, value);
  }
  return acc;
}

Status StateDb::Impl::Commit(const Block& block, const std::vector<crypto::Hash256>& tx_ids,
                             const std::map<BlockExecutor::Key, std::string>& writes, const LtHash& new_acc, bool sync) {
  const BlockHeader& h = block.header;
  const std::string height_key = EncodeU64(h.height);
  rocksdb::WriteBatch batch;
  auto put = [&](std::string_view cf, std::string_view key, std::string_view value) {
    return FromRocks(batch.Put(rdb->cf(cf), rocksdb::Slice(key.data(), key.size()),
                               rocksdb::Slice(value.data(), value.size())),
                     "building batch");
  };

  std::vector<WriteSetEntry> write_set;
  write_set.reserve(writes.size());
  for (const auto& [k, value] : writes) {
    RETURN_IF_ERROR(put(k.first, k.second, value));
    write_set.push_back({k.first, k.second, crypto::Sha256(value)});
  }
  RETURN_IF_ERROR(put(kCfWriteSets, height_key, EncodeWriteSet(write_set)));

  BlockRecord record{h, tx_ids};
  for (uint32_t i = 0; i < block.transactions.size(); ++i) {
    const Transaction& tx = block.transactions[i];
    const crypto::Hash256& id = tx_ids[i];
    RETURN_IF_ERROR(put(kCfTransactions, crypto::HashToString(id), EncodeTxRecord({h.height, i, tx})));
  }
  RETURN_IF_ERROR(put(kCfBlocks, height_key, EncodeBlockRecord(record)));
  if (block.anchor) {
    RETURN_IF_ERROR(put(kCfAnchors, height_key, EncodeAnchor(*block.anchor)));
    RETURN_IF_ERROR(put(kCfMeta, internal::kMetaLastAnchor, height_key));
  }
  TipRecord t{h.height, h.Hash(), h.state_root, h.timestamp_ms};
  RETURN_IF_ERROR(put(kCfMeta, internal::kMetaTip, internal::EncodeTip(t)));
  RETURN_IF_ERROR(put(kCfMeta, internal::kMetaAccumulator, new_acc.ToBytes()));
  RETURN_IF_ERROR(put(kCfMeta, internal::kMetaTxCount, EncodeU64(tx_count + block.transactions.size())));

  rocksdb::WriteOptions wo;
  wo.sync = sync;
  RETURN_IF_ERROR(FromRocks(rdb->db()->Write(wo, &batch), "writing block " + std::to_string(h.height)));

  accumulator = new_acc;
  RETURN_IF_ERROR(RefreshControl(h.height, t.block_hash, writes)
                      .WithContext("block " + std::to_string(h.height) + " committed, but"));
  std::lock_guard<std::mutex> l(tip_mu);
  tx_count += block.transactions.size();
  tip.height = t.height;
  tip.block_hash = t.block_hash;
  tip.state_root = t.state_root;
  tip.timestamp_ms = t.timestamp_ms;
  if (block.anchor) tip.last_anchor_height = h.height;
  return Status::Ok();
}

Status StateDb::Impl::CheckAnchorPresence(const Block& block, uint64_t interval) const {
  const uint64_t height = block.header.height;
  const bool due = interval > 0 && height % interval == 0;
  if (due && !block.anchor) {
    return InvalidArgument("block " + std::to_string(height) + ": anchor commitment missing (interval " +
                           std::to_string(interval) + ")");
  }
  if (!due && block.anchor) {
    return InvalidArgument("block " + std::to_string(height) + ": unexpected anchor commitment (interval " +
                           std::to_string(interval) + ")");
  }
  return Status::Ok();
}

Result<ProducedBlock> StateDb::ProduceBlock(std::vector<Transaction> txs, const crypto::PrivateKey& signer,
                                            const std::string& signer_id, int64_t timestamp_ms,
                                            uint64_t commitment_interval, const Federation& federation) {
  return ProduceBlock(std::move(txs), SignFn([&signer](std::string_view m) { return signer.Sign(m); }), signer_id,
                      timestamp_ms, commitment_interval, federation);
}

Result<ProducedBlock> StateDb::ProduceBlock(std::vector<Transaction> txs, const SignFn& sign,
                                            const std::string& signer_id, int64_t timestamp_ms,
                                            uint64_t commitment_interval, const Federation& federation,
                                            const BeforeCommitFn& before_commit, const VerifiedTxIds* verified) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.apply_mu);
  RETURN_IF_ERROR(d.CheckWritable());
  const ChainTip tip = d.CurrentTip();
  if (timestamp_ms < tip.timestamp_ms) {
    return InvalidArgument("timestamp_ms " + std::to_string(timestamp_ms) + " is before the tip's " +
                           std::to_string(tip.timestamp_ms));
  }
  ProducedBlock out;
  BlockHeader& h = out.block.header;
  h.height = tip.height + 1;
  ASSIGN_OR_RETURN(Impl::Control control, d.CurrentControl(federation));
  const FederationHistory& history = *control.history;
  if (history.At(h.height).Find(signer_id) == nullptr) {
    return FailedPrecondition("signer " + signer_id + " may not sign block " + std::to_string(h.height) + ": " +
                              history.DescribeSigner(signer_id, h.height) + " (the epoch in force is " +
                              std::to_string(history.EpochAt(h.height).number) + ")");
  }
  BlockExecutor exec(d.Reader(), history, control.freeze, h.height);
  // Each tx id hashed once: for the verified lookup, the rejection, the
  // tx root and the stored records.
  std::vector<crypto::Hash256> ids;
  ids.reserve(txs.size());
  out.block.transactions.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    const crypto::Hash256 id = TxId(txs[i]);
    Status st = exec.Apply(txs[i], verified != nullptr && SignatureAlreadyVerified(txs[i], id, verified));
    if (st.ok()) {
      out.block.transactions.push_back(std::move(txs[i]));
      ids.push_back(id);
    } else if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kFailedPrecondition) {
      out.rejected.push_back({i, id, st});
    } else {
      return st.WithContext("producing block " + std::to_string(h.height));
    }
  }
  ASSIGN_OR_RETURN(LtHash acc, d.FoldWrites(exec.writes()));
  h.prev_hash = tip.block_hash;
  h.tx_root = MerkleRoot(ids);
  h.state_root = acc.Root();
  h.timestamp_ms = timestamp_ms;
  h.signer_id = signer_id;
  const crypto::Hash256 hash = h.Hash();
  ASSIGN_OR_RETURN(h.signature, sign(crypto::HashToString(hash)));
  // Catch a key/id mix-up here rather than producing blocks no follower accepts.
  RETURN_IF_ERROR(CheckBlockSignature(h, history).WithContext("signer key does not match federation entry"));
  if (commitment_interval > 0 && h.height % commitment_interval == 0) {
    ASSIGN_OR_RETURN(out.block.anchor, MakeAnchor(h.height, hash, h.state_root, sign, signer_id));
  }
  if (before_commit) RETURN_IF_ERROR(before_commit(out.block));
  RETURN_IF_ERROR(d.Commit(out.block, ids, exec.writes(), acc));
  return out;
}

Status StateDb::ApplyBlock(const Block& block, const Federation& federation, uint64_t commitment_interval,
                           WalSync wal_sync) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.apply_mu);
  RETURN_IF_ERROR(d.CheckWritable());
  const ChainTip tip = d.CurrentTip();
  const BlockHeader& h = block.header;
  const std::string where = "block " + std::to_string(h.height) + ": ";
  if (h.height != tip.height + 1) {
    return FailedPrecondition(where + "does not follow the tip at height " + std::to_string(tip.height));
  }
  if (h.prev_hash != tip.block_hash) {
    return InvalidArgument(where + "prev_hash " + crypto::HashToHex(h.prev_hash) + " does not match tip hash " +
                           crypto::HashToHex(tip.block_hash));
  }
  if (h.timestamp_ms < tip.timestamp_ms) return InvalidArgument(where + "timestamp goes back in time");
  ASSIGN_OR_RETURN(Impl::Control control, d.CurrentControl(federation));
  const FederationHistory& history = *control.history;
  RETURN_IF_ERROR(CheckBlockSignature(h, history));
  std::vector<crypto::Hash256> ids;
  ids.reserve(block.transactions.size());
  for (const auto& tx : block.transactions) ids.push_back(TxId(tx));
  if (MerkleRoot(ids) != h.tx_root) return InvalidArgument(where + "tx_root does not match its transactions");
  RETURN_IF_ERROR(d.CheckAnchorPresence(block, commitment_interval));
  const crypto::Hash256 hash = h.Hash();
  if (block.anchor) {
    const AnchorCommitment& a = *block.anchor;
    if (a.height != h.height || a.block_hash != hash || a.state_root != h.state_root) {
      return InvalidArgument(where + "anchor commitment does not commit to this block");
    }
    Status st = CheckAnchor(a, &history.At(h.height));
    if (!st.ok()) return InvalidArgument(where + st.message());
  }
  BlockExecutor exec(d.Reader(), history, control.freeze, h.height);
  for (size_t i = 0; i < block.transactions.size(); ++i) {
    Status st = exec.Apply(block.transactions[i]);
    if (!st.ok()) {
      // A peg tx while frozen, or a freeze that changes nothing, makes the
      // block invalid like any other invalid transaction.
      const StatusCode code = st.code() == StatusCode::kFailedPrecondition ? StatusCode::kInvalidArgument : st.code();
      return Status(code, where + "transaction " + std::to_string(i) + " (" +
                                   crypto::HashToHex(ids[i]) + ") is invalid: " + st.message());
    }
  }
  ASSIGN_OR_RETURN(LtHash acc, d.FoldWrites(exec.writes()));
  if (acc.Root() != h.state_root) {
    return DataLoss(where + "state root after re-execution is " + crypto::HashToHex(acc.Root()) +
                    ", the signed header says " + crypto::HashToHex(h.state_root) +
                    " (local state diverged or the signer misbehaved; run verify-state)");
  }
  return d.Commit(block, ids, exec.writes(), acc, wal_sync == WalSync::kEachBlock);
}

Status StateDb::SyncWal() {
  RETURN_IF_ERROR(impl_->CheckWritable());
  return FromRocks(impl_->rdb->db()->SyncWAL(), "syncing the WAL of " + impl_->rdb->dir());
}

Result<Block> StateDb::GetBlock(uint64_t height) const {
  const RocksDb& db = *impl_->rdb;
  const std::string where = "block " + std::to_string(height);
  ASSIGN_OR_RETURN(auto raw, db.Get(kCfBlocks, EncodeU64(height)));
  if (!raw) return NotFound(where + " not found");
  auto record = DecodeBlockRecord(*raw);
  if (!record.ok()) return DataLoss(where + ": " + record.status().message());
  Block b;
  b.header = std::move(record->header);
  for (const auto& id : record->tx_ids) {
    ASSIGN_OR_RETURN(auto tx_raw, db.Get(kCfTransactions, crypto::HashToString(id)));
    if (!tx_raw) return DataLoss(where + ": transaction " + crypto::HashToHex(id) + " is missing");
    auto rec = DecodeTxRecord(*tx_raw);
    if (!rec.ok()) return DataLoss(where + ": transaction " + crypto::HashToHex(id) + ": " + rec.status().message());
    b.transactions.push_back(std::move(rec->tx));
  }
  ASSIGN_OR_RETURN(auto anchor_raw, db.Get(kCfAnchors, EncodeU64(height)));
  if (anchor_raw) {
    ASSIGN_OR_RETURN(b.anchor, DecodeAnchor(*anchor_raw));
  }
  return b;
}

Result<Account> StateDb::GetAccount(const std::string& account_id_hex) const {
  ASSIGN_OR_RETURN(std::string key, ParseAccountId(account_id_hex));
  ASSIGN_OR_RETURN(auto raw, impl_->rdb->Get(kCfAccounts, key));
  if (!raw) return NotFound("account " + account_id_hex + " not found");
  return DecodeAccount(*raw);
}

Result<PegInRecord> StateDb::GetPegIn(const std::string& btc_txid_hex) const {
  auto key = HexDecode(btc_txid_hex);
  if (!key || key->size() != 32) return InvalidArgument("btc_txid: must be 64 hex chars");
  ASSIGN_OR_RETURN(auto raw, impl_->rdb->Get(kCfPegIns, *key));
  if (!raw) return NotFound("peg-in " + btc_txid_hex + " not found");
  return DecodePegIn(*raw);
}

uint64_t StateDb::SignerNonce(const std::string& signer_id) const {
  auto raw = impl_->rdb->Get(kCfSigners, signer_id);
  if (!raw.ok() || !*raw) return 0;
  auto rec = DecodeSigner(**raw);
  return rec.ok() ? rec->nonce : 0;
}

Result<StateDb::IncludedTx> StateDb::GetTransaction(const crypto::Hash256& tx_id) const {
  ASSIGN_OR_RETURN(auto raw, impl_->rdb->Get(kCfTransactions, crypto::HashToString(tx_id)));
  if (!raw) return NotFound("transaction " + crypto::HashToHex(tx_id) + " not found");
  auto rec = DecodeTxRecord(*raw);
  if (!rec.ok()) return DataLoss("transaction " + crypto::HashToHex(tx_id) + ": " + rec.status().message());
  IncludedTx out{std::move(rec->tx), rec->height};
  return out;
}

Result<AnchorCommitment> StateDb::GetAnchor(uint64_t height) const {
  ASSIGN_OR_RETURN(auto raw, impl_->rdb->Get(kCfAnchors, EncodeU64(height)));
  if (!raw) return NotFound("anchor at height " + std::to_string(height) + " not found");
  return DecodeAnchor(*raw);
}

std::optional<AnchorCommitment> StateDb::LastAnchor() const {
  ChainTip tip = Tip();
  if (!tip.last_anchor_height) return std::nullopt;
  auto a = GetAnchor(*tip.last_anchor_height);
  if (!a.ok()) return std::nullopt;
  return std::move(*a);
}

Result<CheckpointInfo> StateDb::CreateCheckpoint(const std::string& dir) {
  Impl& d = *impl_;
  if (fs::Exists(dir)) return AlreadyExists("checkpoint directory " + dir + " already exists");
  std::lock_guard<std::mutex> lock(d.apply_mu);
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(d.rdb->db(), &raw), "creating checkpoint object"));
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  // A read-only instance cannot flush; its checkpoint carries the WAL instead.
  const uint64_t log_size_for_flush = d.rdb->read_only() ? UINT64_MAX : 0;
  RETURN_IF_ERROR(FromRocks(cp->CreateCheckpoint(dir, log_size_for_flush), "creating checkpoint in " + dir));
  ChainTip tip = d.CurrentTip();
  CheckpointInfo info{dir, tip.height, tip.block_hash, tip.state_root, {}};
  // The checkpoint links (or copies) the live table files under their own
  // names: the database's properties of a file are those of the file in
  // `dir`. One that compaction dropped meanwhile, or that is not in `dir`,
  // is left out: the caller reads that one itself.
  for (rocksdb::ColumnFamilyHandle* cf : d.rdb->column_families()) {
    rocksdb::TablePropertiesCollection tables;
    if (!d.rdb->db()->GetPropertiesOfAllTables(cf, &tables).ok()) continue;
    for (const auto& [live_path, props] : tables) {
      const std::string name = fs::Basename(live_path);
      const std::string path = fs::JoinPath(dir, name);
      if (!props || !fs::Exists(path)) continue;
      info.table_facts.insert_or_assign(name, internal::TableFileFacts(*props, path));
    }
  }
  return info;
}

Stats StateDb::GetStats() const {
  const RocksDb& db = *impl_->rdb;
  Stats s;
  {
    std::lock_guard<std::mutex> l(impl_->tip_mu);
    s.height = impl_->tip.height;
    s.total_transactions = impl_->tx_count;
  }
  for (auto cf : {kCfBlocks, kCfTransactions, kCfAccounts, kCfPegIns, kCfPegOuts, kCfSigners, kCfAnchors, kCfMeta,
                  kCfWriteSets, kCfControl}) {
    uint64_t v = 0;
    if (db.cf(cf) != nullptr && db.db()->GetIntProperty(db.cf(cf), "rocksdb.live-sst-files-size", &v)) s.live_data_bytes += v;
  }
  rocksdb::VectorLogPtr wals;
  if (db.db()->GetSortedWalFiles(wals).ok()) {
    for (const auto& w : wals) s.live_data_bytes += w->SizeFileBytes();
  }
  db.db()->GetIntProperty(db.cf(kCfAccounts), "rocksdb.estimate-num-keys", &s.accounts_estimate);
  return s;
}

Result<StateRootCheck> StateDb::RecomputeStateRoot() const {
  const RocksDb& db = *impl_->rdb;
  const rocksdb::Snapshot* snap = db.read_only() ? nullptr : db.db()->GetSnapshot();
  struct Release {
    const RocksDb& db;
    const rocksdb::Snapshot* snap;
    ~Release() {
      if (snap) db.db()->ReleaseSnapshot(snap);
    }
  } release{db, snap};
  StateRootCheck out;
  ASSIGN_OR_RETURN(TipRecord t, db.ReadTip(snap));
  ASSIGN_OR_RETURN(LtHash persisted, db.ReadAccumulator(snap));
  ASSIGN_OR_RETURN(internal::ScanResult scan, internal::ScanStateAccumulator(db, snap, 2));
  out.height = t.height;
  out.header_root = t.state_root;
  out.persisted_root = persisted.Root();
  out.recomputed_root = scan.accumulator.Root();
  out.entries = scan.entries;
  return out;
}

}  // namespace ailee::state
