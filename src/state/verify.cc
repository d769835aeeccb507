#include "state/verify.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/hex.h"
#include "base/parallel.h"
#include "state/block.h"
#include "state/control_records.h"
#include "state/encoding.h"
#include "state/federation_history.h"
#include "state/stored_chain_id.h"
#include "state/internal/rocks.h"
#include "state/records.h"
#include "state/state_root.h"

namespace ailee::state {
namespace {

using internal::RocksDb;

std::string Sv(const rocksdb::Slice& s) { return std::string(s.data(), s.size()); }

// A transactions CF record is u64 height || u32 index || EncodeTransaction(tx)
// (state/block.h).
constexpr size_t kTxRecordPrefix = 8 + 4;

// The first 8 bytes of a transaction id, big-endian: the coordinate the
// transaction pass cuts its windows on (ids are SHA-256, so uniform).
uint64_t IdPrefix(const crypto::Hash256& id) {
  uint64_t p = 0;
  DecodeU64(std::string_view(reinterpret_cast<const char*>(id.data()), sizeof p), &p);
  return p;
}

// "account 3fa1...", "peg-in <txid>", ...: how an operator names a state key.
std::string DescribeKey(std::string_view cf, std::string_view key) {
  if (cf == kCfAccounts) return "account " + HexEncode(key);
  if (cf == kCfPegIns) return "peg-in " + HexEncode(key);
  if (cf == kCfPegOuts) return "peg-out " + HexEncode(key);
  if (cf == kCfSigners) return "signer nonce \"" + std::string(key) + "\"";
  return std::string(cf) + "/" + HexEncode(key);
}

class Verifier {
 public:
  Verifier(const RocksDb& db, const VerifyOptions& opts) : db_(db), opts_(opts) {}

  Result<VerifyReport> Run();

 private:
  void Problem(std::string p) {
    ++report_.problems_total;
    if (report_.problems.size() < opts_.max_problems) report_.problems.push_back(std::move(p));
  }
  bool Cancelled() const { return opts_.cancel != nullptr && opts_.cancel->load(); }
  size_t MaxTxSlots() const { return std::max<size_t>(1, opts_.max_tx_slots); }
  void Progress(const char* phase, uint64_t done, uint64_t total) {
    if (opts_.progress) opts_.progress({phase, done, total});
  }
  // The epochs, when a genesis federation was given (else no signatures
  // are checked).
  const FederationHistory* history() const { return history_ ? &*history_ : nullptr; }

  // A federation_change transaction found in a block.
  struct FoundChange {
    uint64_t height;
    crypto::Hash256 tx_id;
    FederationChange change;
  };

  // Where a block says a transaction is: its id, and its place in the chain.
  struct TxSlot {
    crypto::Hash256 id;
    uint64_t height;
    uint32_t index;
  };
  // A problem found with the transaction in slot (height, index).
  struct TxProblem {
    uint64_t height;
    uint32_t index;
    uint64_t seq;  // order of finding, for two problems of one transaction
    std::string text;
    bool operator<(const TxProblem& o) const { return std::tie(height, index, seq) < std::tie(o.height, o.index, o.seq); }
  };
  struct TxRangeResult {
    std::vector<TxProblem> problems;  // a max-heap of the max_problems earliest in the chain
    uint64_t problems_total = 0;
    uint64_t checked = 0;
    std::vector<FoundChange> changes;
    // Keeps `p` if it is among the max_problems earliest found so far.
    void Add(TxProblem p, size_t max_problems) {
      p.seq = problems_total++;
      if (max_problems == 0) return;
      if (problems.size() == max_problems) {
        if (!(p < problems.front())) return;
        std::pop_heap(problems.begin(), problems.end());
        problems.pop_back();
      }
      problems.push_back(std::move(p));
      std::push_heap(problems.begin(), problems.end());
    }
  };
  // The id-prefix range [lo, hi) whose slots one pass over the blocks
  // collects (hi nullopt: to the end of the id space). Windows are id ranges,
  // not runs of blocks, because the transactions column family is keyed by
  // id: a window of blocks lists ids from the whole key space, and checking
  // it re-read the whole column family (at 10 GiB, a state with 4 windows
  // took 26x the time of one with 1, for 10x the data).
  struct TxWindow {
    uint64_t lo = 0;
    std::optional<uint64_t> hi;
    bool Holds(uint64_t prefix) const { return prefix >= lo && (!hi || prefix < *hi); }
  };
  static constexpr size_t kTxPartsPerThread = 4;

