#include "state/block.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "state/encoding.h"

namespace ailee::state {
namespace {

constexpr std::string_view kBlockDomain = "ailee.block.v1";

void PutHash(std::string* out, const crypto::Hash256& h) { out->append(reinterpret_cast<const char*>(h.data()), h.size()); }

bool ReadHash(Reader& r, crypto::Hash256* h) {
  std::string s;
  if (!r.Fixed(32, &s)) return false;
  std::copy(s.begin(), s.end(), h->begin());
  return true;
}

bool ReadHeader(Reader& r, BlockHeader* h) {
  std::string domain;
  uint64_t ts = 0;
  bool ok = r.Fixed(kBlockDomain.size(), &domain) && domain == kBlockDomain && r.U64(&h->height) &&
            ReadHash(r, &h->prev_hash) && ReadHash(r, &h->tx_root) && ReadHash(r, &h->state_root) &&
            r.U64(&ts) && r.Bytes(&h->signer_id, kMaxSignerIdBytes) && r.Bytes(&h->signature, 1024);
  h->timestamp_ms = static_cast<int64_t>(ts);
  return ok;
}

bool ReadAnchor(Reader& r, AnchorCommitment* a) {
  return r.U64(&a->height) && ReadHash(r, &a->block_hash) && ReadHash(r, &a->state_root) &&
         r.Bytes(&a->signer_id, kMaxSignerIdBytes) && r.Bytes(&a->signature, 1024) &&
         r.Bytes(&a->op_return_payload, kAnchorPayloadSize);
}

}  // namespace

std::string BlockHeader::HashedBytes() const {
  std::string out(kBlockDomain);
  PutU64(&out, height);
  PutHash(&out, prev_hash);
  PutHash(&out, tx_root);
  PutHash(&out, state_root);
  PutU64(&out, static_cast<uint64_t>(timestamp_ms));
  PutBytes(&out, signer_id);
  return out;
}

crypto::Hash256 BlockHeader::Hash() const { return crypto::Sha256(HashedBytes()); }

std::string BuildAnchorPayload(uint64_t height, const crypto::Hash256& block_hash,
                               const crypto::Hash256& state_root) {
  std::string out(kAnchorMagic);
  PutU64(&out, height);
  PutHash(&out, block_hash);
  PutHash(&out, state_root);
  crypto::Hash256 check = crypto::Sha256(out);
  out.append(reinterpret_cast<const char*>(check.data()), 4);
  return out;
}

Status CheckAnchor(const AnchorCommitment& a, const Federation* federation) {
  const std::string where = "anchor at height " + std::to_string(a.height) + ": ";
  const std::string& p = a.op_return_payload;
  if (p.size() != kAnchorPayloadSize) {
    return DataLoss(where + "payload is " + std::to_string(p.size()) + " bytes, expected 80");
  }
  if (p.substr(0, 4) != kAnchorMagic) return DataLoss(where + "payload magic is not AIL1");
  crypto::Hash256 check = crypto::Sha256(std::string_view(p).substr(0, 76));
  if (p.compare(76, 4, reinterpret_cast<const char*>(check.data()), 4) != 0) {
    return DataLoss(where + "payload checksum does not match");
  }
  if (p != BuildAnchorPayload(a.height, a.block_hash, a.state_root)) {
    return DataLoss(where + "payload does not commit to the recorded height, block hash and state root");
  }
  if (federation != nullptr) {
    const crypto::PublicKey* key = federation->Find(a.signer_id);
    if (key == nullptr) return DataLoss(where + "signer \"" + a.signer_id + "\" is not a federation signer");
    if (!key->Verify(p, a.signature)) {
      return DataLoss(where + "signature does not verify under signer \"" + a.signer_id + "\"");
    }
  }
  return Status::Ok();
}

Result<AnchorCommitment> MakeAnchor(uint64_t height, const crypto::Hash256& block_hash,
                                    const crypto::Hash256& state_root, const crypto::PrivateKey& signer,
                                    const std::string& signer_id) {
  return MakeAnchor(height, block_hash, state_root, SignFn([&signer](std::string_view m) { return signer.Sign(m); }),
                    signer_id);
}

Result<AnchorCommitment> MakeAnchor(uint64_t height, const crypto::Hash256& block_hash,
                                    const crypto::Hash256& state_root, const SignFn& sign,
                                    const std::string& signer_id) {
  AnchorCommitment a;
  a.height = height;
  a.block_hash = block_hash;
  a.state_root = state_root;
  a.signer_id = signer_id;
  a.op_return_payload = BuildAnchorPayload(height, block_hash, state_root);
  ASSIGN_OR_RETURN(a.signature, sign(a.op_return_payload));
  return a;
}

crypto::Hash256 MerkleRoot(const std::vector<crypto::Hash256>& tx_ids) {
  if (tx_ids.empty()) return crypto::Hash256{};
  // One stack buffer for every leaf and node, and the levels folded in
  // place: a block holds thousands of ids, and a string per node cost more
  // than hashing it.
  unsigned char buf[1 + 2 * 32];
  auto hash = [&buf](size_t n) { return crypto::Sha256(std::string_view(reinterpret_cast<const char*>(buf), n)); };
  std::vector<crypto::Hash256> level;
  level.reserve(tx_ids.size());
  buf[0] = 0x00;
  for (const auto& id : tx_ids) {
    std::memcpy(buf + 1, id.data(), 32);
    level.push_back(hash(1 + 32));
  }
  buf[0] = 0x01;
  while (level.size() > 1) {
    size_t next = 0;  // node `next` of the level above replaces node 2*next or later: never one still unread
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      std::memcpy(buf + 1, level[i].data(), 32);
      std::memcpy(buf + 1 + 32, level[i + 1].data(), 32);
      level[next++] = hash(1 + 2 * 32);
    }
    if (level.size() % 2 == 1) level[next++] = level.back();
    level.resize(next);
  }
  return level[0];
}

