// Private to state/. Executes transactions against a view of the committed
// state plus the writes of the block being built. No RocksDB: the committed
// state comes in through a reader callback, so the rules are testable alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "state/control_records.h"
#include "state/federation_history.h"
#include "state/records.h"
#include "state/transaction.h"

namespace ailee::state {

// Returns the committed value of (cf, key), nullopt if absent.
using StateReader = std::function<Result<std::optional<std::string>>(std::string_view cf, std::string_view key)>;

class BlockExecutor {
 public:
  using Key = std::pair<std::string, std::string>;  // (cf, key)

  // `history`: the federation epochs as of the committed state (block
  // `height` is signed under history.At(height)); `freeze`: the committed
  // peg freeze decision, if any. Both must outlive the executor.
  BlockExecutor(StateReader reader, const FederationHistory& history, std::optional<PegFreezeRecord> freeze,
                uint64_t height)
      : reader_(std::move(reader)), history_(history), freeze_(std::move(freeze)), height_(height) {}

  // Checks `tx` (signature, nonce, balance, duplicates, the freeze, a
  // federation change's authorisation) against the evolving state. On
  // success its writes are recorded; on failure (kInvalidArgument naming the
  // field, kFailedPrecondition for a peg tx while frozen or a freeze that
  // changes nothing, or a read error) nothing changes. With
  // `signature_verified` (the caller checked SignatureAlreadyVerified) only
  // the shape is checked, not the signature.
  Status Apply(const Transaction& tx, bool signature_verified = false);

  // Final values of every state key written so far, sorted by (cf, key).
  const std::map<Key, std::string>& writes() const { return writes_; }

 private:
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const;
  // The sender of a transfer or peg-out, checked: exists, nonce, balance.
  Result<Account> LoadSpender(const Transaction& tx) const;
  Status ApplyTransfer(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyPegIn(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyPegOut(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyFederationChange(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyPegFreeze(const Transaction& tx, std::map<Key, std::string>* out);
  bool Frozen() const { return freeze_ && freeze_->frozen; }

  StateReader reader_;
  const FederationHistory& history_;
  std::optional<PegFreezeRecord> freeze_;  // as of the last applied transaction
  uint64_t height_;
  bool changed_federation_ = false;  // one federation change per block
  std::map<Key, std::string> writes_;
};

}  // namespace ailee::state