  // A block read but not yet judged: the problems found while reading it,
  // in the order found, and its record (nullopt when it did not decode)
  // for the checks that run in parallel.
  struct BlockFindings {
    std::vector<std::string> problems;
    std::optional<BlockRecord> record;
  };
  // Blocks are judged in windows of this many, or of this many transaction
  // ids (32 bytes each): the memory bound whatever the block size.
  static constexpr size_t kBlockWindow = 1024;
  static constexpr size_t kBlockWindowTxIds = 256 * 1024;

  void CheckBlocks(const internal::TipRecord& tip, crypto::Hash256* tip_header_root);
  void CheckPendingBlocks();
  // Keeps a block's slot if its id falls in window_, narrowing the window
  // when the slots held reach opts_.max_tx_slots.
  void CollectTxSlot(const crypto::Hash256& id, uint64_t height, uint32_t index);
  void NarrowTxWindow();
  // After the first pass over the blocks: the windows above it, each
  // collected by a further pass over the blocks column family.
  void CheckRemainingTxWindows();
  void CheckPendingTransactions();
  // The transactions' problems, earliest in the chain first, after all
  // windows (a window holds ids from anywhere in the chain).
  void EmitTxProblems();
  void CheckTxRange(size_t begin, size_t end, TxRangeResult* out) const;
  // Checks one transaction record (`raw`, or nullopt when there is none).
  void CheckTx(const TxSlot& slot, std::optional<std::string_view> raw, TxRangeResult* out) const;
  void CheckAnchors(uint64_t last_anchor);
  void Localize();
  // Reads the control CF's epochs and, with a genesis, builds history_.
  void LoadEpochs();
  // The blocks' federation changes and the stored epochs, one to one.
  void MatchEpochs();

  const RocksDb& db_;
  const VerifyOptions& opts_;
  VerifyReport report_;
  std::vector<BlockFindings> blocks_;  // blocks read, not yet judged
  size_t blocks_tx_ids_ = 0;          // transaction ids they list
  std::vector<TxSlot> pending_;       // slots in window_ of the blocks read so far, not yet checked
  TxWindow window_;
  size_t window_slots_ = 0;              // slots window_ holds in this pass (checked or pending)
  std::optional<uint64_t> beyond_;       // the lowest id prefix at or above window_.hi seen in this pass
  // The max_problems earliest transaction problems of the windows checked so
  // far (a max-heap; report_.problems_total counts them all).
  TxRangeResult tx_problems_;
  std::vector<FederationEpoch> stored_epochs_;  // the control CF's, in number order
  std::optional<FederationHistory> history_;
  std::vector<FoundChange> found_changes_;
};

void Verifier::LoadEpochs() {
  if (db_.cf(kCfControl) != nullptr) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfControl)));
    for (it->Seek(kControlEpochPrefix); it->Valid() && it->key().starts_with(kControlEpochPrefix); it->Next()) {
      auto number = ParseEpochKey(Sv(it->key()));
      auto e = DecodeEpochRecord(Sv(it->value()));
      if (!number || !e.ok()) {
        Problem("control: federation epoch record " + HexEncode(Sv(it->key())) + ": " +
                (e.ok() ? std::string("malformed key") : e.status().message()));
        continue;
      }
      if (e->number != *number || e->number != stored_epochs_.size() + 1) {
        Problem("control: federation epoch " + std::to_string(*number) + " is stored out of sequence (after epoch " +
                std::to_string(stored_epochs_.size()) + ")");
        continue;
      }
      stored_epochs_.push_back(std::move(*e));
    }
    if (!it->status().ok()) Problem("control: " + it->status().ToString());
  }
  if (!opts_.federation) return;
  history_.emplace(*opts_.federation);
  // Each stored change must name this chain (the hash of block 1). A missing
  // or damaged block 1 is CheckBlocks' problem; the epochs then do not follow.
  auto first = db_.Get(kCfBlocks, EncodeU64(1));
  auto second = db_.Get(kCfBlocks, EncodeU64(2));
  if (first.ok() && second.ok()) {
    if (auto id = StoredChainId(*first, *second)) history_->SetChainId(*id);
  }
  for (const auto& e : stored_epochs_) {
    Status st = history_->Append(*e.change, e.change_height, e.change_tx_id);
    if (!st.ok()) {
      // Later blocks are then checked against the last epoch that follows.
      Problem("federation epoch " + std::to_string(e.number) + " (changed at block " + std::to_string(e.change_height) +
              ") does not follow from the epoch before it: " + st.message() +
              // Without block 1 the genesis federation is not the suspect.
              (e.number == 1 && history_->chain_id() ? " (is the genesis federation given the one the chain started with?)"
                                                     : ""));
      break;
    }
  }
}

