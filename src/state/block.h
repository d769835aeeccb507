// Blocks and anchor commitments: types, canonical encodings, hashes and the
// checks that need no database (signature, tx root, anchor payload).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/federation_history.h"
#include "state/sign_fn.h"
#include "state/transaction.h"

namespace ailee::state {

// Height 0 is the implicit empty genesis state: no block is stored for it,
// its hash is 32 zero bytes and its state root is EmptyStateRoot(). The first
// real block has height 1 and prev_hash = 32 zero bytes.
struct BlockHeader {
  uint64_t height = 0;
  crypto::Hash256 prev_hash{};
  crypto::Hash256 tx_root{};
  crypto::Hash256 state_root{};
  int64_t timestamp_ms = 0;
  std::string signer_id;
  std::string signature;  // signer's key over Hash() (32 raw bytes)

  // "ailee.block.v1" || height || prev || tx_root || state_root || ts || signer_id.
  std::string HashedBytes() const;
  crypto::Hash256 Hash() const;  // SHA-256(HashedBytes()); excludes the signature
  bool operator==(const BlockHeader&) const = default;
};

// Anchor commitment to Bitcoin, produced every commitment_interval blocks.
inline constexpr size_t kAnchorPayloadSize = 80;
inline constexpr std::string_view kAnchorMagic = "AIL1";

struct AnchorCommitment {
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  std::string signer_id;
  std::string signature;         // signer's key over op_return_payload
  std::string op_return_payload;  // kAnchorPayloadSize bytes, see BuildAnchorPayload
  bool operator==(const AnchorCommitment&) const = default;
};

// "AIL1" || height(8, BE) || block_hash(32) || state_root(32) ||
// SHA-256(previous 76 bytes)[0..4).
std::string BuildAnchorPayload(uint64_t height, const crypto::Hash256& block_hash,
                               const crypto::Hash256& state_root);
// Checks the payload layout and checksum and that it matches the other
// fields; with `federation`, also the signature. kDataLoss naming the height.
Status CheckAnchor(const AnchorCommitment& anchor, const Federation* federation);

Result<AnchorCommitment> MakeAnchor(uint64_t height, const crypto::Hash256& block_hash,
                                    const crypto::Hash256& state_root, const crypto::PrivateKey& signer,
                                    const std::string& signer_id);
Result<AnchorCommitment> MakeAnchor(uint64_t height, const crypto::Hash256& block_hash,
                                    const crypto::Hash256& state_root, const SignFn& sign,
                                    const std::string& signer_id);

struct Block {
  BlockHeader header;
  std::vector<Transaction> transactions;
  // Present exactly when commitment_interval > 0 and height % interval == 0.
  std::optional<AnchorCommitment> anchor;
  bool operator==(const Block&) const = default;
};

// Binary Merkle root over tx ids: leaf = SHA-256(0x00 || id), node =
// SHA-256(0x01 || left || right), an odd last node is promoted unchanged,
// no transactions -> 32 zero bytes.
crypto::Hash256 MerkleRoot(const std::vector<crypto::Hash256>& tx_ids);
crypto::Hash256 TxRoot(const std::vector<Transaction>& txs);

// Verifies header.signature under federation's key for header.signer_id.
Status CheckBlockSignature(const BlockHeader& header, const Federation& federation);
// The same against the epoch in force at header.height; a signer outside it
// is named with where it stands ("block 130 is signed by signer-01, which
// left the federation at height 120 (epoch 1, break_glass: ...)").
Status CheckBlockSignature(const BlockHeader& header, const FederationHistory& history);

// Encodings. Header: HashedBytes() || u32 len || signature. Block (wire form
// for followers): header || u32 n || n x (u32 len || tx) || u8 has_anchor ||
// [anchor]. Anchor: height || hash || root || signer_id || sig || payload.
std::string EncodeHeader(const BlockHeader& h);
Result<BlockHeader> DecodeHeader(std::string_view bytes);
std::string EncodeBlock(const Block& b);
Result<Block> DecodeBlock(std::string_view bytes);
std::string EncodeAnchor(const AnchorCommitment& a);
Result<AnchorCommitment> DecodeAnchor(std::string_view bytes);

// Stored forms. blocks CF: EncodeHeader(h) || u32 n || n x tx id (32).
// transactions CF: u64 height || u32 index in block || EncodeTransaction(tx).
struct BlockRecord {
  BlockHeader header;
  std::vector<crypto::Hash256> tx_ids;
};
std::string EncodeBlockRecord(const BlockRecord& r);
Result<BlockRecord> DecodeBlockRecord(std::string_view bytes);  // kDataLoss if malformed
struct TxRecord {
  uint64_t height = 0;
  uint32_t index = 0;
  Transaction tx;
};
std::string EncodeTxRecord(const TxRecord& r);
Result<TxRecord> DecodeTxRecord(std::string_view bytes);  // kDataLoss if malformed

// For the HTTP API and the CLI (hashes and signatures as hex).
nlohmann::json HeaderToJson(const BlockHeader& h);
nlohmann::json BlockToJson(const Block& b);
nlohmann::json AnchorToJson(const AnchorCommitment& a);

}  // namespace ailee::state
