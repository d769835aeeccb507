// The `control` column family: federation epochs and the peg freeze, the
// chain's own governance state. Part of the state root like accounts (so a
// restore, PITR or checkpoint to a height inside an emergency reproduces
// it), written only by federation_change and peg_freeze transactions.
// Layouts: docs/state-format.md.
//
//   "epoch/" || u64 BE number  -> ControlRecord(epoch)    numbers from 1; genesis is the config's
//   "pegs_frozen"              -> ControlRecord(freeze)   the latest freeze or unfreeze
//
// Every value: u8 version (1) || u8 kind (1 epoch, 2 peg freeze) || body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "state/federation_history.h"
#include "state/records.h"

namespace ailee::state {

inline constexpr std::string_view kControlEpochPrefix = "epoch/";
inline constexpr std::string_view kControlPegsFrozen = "pegs_frozen";

// Pegs frozen since the block at since_height (the one carrying the freeze).
struct PegFreezeState {
  uint64_t since_height = 0;
  std::string reason;
  std::string operator_id;
  bool operator==(const PegFreezeState&) const = default;
};

// The stored freeze decision: frozen, or unfrozen at `height`.
struct PegFreezeRecord {
  bool frozen = false;
  uint64_t height = 0;  // the block that carried the decision
  std::string reason;
  std::string operator_id;
  bool operator==(const PegFreezeRecord&) const = default;
};

std::string EpochKey(uint64_t number);
// The epoch number of an "epoch/..." key; nullopt for any other key.
std::optional<uint64_t> ParseEpochKey(std::string_view key);

std::string EncodeEpochRecord(const FederationEpoch& epoch);
Result<FederationEpoch> DecodeEpochRecord(std::string_view bytes);
std::string EncodePegFreezeRecord(const PegFreezeRecord& record);
Result<PegFreezeRecord> DecodePegFreezeRecord(std::string_view bytes);
// The height of the block that wrote a control value (for write-set checks).
Result<uint64_t> ControlRecordLastHeight(std::string_view value);

}  // namespace ailee::state