void Verifier::MatchEpochs() {
  std::sort(found_changes_.begin(), found_changes_.end(),
            [](const FoundChange& a, const FoundChange& b) { return a.height < b.height; });
  std::map<uint64_t, const FederationEpoch*> stored;
  for (const auto& e : stored_epochs_) stored[e.change_height] = &e;
  for (const auto& f : found_changes_) {
    auto it = stored.find(f.height);
    const std::string where = "block " + std::to_string(f.height) + ": federation change " + crypto::HashToHex(f.tx_id);
    if (it == stored.end()) {
      Problem(where + " has no stored federation epoch (the control records lost or never got it)");
      continue;
    }
    if (it->second->change_tx_id != f.tx_id || !(*it->second->change == f.change)) {
      Problem(where + " differs from stored federation epoch " + std::to_string(it->second->number));
    }
    stored.erase(it);
  }
  for (const auto& [height, e] : stored) {
    Problem("federation epoch " + std::to_string(e->number) + ": stored as changed at block " + std::to_string(height) +
            ", but that block carries no federation change");
  }
}

void Verifier::CheckBlocks(const internal::TipRecord& tip, crypto::Hash256* tip_header_root) {
  crypto::Hash256 prev_hash{};
  int64_t prev_ts = 0;
  uint64_t expected = 1;
  *tip_header_root = EmptyStateRoot();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfBlocks)));
  for (it->SeekToFirst(); it->Valid() && !Cancelled(); it->Next()) {
    BlockFindings& f = blocks_.emplace_back();
    uint64_t height = 0;
    if (!DecodeU64(Sv(it->key()), &height)) {
      f.problems.push_back("blocks: malformed key " + HexEncode(Sv(it->key())));
      continue;
    }
    const std::string where = "block " + std::to_string(height) + ": ";
    if (height != expected) {
      f.problems.push_back(where + "expected height " + std::to_string(expected) + " next (missing blocks)");
    }
    expected = height + 1;
    auto rec = DecodeBlockRecord(Sv(it->value()));
    if (!rec.ok()) {
      f.problems.push_back(where + rec.status().message());
      continue;
    }
    const BlockHeader& h = rec->header;
    if (h.height != height) f.problems.push_back(where + "header says height " + std::to_string(h.height));
    if (h.prev_hash != prev_hash) {
      f.problems.push_back(where + "prev_hash " + crypto::HashToHex(h.prev_hash) + " does not match the hash of block " +
                           std::to_string(height - 1) + " " + crypto::HashToHex(prev_hash));
    }
    if (h.timestamp_ms < prev_ts) f.problems.push_back(where + "timestamp goes back in time");
    for (uint32_t i = 0; i < rec->tx_ids.size(); ++i) CollectTxSlot(rec->tx_ids[i], h.height, i);
    blocks_tx_ids_ += rec->tx_ids.size();
    prev_hash = h.Hash();
    prev_ts = h.timestamp_ms;
    *tip_header_root = h.state_root;
    f.record = std::move(*rec);
    ++report_.blocks_checked;
    if (blocks_.size() >= kBlockWindow || blocks_tx_ids_ >= kBlockWindowTxIds) CheckPendingBlocks();
    Progress("blocks", report_.blocks_checked, tip.height);
  }
  if (!it->status().ok()) blocks_.emplace_back().problems.push_back("blocks: " + it->status().ToString());
  it.reset();
  CheckPendingBlocks();
  CheckPendingTransactions();
  if (!Cancelled()) CheckRemainingTxWindows();
  EmitTxProblems();
  if (expected - 1 != tip.height) {
    Problem("tip: meta says height " + std::to_string(tip.height) + " but the last stored block is " +
            std::to_string(expected - 1));
  } else if (prev_hash != tip.block_hash) {
    Problem("tip: meta's block hash does not match block " + std::to_string(tip.height));
  }
  if (*tip_header_root != tip.state_root) Problem("tip: meta's state root differs from the tip header's");
  Progress("blocks", report_.blocks_checked, tip.height);
}