crypto::Hash256 TxRoot(const std::vector<Transaction>& txs) {
  std::vector<crypto::Hash256> ids;
  ids.reserve(txs.size());
  for (const auto& tx : txs) ids.push_back(TxId(tx));
  return MerkleRoot(ids);
}

Status CheckBlockSignature(const BlockHeader& header, const Federation& federation) {
  const crypto::PublicKey* key = federation.Find(header.signer_id);
  if (key == nullptr) {
    return InvalidArgument("block " + std::to_string(header.height) + ": signer \"" + header.signer_id +
                           "\" is not a federation signer");
  }
  crypto::Hash256 h = header.Hash();
  if (!key->Verify(crypto::HashToString(h), header.signature)) {
    return InvalidArgument("block " + std::to_string(header.height) + ": signature does not verify under signer \"" +
                           header.signer_id + "\"");
  }
  return Status::Ok();
}

Status CheckBlockSignature(const BlockHeader& header, const FederationHistory& history) {
  const Federation& federation = history.At(header.height);
  if (federation.Find(header.signer_id) == nullptr && history.epochs().size() > 1) {
    const std::string where = history.DescribeSigner(header.signer_id, header.height);
    // "..., which left the federation at height 120 (epoch 1, ...)" / "... (never a member)"
    const bool left = where.rfind("left ", 0) == 0;
    return InvalidArgument("block " + std::to_string(header.height) + " is signed by " + header.signer_id +
                           (left ? ", which " + where : " (" + where + ")"));
  }
  return CheckBlockSignature(header, federation);
}

std::string EncodeHeader(const BlockHeader& h) {
  std::string out = h.HashedBytes();
  PutBytes(&out, h.signature);
  return out;
}

Result<BlockHeader> DecodeHeader(std::string_view bytes) {
  Reader r(bytes);
  BlockHeader h;
  if (!ReadHeader(r, &h) || !r.done()) return DataLoss("block header: malformed encoding");
  return h;
}

std::string EncodeAnchor(const AnchorCommitment& a) {
  std::string out;
  PutU64(&out, a.height);
  PutHash(&out, a.block_hash);
  PutHash(&out, a.state_root);
  PutBytes(&out, a.signer_id);
  PutBytes(&out, a.signature);
  PutBytes(&out, a.op_return_payload);
  return out;
}

Result<AnchorCommitment> DecodeAnchor(std::string_view bytes) {
  Reader r(bytes);
  AnchorCommitment a;
  if (!ReadAnchor(r, &a) || !r.done()) return DataLoss("anchor: malformed encoding");
  return a;
}

