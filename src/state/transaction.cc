#include "state/transaction.h"

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "state/encoding.h"

namespace ailee::state {
namespace {

constexpr std::string_view kTxDomain = "ailee.tx.v1";

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Status CheckKey(std::string_view value, std::string_view field) {
  if (value.size() != crypto::kEd25519PublicKeySize) {
    return InvalidArgument(std::string(field) + ": must be a 32-byte Ed25519 public key (64 hex chars), got " +
                           std::to_string(value.size()) + " bytes");
  }
  return Status::Ok();
}

// JSON field helpers: each names the field in its error.
Result<std::string> JsonString(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return InvalidArgument(std::string("missing field \"") + field + "\"");
  if (!it->is_string()) return InvalidArgument(std::string("field \"") + field + "\" must be a string");
  return it->get<std::string>();
}

Result<std::string> JsonHex(const nlohmann::json& j, const char* field, size_t want_bytes) {
  ASSIGN_OR_RETURN(std::string text, JsonString(j, field));
  auto raw = HexDecode(text);
  if (!raw) return InvalidArgument(std::string("field \"") + field + "\" is not valid hex");
  if (want_bytes != 0 && raw->size() != want_bytes) {
    return InvalidArgument(std::string("field \"") + field + "\" must be " + std::to_string(want_bytes * 2) +
                           " hex chars, got " + std::to_string(text.size()));
  }
  return *raw;
}

Result<uint64_t> JsonU64(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return InvalidArgument(std::string("missing field \"") + field + "\"");
  // nlohmann stores non-negative integers that fit in 64 bits as unsigned;
  // anything larger becomes a float, negatives become signed.
  if (!it->is_number_unsigned()) {
    return InvalidArgument(std::string("field \"") + field +
                           "\" must be an unsigned 64-bit integer (overflow, negative or not a number)");
  }
  return it->get<uint64_t>();
}

Status CheckFields(const nlohmann::json& j, std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = it.key() == "type" || it.key() == "id";
    for (auto a : allowed) ok = ok || it.key() == a;
    if (!ok) return InvalidArgument("unknown field \"" + it.key() + "\"");
  }
  return Status::Ok();
}

}  // namespace

std::string_view TxTypeName(TxType type) {
  switch (type) {
    case TxType::kTransfer: return "transfer";
    case TxType::kPegIn: return "peg_in";
    case TxType::kPegOut: return "peg_out";
  }
  return "unknown";
}

std::string SigningBytes(const Transaction& tx) {
  std::string out(kTxDomain);
  PutU8(&out, static_cast<uint8_t>(tx.type));
  switch (tx.type) {
    case TxType::kTransfer:
      PutBytes(&out, tx.from);
      PutBytes(&out, tx.to);
      PutU64(&out, tx.amount);
      PutU64(&out, tx.nonce);
      PutBytes(&out, tx.memo);
      break;
    case TxType::kPegIn:
      PutBytes(&out, tx.signer_id);
      PutBytes(&out, tx.to);
      PutU64(&out, tx.amount);
      PutBytes(&out, tx.btc_txid);
      PutU64(&out, tx.nonce);
      break;
    case TxType::kPegOut:
      PutBytes(&out, tx.from);
      PutBytes(&out, tx.btc_address);
      PutU64(&out, tx.amount);
      PutU64(&out, tx.nonce);
      break;
  }
  return out;
}

std::string EncodeTransaction(const Transaction& tx) {
  std::string out = SigningBytes(tx);
  PutBytes(&out, tx.signature);
  return out;
}

Result<Transaction> DecodeTransaction(std::string_view bytes) {
  if (bytes.substr(0, kTxDomain.size()) != kTxDomain) return DataLoss("transaction: bad domain prefix");
  Reader r(bytes.substr(kTxDomain.size()));
  Transaction tx;
  uint8_t type = 0;
  r.U8(&type);
  tx.type = static_cast<TxType>(type);
  switch (tx.type) {
    case TxType::kTransfer:
      r.Bytes(&tx.from, 64);
      r.Bytes(&tx.to, 64);
      r.U64(&tx.amount);
      r.U64(&tx.nonce);
      r.Bytes(&tx.memo, kMaxMemoBytes);
      break;
    case TxType::kPegIn:
      r.Bytes(&tx.signer_id, kMaxSignerIdBytes);
      r.Bytes(&tx.to, 64);
      r.U64(&tx.amount);
      r.Bytes(&tx.btc_txid, 64);
      r.U64(&tx.nonce);
      break;
    case TxType::kPegOut:
      r.Bytes(&tx.from, 64);
      r.Bytes(&tx.btc_address, kMaxBtcAddressBytes);
      r.U64(&tx.amount);
      r.U64(&tx.nonce);
      break;
    default:
      return DataLoss("transaction: unknown type " + std::to_string(type));
  }
  r.Bytes(&tx.signature, 1024);
  if (!r.done()) return DataLoss("transaction: truncated or trailing bytes");
  return tx;
}