// A block's signature and tx_root depend on that block alone, and are most
// of a block's cost (an Ed25519 verification; a Merkle tree over thousands
// of ids), so they are computed for a window of blocks on opts_.threads
// threads. Every block is judged whatever the others hold, and the problems
// go out in block order as the serial pass would list them (the signature
// after the header's own, then tx_root), so the first problem named is the
// lowest bad height with any thread count.
void Verifier::CheckPendingBlocks() {
  struct Verdict {
    Status signature;
    bool tx_root_ok = true;
  };
  std::vector<Verdict> verdicts(blocks_.size());
  (void)ParallelFor(blocks_.size(), opts_.threads, [&](size_t i, int) {
    const std::optional<BlockRecord>& rec = blocks_[i].record;
    if (!rec) return Status::Ok();
    if (history() != nullptr) verdicts[i].signature = CheckBlockSignature(rec->header, *history());
    verdicts[i].tx_root_ok = MerkleRoot(rec->tx_ids) == rec->header.tx_root;
    return Status::Ok();  // problems are results, not errors: every block is judged
  });
  for (size_t i = 0; i < blocks_.size(); ++i) {
    for (auto& p : blocks_[i].problems) Problem(std::move(p));
    if (!verdicts[i].signature.ok()) Problem(verdicts[i].signature.message());
    if (!verdicts[i].tx_root_ok) {
      Problem("block " + std::to_string(blocks_[i].record->header.height) + ": tx_root does not match its transaction ids");
    }
  }
  blocks_.clear();
  blocks_tx_ids_ = 0;
}

void Verifier::CollectTxSlot(const crypto::Hash256& id, uint64_t height, uint32_t index) {
  const uint64_t prefix = IdPrefix(id);
  if (!window_.Holds(prefix)) {
    if (prefix >= window_.lo) beyond_ = std::min(beyond_.value_or(prefix), prefix);
    return;
  }
  pending_.push_back({id, height, index});
  ++window_slots_;
  if (pending_.size() >= MaxTxSlots()) NarrowTxWindow();
}

// The window keeps the lower half of the ids it holds: it now ends at the
// median prefix, and the slots above go to a later window.
void Verifier::NarrowTxWindow() {
  auto by_prefix = [](const TxSlot& a, const TxSlot& b) { return IdPrefix(a.id) < IdPrefix(b.id); };
  const auto mid = pending_.begin() + static_cast<std::ptrdiff_t>(pending_.size() / 2);
  std::nth_element(pending_.begin(), mid, pending_.end(), by_prefix);
  std::optional<uint64_t> cut = IdPrefix(mid->id);
  // More than half share the window's first prefix: keep that prefix alone
  // (none further when the window starts at the last prefix there is).
  if (*cut == window_.lo) cut = window_.lo == UINT64_MAX ? std::nullopt : std::optional<uint64_t>(window_.lo + 1);
  if (cut && (!window_.hi || *cut < *window_.hi)) {
    window_.hi = cut;
    // The lowest of the slots let go is where the next window may start.
    const size_t held = pending_.size();
    std::erase_if(pending_, [&](const TxSlot& s) {
      const uint64_t p = IdPrefix(s.id);
      if (p < *cut) return false;
      beyond_ = std::min(beyond_.value_or(p), p);
      return true;
    });
    window_slots_ -= held - pending_.size();
  }
  // One prefix listed more often than the bound (a block listing one id over
  // and over, or a bound of a few slots): check what is held and go on
  // collecting; the window's later slots are checked in a pass of their own.
  if (pending_.size() >= MaxTxSlots()) CheckPendingTransactions();
}