std::string EncodeBlock(const Block& b) {
  std::string out = EncodeHeader(b.header);
  PutU32(&out, static_cast<uint32_t>(b.transactions.size()));
  for (const auto& tx : b.transactions) PutBytes(&out, EncodeTransaction(tx));
  PutU8(&out, b.anchor ? 1 : 0);
  if (b.anchor) out += EncodeAnchor(*b.anchor);
  return out;
}

Result<Block> DecodeBlock(std::string_view bytes) {
  Reader r(bytes);
  Block b;
  if (!ReadHeader(r, &b.header)) return InvalidArgument("block: malformed header");
  uint32_t n = 0;
  if (!r.U32(&n) || n > r.remaining() / 4) return InvalidArgument("block: malformed transaction count");
  b.transactions.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string enc;
    if (!r.Bytes(&enc)) return InvalidArgument("block: truncated at transaction " + std::to_string(i));
    auto tx = DecodeTransaction(enc);
    if (!tx.ok()) return InvalidArgument("block: transaction " + std::to_string(i) + ": " + tx.status().message());
    b.transactions.push_back(std::move(*tx));
  }
  uint8_t has_anchor = 0;
  if (!r.U8(&has_anchor) || has_anchor > 1) return InvalidArgument("block: malformed anchor flag");
  if (has_anchor) {
    AnchorCommitment a;
    if (!ReadAnchor(r, &a)) return InvalidArgument("block: malformed anchor");
    b.anchor = std::move(a);
  }
  if (!r.done()) return InvalidArgument("block: trailing bytes");
  return b;
}

std::string EncodeBlockRecord(const BlockRecord& rec) {
  std::string out = EncodeHeader(rec.header);
  PutU32(&out, static_cast<uint32_t>(rec.tx_ids.size()));
  for (const auto& id : rec.tx_ids) PutHash(&out, id);
  return out;
}

Result<BlockRecord> DecodeBlockRecord(std::string_view bytes) {
  Reader r(bytes);
  BlockRecord rec;
  uint32_t n = 0;
  if (!ReadHeader(r, &rec.header) || !r.U32(&n) || r.remaining() != static_cast<size_t>(n) * 32) {
    return DataLoss("block record: malformed encoding");
  }
  rec.tx_ids.resize(n);
  for (auto& id : rec.tx_ids) ReadHash(r, &id);
  return rec;
}

std::string EncodeTxRecord(const TxRecord& rec) {
  std::string out;
  PutU64(&out, rec.height);
  PutU32(&out, rec.index);
  out += EncodeTransaction(rec.tx);
  return out;
}

Result<TxRecord> DecodeTxRecord(std::string_view bytes) {
  Reader r(bytes);
  TxRecord rec;
  if (!r.U64(&rec.height) || !r.U32(&rec.index)) return DataLoss("transaction record: malformed encoding");
  auto tx = DecodeTransaction(bytes.substr(12));
  if (!tx.ok()) return DataLoss("transaction record: " + tx.status().message());
  rec.tx = std::move(*tx);
  return rec;
}

nlohmann::json HeaderToJson(const BlockHeader& h) {
  return {{"height", h.height},
          {"hash", crypto::HashToHex(h.Hash())},
          {"prev_hash", crypto::HashToHex(h.prev_hash)},
          {"tx_root", crypto::HashToHex(h.tx_root)},
          {"state_root", crypto::HashToHex(h.state_root)},
          {"timestamp_ms", h.timestamp_ms},
          {"signer_id", h.signer_id},
          {"signature", HexEncode(h.signature)}};
}

nlohmann::json AnchorToJson(const AnchorCommitment& a) {
  return {{"height", a.height},
          {"block_hash", crypto::HashToHex(a.block_hash)},
          {"state_root", crypto::HashToHex(a.state_root)},
          {"signer_id", a.signer_id},
          {"signature", HexEncode(a.signature)},
          {"op_return_payload", HexEncode(a.op_return_payload)}};
}

nlohmann::json BlockToJson(const Block& b) {
  nlohmann::json j = {{"header", HeaderToJson(b.header)}};
  nlohmann::json txs = nlohmann::json::array();
  for (const auto& tx : b.transactions) {
    nlohmann::json t = TransactionToJson(tx);
    t["id"] = crypto::HashToHex(TxId(tx));
    txs.push_back(std::move(t));
  }
  j["transactions"] = std::move(txs);
  if (b.anchor) j["anchor"] = AnchorToJson(*b.anchor);
  return j;
}

}  // namespace ailee::state
