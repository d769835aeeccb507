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
#include "state/federation.h"
#include "state/records.h"
#include "state/transaction.h"

namespace ailee::state {

// Returns the committed value of (cf, key), nullopt if absent.
using StateReader = std::function<Result<std::optional<std::string>>(std::string_view cf, std::string_view key)>;

class BlockExecutor {
 public:
  using Key = std::pair<std::string, std::string>;  // (cf, key)

  BlockExecutor(StateReader reader, const Federation& federation, uint64_t height)
      : reader_(std::move(reader)), federation_(federation), height_(height) {}

  // Checks `tx` (signature, nonce, balance, duplicates) against the evolving
  // state. On success its writes are recorded; on failure (kInvalidArgument
  // naming the field, or a read error) nothing changes.
  Status Apply(const Transaction& tx);

  // Final values of every state key written so far, sorted by (cf, key).
  const std::map<Key, std::string>& writes() const { return writes_; }

 private:
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const;
  // The sender of a transfer or peg-out, checked: exists, nonce, balance.
  Result<Account> LoadSpender(const Transaction& tx) const;
  Status ApplyTransfer(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyPegIn(const Transaction& tx, std::map<Key, std::string>* out) const;
  Status ApplyPegOut(const Transaction& tx, std::map<Key, std::string>* out) const;

  StateReader reader_;
  const Federation& federation_;
  uint64_t height_;
  std::map<Key, std::string> writes_;
};

}  // namespace ailee::state