crypto::Hash256 TxId(const Transaction& tx) { return crypto::Sha256(EncodeTransaction(tx)); }

Status CheckShape(const Transaction& tx) {
  if (tx.amount == 0) return InvalidArgument("amount: must be greater than zero");
  switch (tx.type) {
    case TxType::kTransfer:
      RETURN_IF_ERROR(CheckKey(tx.from, "from"));
      RETURN_IF_ERROR(CheckKey(tx.to, "to"));
      if (tx.from == tx.to) return InvalidArgument("to: a transfer must not send to its own sender");
      if (tx.memo.size() > kMaxMemoBytes) {
        return InvalidArgument("memo: " + std::to_string(tx.memo.size()) + " bytes exceeds the limit of " +
                               std::to_string(kMaxMemoBytes));
      }
      if (!tx.signer_id.empty() || !tx.btc_txid.empty() || !tx.btc_address.empty()) {
        return InvalidArgument("transfer: carries peg fields");
      }
      break;
    case TxType::kPegIn:
      if (tx.signer_id.empty() || tx.signer_id.size() > kMaxSignerIdBytes) {
        return InvalidArgument("signer: must be 1.." + std::to_string(kMaxSignerIdBytes) + " bytes");
      }
      RETURN_IF_ERROR(CheckKey(tx.to, "to"));
      if (tx.btc_txid.size() != 32) return InvalidArgument("btc_txid: must be 32 bytes (64 hex chars)");
      if (!tx.from.empty() || !tx.memo.empty() || !tx.btc_address.empty()) {
        return InvalidArgument("peg_in: carries fields of another type");
      }
      break;
    case TxType::kPegOut:
      RETURN_IF_ERROR(CheckKey(tx.from, "from"));
      if (tx.btc_address.empty() || tx.btc_address.size() > kMaxBtcAddressBytes ||
          !PrintableAscii(tx.btc_address)) {
        return InvalidArgument("btc_address: must be 1.." + std::to_string(kMaxBtcAddressBytes) +
                               " printable ASCII characters");
      }
      if (!tx.to.empty() || !tx.memo.empty() || !tx.signer_id.empty() || !tx.btc_txid.empty()) {
        return InvalidArgument("peg_out: carries fields of another type");
      }
      break;
    default:
      return InvalidArgument("type: unknown transaction type");
  }
  return Status::Ok();
}

Status CheckSignature(const Transaction& tx, const Federation& federation) {
  RETURN_IF_ERROR(CheckShape(tx));
  const std::string msg = SigningBytes(tx);
  if (tx.type == TxType::kPegIn) {
    const crypto::PublicKey* key = federation.Find(tx.signer_id);
    if (key == nullptr) return InvalidArgument("signer: \"" + tx.signer_id + "\" is not a federation signer");
    if (!key->Verify(msg, tx.signature)) {
      return InvalidArgument("signature: does not verify under federation signer \"" + tx.signer_id + "\"");
    }
    return Status::Ok();
  }
  if (tx.signature.size() != crypto::kEd25519SignatureSize || !crypto::Ed25519Verify(tx.from, msg, tx.signature)) {
    return InvalidArgument("signature: does not verify under sender " + AccountIdHex(tx.from));
  }
  return Status::Ok();
}

nlohmann::json TransactionToJson(const Transaction& tx) {
  nlohmann::json j;
  j["type"] = TxTypeName(tx.type);
  switch (tx.type) {
    case TxType::kTransfer:
      j["from"] = HexEncode(tx.from);
      j["to"] = HexEncode(tx.to);
      if (!tx.memo.empty()) j["memo"] = tx.memo;
      break;
    case TxType::kPegIn:
      j["signer"] = tx.signer_id;
      j["to"] = HexEncode(tx.to);
      j["btc_txid"] = HexEncode(tx.btc_txid);
      break;
    case TxType::kPegOut:
      j["from"] = HexEncode(tx.from);
      j["btc_address"] = tx.btc_address;
      break;
  }
  j["amount"] = tx.amount;
  j["nonce"] = tx.nonce;
  j["signature"] = HexEncode(tx.signature);
  return j;
}

