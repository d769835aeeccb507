// State records: the values stored in the state column families, which the
// state root covers. Every record carries last_height, the height of the
// block that last wrote it, so a damaged value can be matched against that
// block's write set (see verify.h). Layouts: docs/state-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::state {

// Column family names. The state CFs are hashed into the state root under
// these names; the others are history and bookkeeping.
inline constexpr std::string_view kCfAccounts = "accounts";  // pubkey(32) -> Account
inline constexpr std::string_view kCfPegIns = "pegins";      // btc_txid(32) -> PegInRecord
inline constexpr std::string_view kCfPegOuts = "pegouts";    // tx id(32) -> PegOutRecord
inline constexpr std::string_view kCfSigners = "signers";    // signer id -> SignerRecord
inline constexpr std::string_view kCfBlocks = "blocks";      // height BE -> header + tx ids
inline constexpr std::string_view kCfTransactions = "transactions";  // tx id -> height, index, tx
inline constexpr std::string_view kCfAnchors = "anchors";    // height BE -> AnchorCommitment
inline constexpr std::string_view kCfMeta = "meta";          // tip, accumulator, counters
inline constexpr std::string_view kCfWriteSets = "writesets";  // height BE -> WriteSet
inline constexpr std::string_view kCfControl = "control";  // epochs, peg freeze (control_records.h)
// Node-local flags (e.g. the emergency halt): NOT in the state root, never
// verified, copied by checkpoints. Databases made before it get it on open.
inline constexpr std::string_view kCfLocal = "local";
// `control` was added later: an old database has it empty, which adds
// nothing to the root, so old state roots are unchanged.
inline constexpr std::string_view kStateCfs[] = {kCfAccounts, kCfPegIns, kCfPegOuts, kCfSigners, kCfControl};

struct Account {
  uint64_t balance = 0;
  uint64_t nonce = 0;  // number of transactions sent
  uint64_t last_height = 0;
  bool operator==(const Account&) const = default;
};

struct PegInRecord {
  std::string to;  // 32 bytes
  uint64_t amount = 0;
  std::string signer_id;
  crypto::Hash256 tx_id{};
  uint64_t last_height = 0;
  bool operator==(const PegInRecord&) const = default;
};

struct PegOutRecord {
  std::string from;  // 32 bytes
  std::string btc_address;
  uint64_t amount = 0;
  uint64_t last_height = 0;  // height of the block that burned the amount
  bool operator==(const PegOutRecord&) const = default;
};

struct SignerRecord {
  uint64_t nonce = 0;  // number of peg-ins this federation signer has issued
  uint64_t last_height = 0;
  bool operator==(const SignerRecord&) const = default;
};

std::string EncodeAccount(const Account& a);
Result<Account> DecodeAccount(std::string_view bytes);
std::string EncodePegIn(const PegInRecord& r);
Result<PegInRecord> DecodePegIn(std::string_view bytes);
std::string EncodePegOut(const PegOutRecord& r);
Result<PegOutRecord> DecodePegOut(std::string_view bytes);
std::string EncodeSigner(const SignerRecord& r);
Result<SignerRecord> DecodeSigner(std::string_view bytes);

// last_height of any state record, whatever its CF (kDataLoss if malformed).
Result<uint64_t> RecordLastHeight(std::string_view cf, std::string_view value);

// One entry of a block's write set: which state key it wrote and the
// SHA-256 of the value it wrote.
struct WriteSetEntry {
  std::string cf;
  std::string key;
  crypto::Hash256 value_hash{};
  bool operator==(const WriteSetEntry&) const = default;
};
std::string EncodeWriteSet(const std::vector<WriteSetEntry>& entries);
Result<std::vector<WriteSetEntry>> DecodeWriteSet(std::string_view bytes);

}  // namespace ailee::state