void Verifier::CheckRemainingTxWindows() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  while (window_.hi && beyond_ && !Cancelled()) {
    // The next window starts at the lowest id above the last (an empty
    // stretch of ids costs no pass) and is as wide as the last one: ids are
    // uniform, so it holds about as many slots and narrows itself if it
    // holds more. Twice as wide when the last held under half the bound (a
    // window narrowed around a few busy ids need not stay that narrow).
    uint64_t width = *window_.hi - window_.lo;
    if (window_slots_ < MaxTxSlots() / 2) width = width > UINT64_MAX / 2 ? UINT64_MAX : width * 2;
    window_.lo = *beyond_;
    window_.hi = width <= UINT64_MAX - window_.lo ? std::optional<uint64_t>(window_.lo + width) : std::nullopt;
    window_slots_ = 0;
    beyond_.reset();
    std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfBlocks)));
    for (it->SeekToFirst(); it->Valid() && !Cancelled(); it->Next()) {
      // The records the first pass collected from, no others: a malformed
      // key or a block that does not decode was named there and lists nothing.
      uint64_t height = 0;
      if (!DecodeU64(Sv(it->key()), &height)) continue;
      auto rec = DecodeBlockRecord(Sv(it->value()));
      if (!rec.ok()) continue;
      for (uint32_t i = 0; i < rec->tx_ids.size(); ++i) CollectTxSlot(rec->tx_ids[i], rec->header.height, i);
    }
    // The first pass named an iterator error; the slots read are still checked.
    CheckPendingTransactions();
  }
}

// Every transaction a block lists must be stored under its id, hash to it,
// and record that block and position. Looking each one up by id would read
// the transactions column family in random order, one small read per
// transaction (on a restored 2 GiB state, 1.5 million of them: minutes on a
// cold page cache). Instead the pending slots are sorted by id and merged
// with one sequential pass over the window's id range of the column family,
// split by id range across opts_.threads threads. Problems are kept for
// EmitTxProblems.
void Verifier::CheckPendingTransactions() {
  if (pending_.empty()) return;
  std::sort(pending_.begin(), pending_.end(), [](const TxSlot& a, const TxSlot& b) { return a.id < b.id; });
  const size_t n = pending_.size();
  // Equal counts are not equal work: a range that crosses more (or less
  // compacted) table files costs more per transaction (on a bulk-loaded
  // state one thread did 15% more than the other). kTxPartsPerThread parts a
  // thread, handed out as threads come free, even that out.
  const int threads = std::max(1, opts_.threads);
  const size_t parts = std::min<size_t>(static_cast<size_t>(threads) * kTxPartsPerThread, n);
  std::vector<TxRangeResult> results(parts);
  // Problems are results, not errors: every range runs to its end.
  (void)ParallelFor(parts, threads, [&](size_t p, int) {
    CheckTxRange(n * p / parts, n * (p + 1) / parts, &results[p]);
    return Status::Ok();
  });

  for (auto& r : results) {
    for (auto& c : r.changes) found_changes_.push_back(std::move(c));
    report_.transactions_checked += r.checked;
    report_.problems_total += r.problems_total;
    // In finding order, so two problems of one transaction keep theirs.
    std::sort(r.problems.begin(), r.problems.end(),
              [](const TxProblem& a, const TxProblem& b) { return a.seq < b.seq; });
    for (auto& p : r.problems) tx_problems_.Add(std::move(p), opts_.max_problems);
  }
  Progress("transactions", report_.transactions_checked, 0);
  pending_.clear();
}

void Verifier::EmitTxProblems() {
  std::sort(tx_problems_.problems.begin(), tx_problems_.problems.end());
  // problems_total already counts them, as each window was checked.
  for (auto& p : tx_problems_.problems) {
    if (report_.problems.size() < opts_.max_problems) report_.problems.push_back(std::move(p.text));
  }
  tx_problems_ = {};
}

void Verifier::CheckTxRange(size_t begin, size_t end, TxRangeResult* out) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfTransactions)));
  it->Seek(crypto::HashToString(pending_[begin].id));
  size_t i = begin;
  for (; i < end && it->status().ok(); ++i) {
    const TxSlot& slot = pending_[i];
    const rocksdb::Slice key(reinterpret_cast<const char*>(slot.id.data()), slot.id.size());
    // Next() through a dense range; Seek() over a sparse one (a later window
    // of a long chain holds one id in every few), so no window costs a full
    // pass of its own.
    for (int steps = 0; it->Valid() && it->key().compare(key) < 0; ++steps) {
      if (steps == 16) {
        it->Seek(key);
        break;
      }
      it->Next();
    }
    if (!it->status().ok()) break;
    // The iterator stays on this key: the next slot may list the same id.
    if (it->Valid() && it->key() == key) {
      CheckTx(slot, std::string_view(it->value().data(), it->value().size()), out);
    } else {
      CheckTx(slot, std::nullopt, out);
    }
  }
  if (i == end) return;
  // The pass failed (a damaged block of the column family): name it, and
  // look the rest of this range up one by one, so every transaction is still
  // judged on its own.
  out->Add({pending_[i].height, pending_[i].index, 0, "transactions: " + it->status().ToString()}, opts_.max_problems);
  for (; i < end; ++i) {
    auto raw = db_.Get(kCfTransactions, crypto::HashToString(pending_[i].id));
    CheckTx(pending_[i], raw.ok() && raw->has_value() ? std::optional<std::string_view>(**raw) : std::nullopt, out);
  }
}