Result<Transaction> TransactionFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("transaction: must be a JSON object");
  ASSIGN_OR_RETURN(std::string type, JsonString(j, "type"));
  Transaction tx;
  if (type == "transfer") {
    tx.type = TxType::kTransfer;
    RETURN_IF_ERROR(CheckFields(j, {"from", "to", "amount", "nonce", "memo", "signature"}));
    ASSIGN_OR_RETURN(tx.from, JsonHex(j, "from", 32));
    ASSIGN_OR_RETURN(tx.to, JsonHex(j, "to", 32));
    if (j.contains("memo")) {
      ASSIGN_OR_RETURN(tx.memo, JsonString(j, "memo"));
    }
  } else if (type == "peg_in") {
    tx.type = TxType::kPegIn;
    RETURN_IF_ERROR(CheckFields(j, {"signer", "to", "amount", "btc_txid", "nonce", "signature"}));
    ASSIGN_OR_RETURN(tx.signer_id, JsonString(j, "signer"));
    ASSIGN_OR_RETURN(tx.to, JsonHex(j, "to", 32));
    ASSIGN_OR_RETURN(tx.btc_txid, JsonHex(j, "btc_txid", 32));
  } else if (type == "peg_out") {
    tx.type = TxType::kPegOut;
    RETURN_IF_ERROR(CheckFields(j, {"from", "btc_address", "amount", "nonce", "signature"}));
    ASSIGN_OR_RETURN(tx.from, JsonHex(j, "from", 32));
    ASSIGN_OR_RETURN(tx.btc_address, JsonString(j, "btc_address"));
  } else {
    return InvalidArgument("field \"type\": unknown transaction type \"" + type + "\"");
  }
  ASSIGN_OR_RETURN(tx.amount, JsonU64(j, "amount"));
  ASSIGN_OR_RETURN(tx.nonce, JsonU64(j, "nonce"));
  ASSIGN_OR_RETURN(tx.signature, JsonHex(j, "signature", 0));
  if (tx.signature.empty()) return InvalidArgument("field \"signature\" is empty");
  RETURN_IF_ERROR(CheckShape(tx));
  return tx;
}

Result<Transaction> ParseTransactionJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("transaction: body is not valid JSON");
  return TransactionFromJson(j);
}

Transaction MakeTransfer(const crypto::Ed25519KeyPair& from, std::string_view to, uint64_t amount,
                         uint64_t nonce, std::string memo) {
  Transaction tx;
  tx.type = TxType::kTransfer;
  tx.from = from.public_key;
  tx.to = std::string(to);
  tx.amount = amount;
  tx.nonce = nonce;
  tx.memo = std::move(memo);
  tx.signature = crypto::Ed25519Sign(from, SigningBytes(tx));
  return tx;
}

Transaction MakePegOut(const crypto::Ed25519KeyPair& from, std::string btc_address, uint64_t amount,
                       uint64_t nonce) {
  Transaction tx;
  tx.type = TxType::kPegOut;
  tx.from = from.public_key;
  tx.btc_address = std::move(btc_address);
  tx.amount = amount;
  tx.nonce = nonce;
  tx.signature = crypto::Ed25519Sign(from, SigningBytes(tx));
  return tx;
}

Result<Transaction> MakePegIn(const crypto::PrivateKey& signer, std::string signer_id, std::string_view to,
                              uint64_t amount, std::string_view btc_txid, uint64_t nonce) {
  Transaction tx;
  tx.type = TxType::kPegIn;
  tx.signer_id = std::move(signer_id);
  tx.to = std::string(to);
  tx.amount = amount;
  tx.btc_txid = std::string(btc_txid);
  tx.nonce = nonce;
  ASSIGN_OR_RETURN(tx.signature, signer.Sign(SigningBytes(tx)));
  return tx;
}

std::string AccountIdHex(std::string_view public_key) { return HexEncode(public_key); }

Result<std::string> ParseAccountId(std::string_view hex, std::string_view field) {
  auto raw = HexDecode(hex);
  if (!raw || raw->size() != 32) {
    return InvalidArgument(std::string(field) + ": \"" + std::string(hex.substr(0, 80)) +
                           "\" is not a 64-hex-char account id");
  }
  return *raw;
}

}  // namespace ailee::state
