#include "state/transaction.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "state/encoding.h"
#include "state/internal/json_fields.h"

namespace ailee::state {
namespace {

using internal::CheckFields;
using internal::JsonBool;
using internal::JsonHex;
using internal::JsonString;
using internal::JsonU64;

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

Status CheckControlShape(const Transaction& tx) {
  const std::string name(TxTypeName(tx.type));
  if (tx.amount != 0 || tx.nonce != 0 || !tx.from.empty() || !tx.to.empty() || !tx.memo.empty() ||
      !tx.signer_id.empty() || !tx.btc_txid.empty() || !tx.btc_address.empty() || !tx.signature.empty()) {
    return InvalidArgument(name + ": a control record carries fields of a value transaction");
  }
  if (tx.type == TxType::kFederationChange) {
    if (!tx.federation_change || tx.peg_freeze) return InvalidArgument(name + ": must carry exactly a change");
    return CheckChangeShape(*tx.federation_change);
  }
  if (!tx.peg_freeze || tx.federation_change) return InvalidArgument(name + ": must carry exactly a freeze record");
  const PegFreeze& f = *tx.peg_freeze;
  if (f.reason.empty()) return InvalidArgument("reason is required: say why, it is audited");
  if (f.reason.size() > kMaxChangeReasonBytes) {
    return InvalidArgument(name + ": reason exceeds " + std::to_string(kMaxChangeReasonBytes) + " bytes");
  }
  if (f.operator_id.size() > kMaxChangeOperatorBytes) {
    return InvalidArgument(name + ": operator exceeds " + std::to_string(kMaxChangeOperatorBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

bool IsControlTx(TxType type) { return type == TxType::kFederationChange || type == TxType::kPegFreeze; }
bool IsPegTx(TxType type) { return type == TxType::kPegIn || type == TxType::kPegOut; }

std::string_view TxTypeName(TxType type) {
  switch (type) {
    case TxType::kTransfer: return "transfer";
    case TxType::kPegIn: return "peg_in";
    case TxType::kPegOut: return "peg_out";
    case TxType::kFederationChange: return "federation_change";
    case TxType::kPegFreeze: return "peg_freeze";
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
    case TxType::kFederationChange:
      PutBytes(&out, tx.federation_change ? EncodeFederationChange(*tx.federation_change) : std::string());
      break;
    case TxType::kPegFreeze:
      PutU8(&out, tx.peg_freeze && tx.peg_freeze->frozen ? 1 : 0);
      PutBytes(&out, tx.peg_freeze ? tx.peg_freeze->reason : std::string());
      PutBytes(&out, tx.peg_freeze ? tx.peg_freeze->operator_id : std::string());
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
    case TxType::kFederationChange: {
      std::string change;
      if (!r.Bytes(&change, 1u << 22)) return DataLoss("transaction: truncated federation change");
      auto decoded = DecodeFederationChange(change);
      if (!decoded.ok()) return DataLoss("transaction: " + decoded.status().message());
      tx.federation_change = std::move(*decoded);
      break;
    }
    case TxType::kPegFreeze: {
      PegFreeze f;
      uint8_t frozen = 2;
      if (!r.U8(&frozen) || frozen > 1) return DataLoss("transaction: malformed peg freeze");
      f.frozen = frozen == 1;
      r.Bytes(&f.reason, kMaxChangeReasonBytes);
      r.Bytes(&f.operator_id, kMaxChangeOperatorBytes);
      tx.peg_freeze = std::move(f);
      break;
    }
    default:
      return DataLoss("transaction: unknown type " + std::to_string(type));
  }
  r.Bytes(&tx.signature, 1024);
  if (!r.done()) return DataLoss("transaction: truncated or trailing bytes");
  return tx;
}

crypto::Hash256 TxId(const Transaction& tx) { return crypto::Sha256(EncodeTransaction(tx)); }

Status CheckShape(const Transaction& tx) {
  if (IsControlTx(tx.type)) return CheckControlShape(tx);
  if (tx.federation_change || tx.peg_freeze) {
    return InvalidArgument(std::string(TxTypeName(tx.type)) + ": carries a control record");
  }
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

bool SignatureAlreadyVerified(const Transaction& tx, const crypto::Hash256& id, const VerifiedTxIds* verified) {
  if (verified == nullptr || tx.type == TxType::kPegIn || IsControlTx(tx.type)) return false;
  return verified->count(id) > 0;
}

namespace {
std::atomic<uint64_t> signature_verifications{0};
}  // namespace

uint64_t SignatureVerificationsSoFar() { return signature_verifications.load(std::memory_order_relaxed); }

Status CheckSignature(const Transaction& tx, const Federation& federation) {
  RETURN_IF_ERROR(CheckShape(tx));
  if (IsControlTx(tx.type)) return Status::Ok();
  const std::string msg = SigningBytes(tx);
  signature_verifications.fetch_add(1, std::memory_order_relaxed);
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
  if (tx.type == TxType::kFederationChange && tx.federation_change) {
    j["change"] = FederationChangeToJson(*tx.federation_change);
    return j;
  }
  if (tx.type == TxType::kPegFreeze && tx.peg_freeze) {
    j["frozen"] = tx.peg_freeze->frozen;
    j["reason"] = tx.peg_freeze->reason;
    j["operator"] = tx.peg_freeze->operator_id;
    return j;
  }
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
    case TxType::kFederationChange:
    case TxType::kPegFreeze:
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
  } else if (type == "federation_change") {
    RETURN_IF_ERROR(CheckFields(j, {"change"}));
    auto change = j.find("change");
    if (change == j.end()) return InvalidArgument("missing field \"change\"");
    ASSIGN_OR_RETURN(FederationChange c, FederationChangeFromJson(*change));
    return MakeFederationChangeTx(std::move(c));
  } else if (type == "peg_freeze") {
    RETURN_IF_ERROR(CheckFields(j, {"frozen", "reason", "operator"}));
    ASSIGN_OR_RETURN(bool frozen, JsonBool(j, "frozen"));
    ASSIGN_OR_RETURN(std::string reason, JsonString(j, "reason"));
    ASSIGN_OR_RETURN(std::string op, JsonString(j, "operator"));
    tx = MakePegFreezeTx(frozen, std::move(reason), std::move(op));
    RETURN_IF_ERROR(CheckShape(tx));
    return tx;
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

Transaction MakeFederationChangeTx(FederationChange change) {
  Transaction tx;
  tx.type = TxType::kFederationChange;
  tx.federation_change = std::move(change);
  return tx;
}

Transaction MakePegFreezeTx(bool frozen, std::string reason, std::string operator_id) {
  Transaction tx;
  tx.type = TxType::kPegFreeze;
  tx.peg_freeze = PegFreeze{frozen, std::move(reason), std::move(operator_id)};
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