void Verifier::CheckTx(const TxSlot& slot, std::optional<std::string_view> raw, TxRangeResult* out) const {
  // The name is built only for a problem: this runs for every transaction.
  auto problem = [&](std::string text) {
    out->Add({slot.height, slot.index, 0,
              "block " + std::to_string(slot.height) + ": transaction " + crypto::HashToHex(slot.id) + text},
             opts_.max_problems);
  };
  if (!raw) {
    problem(" is missing");
    return;
  }
  auto tx = DecodeTxRecord(*raw);
  if (!tx.ok()) {
    problem(": " + tx.status().message());
    return;
  }
  // TxId(tx) is SHA-256 of EncodeTransaction(tx), and the encoding is
  // canonical (fixed-width integers, length-prefixed strings, no trailing
  // bytes: whatever DecodeTransaction accepts re-encodes to the same bytes,
  // state_format_test checks it), so the stored bytes are hashed as they are
  // instead of being encoded again.
  if (crypto::Sha256(raw->substr(kTxRecordPrefix)) != slot.id) problem(" does not hash to its id");
  if (tx->height != slot.height || tx->index != slot.index) problem(" records height " + std::to_string(tx->height));
  // Account transactions carry their own key; peg-ins need the federation.
  // Without check_transaction_signatures, shape only: the block signature
  // over tx_root already authenticates every transaction's bytes.
  static const Federation kNoFederation;
  Status st = ((tx->tx.type == TxType::kPegIn && history() == nullptr) || !opts_.check_transaction_signatures)
                  ? CheckShape(tx->tx)
                  : CheckSignature(tx->tx, history() != nullptr ? history()->At(slot.height) : kNoFederation);
  if (!st.ok()) problem(": " + st.message());
  if (tx->tx.type == TxType::kFederationChange && tx->tx.federation_change) {
    out->changes.push_back({slot.height, slot.id, *tx->tx.federation_change});
  }
  ++out->checked;
}

void Verifier::CheckAnchors(uint64_t last_anchor) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfAnchors)));
  uint64_t max_height = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t height = 0;
    DecodeU64(Sv(it->key()), &height);
    const std::string where = "anchor at height " + std::to_string(height) + ": ";
    max_height = std::max(max_height, height);
    ++report_.anchors_checked;
    auto a = DecodeAnchor(Sv(it->value()));
    if (!a.ok()) {
      Problem(where + a.status().message());
      continue;
    }
    if (a->height != height) Problem(where + "records height " + std::to_string(a->height));
    Status st = CheckAnchor(*a, history() != nullptr ? &history()->At(height) : nullptr);
    if (!st.ok()) Problem(st.message());
    auto raw = db_.Get(kCfBlocks, EncodeU64(height));
    if (!raw.ok() || !raw->has_value()) {
      Problem(where + "no stored block at that height");
      continue;
    }
    auto rec = DecodeBlockRecord(**raw);
    if (!rec.ok()) continue;  // reported by CheckBlocks
    if (rec->header.Hash() != a->block_hash) Problem(where + "block hash does not match the stored block");
    if (rec->header.state_root != a->state_root) Problem(where + "state root does not match the stored block's");
  }
  if (!it->status().ok()) Problem("anchors: " + it->status().ToString());
  if (max_height != last_anchor) {
    Problem("meta: last anchor height " + std::to_string(last_anchor) + " but the highest stored anchor is " +
            std::to_string(max_height));
  }
  Progress("anchors", report_.anchors_checked, report_.anchors_checked);
}

