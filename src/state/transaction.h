// L2 transactions: the domain type, its canonical binary encoding (what is
// signed, what is hashed into the tx id), JSON conversion for the HTTP API,
// and builders that sign (used by the load generator and tests).
//
// Byte fields are carried raw in std::string (32-byte keys and txids); JSON
// carries them as lowercase hex. Stateless checks (shape, lengths, amount,
// signature) live here; stateful checks (nonce, balance) in StateDb.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/federation_change.h"

namespace ailee::state {

// kFederationChange and kPegFreeze are control records: no amount, nonce
// or signature of their own. Their authority is the block signature (the
// leader adds them only on an authenticated admin request) plus, for a
// federation change, its approvals (federation_change.h), checked against
// the chain's state when the block is built, applied and verified.
enum class TxType : uint8_t { kTransfer = 1, kPegIn = 2, kPegOut = 3, kFederationChange = 4, kPegFreeze = 5 };
// "transfer", "peg_in", "peg_out", "federation_change", "peg_freeze"
std::string_view TxTypeName(TxType type);
bool IsControlTx(TxType type);
bool IsPegTx(TxType type);  // peg_in, peg_out: what a freeze stops

// Freeze (frozen = true) or unfreeze peg-ins and peg-outs from the next
// transaction on. reason: 1..kMaxChangeReasonBytes; operator <= kMaxChangeOperatorBytes.
struct PegFreeze {
  bool frozen = true;
  std::string reason;
  std::string operator_id;
  bool operator==(const PegFreeze&) const = default;
};

inline constexpr size_t kMaxMemoBytes = 4096;
inline constexpr size_t kMaxBtcAddressBytes = 100;
inline constexpr size_t kMaxSignerIdBytes = 128;

struct Transaction {
  TxType type = TxType::kTransfer;
  std::string from;         // transfer, peg_out: sender's Ed25519 public key (32 bytes)
  std::string to;           // transfer, peg_in: recipient's public key (32 bytes)
  uint64_t amount = 0;      // > 0
  uint64_t nonce = 0;       // sender's (or peg_in signer's) current nonce
  std::string memo;         // transfer only, <= kMaxMemoBytes
  std::string signer_id;    // peg_in: federation signer id
  std::string btc_txid;     // peg_in: 32 bytes, in the order the hex was given
  std::string btc_address;  // peg_out: printable ASCII, <= kMaxBtcAddressBytes
  std::string signature;    // Ed25519 (64 bytes) or, for peg_in, the signer key's scheme; empty for control records
  std::optional<FederationChange> federation_change;  // kFederationChange only
  std::optional<PegFreeze> peg_freeze;                // kPegFreeze only

  bool operator==(const Transaction&) const = default;
};

// The bytes that are signed: "ailee.tx.v1" || type || fields (see docs).
// Control records: "ailee.tx.v1" || type || their payload (nothing signs it
// on its own; it is hashed into the tx id and the block's tx root).
std::string SigningBytes(const Transaction& tx);
// SigningBytes || u32 len || signature. The stored and hashed form.
std::string EncodeTransaction(const Transaction& tx);
// Strict: rejects trailing bytes and unknown types (kDataLoss).
Result<Transaction> DecodeTransaction(std::string_view bytes);
// SHA-256(EncodeTransaction(tx)).
crypto::Hash256 TxId(const Transaction& tx);

// Field shape checks: lengths, non-zero amount, memo size, address charset.
// kInvalidArgument naming the field.
Status CheckShape(const Transaction& tx);
// CheckShape + signature. peg_in needs `federation` to find signer_id's key.
// Control records: CheckShape only (their authority is checked by StateDb).
Status CheckSignature(const Transaction& tx, const Federation& federation);
// Signatures CheckSignature has verified in this process (transfers,
// peg-outs, peg-ins; all threads). For the node's metrics: a leader verifies
// each transfer once, at admission, so this grows by one per transfer.
uint64_t SignatureVerificationsSoFar();

// Ids of transfers and peg-outs whose CheckSignature already passed (the
// mempool's intake). A TxId is SHA-256 over the encoding WITH the signature,
// so an id names exactly the bytes that were verified: another transaction
// with other bytes has another id and is verified in full. Handed to
// StateDb::ProduceBlock and CheckTransaction so the leader verifies each
// signature once; blocks from elsewhere (ApplyBlock, verify-state) never get one.
using VerifiedTxIds = std::set<crypto::Hash256>;
// Whether `tx` (whose TxId is `id`) may skip its signature check: listed in
// `verified` (may be null) and not a peg-in, whose key is the federation
// epoch's in force at the block, which can change after intake.
bool SignatureAlreadyVerified(const Transaction& tx, const crypto::Hash256& id, const VerifiedTxIds* verified);

// JSON as accepted by POST /v1/tx:
//   {"type":"transfer","from":hex64,"to":hex64,"amount":u64,"nonce":u64,"memo":"..","signature":hex}
//   {"type":"peg_in","signer":"id","to":hex64,"amount":u64,"btc_txid":hex64,"nonce":u64,"signature":hex}
//   {"type":"peg_out","from":hex64,"btc_address":"..","amount":u64,"nonce":u64,"signature":hex}
//   {"type":"federation_change","change":FederationChangeToJson}
//   {"type":"peg_freeze","frozen":bool,"reason":"..","operator":".."}
// (POST /v1/tx refuses the two control types: they go through the admin
// endpoints.)
// FromJson checks presence and types (kInvalidArgument naming the field) and
// CheckShape; it does not verify the signature.
nlohmann::json TransactionToJson(const Transaction& tx);
Result<Transaction> TransactionFromJson(const nlohmann::json& j);
Result<Transaction> ParseTransactionJson(std::string_view text);

// Builders that fill and sign a transaction. Keys are raw 32-byte values.
Transaction MakeTransfer(const crypto::Ed25519KeyPair& from, std::string_view to, uint64_t amount,
                         uint64_t nonce, std::string memo = {});
Transaction MakePegOut(const crypto::Ed25519KeyPair& from, std::string btc_address, uint64_t amount,
                       uint64_t nonce);
Result<Transaction> MakePegIn(const crypto::PrivateKey& signer, std::string signer_id, std::string_view to,
                              uint64_t amount, std::string_view btc_txid, uint64_t nonce);

Transaction MakeFederationChangeTx(FederationChange change);
Transaction MakePegFreezeTx(bool frozen, std::string reason, std::string operator_id);

// Account ids are the lowercase hex of the 32-byte public key.
std::string AccountIdHex(std::string_view public_key);
// Parses a 64-char hex account id into 32 raw bytes; kInvalidArgument otherwise.
Result<std::string> ParseAccountId(std::string_view hex, std::string_view field = "account");

}  // namespace ailee::state