// Matches each state entry with the latest write set entry for its key.
void Verifier::Localize() {
  struct Written {
    uint64_t height;
    crypto::Hash256 hash;
  };
  std::map<std::pair<std::string, std::string>, Written> latest;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kCfWriteSets)));
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t height = 0;
      DecodeU64(Sv(it->key()), &height);
      auto ws = DecodeWriteSet(Sv(it->value()));
      if (!ws.ok()) {
        Problem("write set of block " + std::to_string(height) + ": " + ws.status().message());
        continue;
      }
      for (auto& e : *ws) latest[{e.cf, e.key}] = {height, e.value_hash};
      if (++n % 1000 == 0) Progress("localize", n, report_.tip_height);
    }
  }
  for (auto cf : kStateCfs) {
    if (db_.cf(cf) == nullptr) continue;  // added later, absent from an older database: empty
    std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = Sv(it->key()), value = Sv(it->value());
      const std::string name = DescribeKey(cf, key);
      auto w = latest.find({std::string(cf), key});
      if (w == latest.end()) {
        Problem(name + ": present in the state but no block ever wrote it");
        continue;
      }
      const Written written = w->second;
      latest.erase(w);
      if (crypto::Sha256(value) == written.hash) continue;
      auto claimed = RecordLastHeight(cf, value);
      if (!claimed.ok()) {
        Problem(name + ": stored value is malformed and does not match the value written at height " +
                std::to_string(written.height));
      } else if (*claimed == written.height) {
        Problem(name + ": stored value does not match the value written at height " + std::to_string(written.height));
      } else {
        Problem(name + ": stored value claims height " + std::to_string(*claimed) +
                " but does not match the value written at height " + std::to_string(written.height) +
                " (rolled back or altered)");
      }
    }
  }
  for (const auto& [k, w] : latest) {
    Problem(DescribeKey(k.first, k.second) + ": written at height " + std::to_string(w.height) +
            " but missing from the state");
  }
}

Result<VerifyReport> Verifier::Run() {
  auto tip = db_.ReadTip();
  if (!tip.ok()) {
    Problem(tip.status().message());
    return report_;
  }
  report_.tip_height = tip->height;
  report_.tip_block_hash = tip->block_hash;
  crypto::Hash256 header_root{};
  LoadEpochs();
  CheckBlocks(*tip, &header_root);
  if (Cancelled()) return Aborted("verification cancelled after " + std::to_string(report_.blocks_checked) + " blocks");
  MatchEpochs();

  auto last_anchor = db_.ReadCounter(internal::kMetaLastAnchor);
  if (!last_anchor.ok()) Problem(last_anchor.status().message());
  CheckAnchors(last_anchor.ok() ? *last_anchor : 0);
  if (Cancelled()) return Aborted("verification cancelled before the state scan");

  auto scan = internal::ScanStateAccumulator(db_, nullptr, opts_.threads, [&](uint64_t n) {
    (void)n;  // the scan runs on worker threads; progress is reported after it
  });
  if (!scan.ok()) {
    Problem("state scan: " + scan.status().message());
    return report_;
  }
  report_.entries_checked = scan->entries;
  report_.state_root = scan->accumulator.Root();
  Progress("state", scan->entries, scan->entries);

  bool root_bad = false;
  auto persisted = db_.ReadAccumulator();
  if (!persisted.ok()) {
    Problem(persisted.status().message());
    root_bad = true;
  } else if (!(persisted.value() == scan->accumulator)) {
    root_bad = true;
  }
  root_bad = root_bad || report_.state_root != header_root;
  if (root_bad) {
    Localize();
    Problem("state root: recomputed " + crypto::HashToHex(report_.state_root) + " but block " +
            std::to_string(tip->height) + " says " + crypto::HashToHex(header_root) +
            (persisted.ok() ? " (persisted accumulator gives " + crypto::HashToHex(persisted->Root()) + ")" : ""));
  }
  if (opts_.expected_state_root && *opts_.expected_state_root != report_.state_root) {
    Problem("state root: recomputed " + crypto::HashToHex(report_.state_root) + " but the expected root is " +
            crypto::HashToHex(*opts_.expected_state_root));
  }
  report_.ok = report_.problems_total == 0;
  return report_;
}

}  // namespace

Result<VerifyReport> VerifyState(const std::string& dir, const VerifyOptions& options) {
  ASSIGN_OR_RETURN(auto db, RocksDb::Open(dir, /*read_only=*/true, /*create_if_missing=*/false));
  Verifier v(*db, options);
  return v.Run();
}

}  // namespace ailee::state
