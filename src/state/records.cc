#include "state/records.h"

#include <vector>

#include "state/control_records.h"
#include "state/encoding.h"

namespace ailee::state {
namespace {

constexpr uint8_t kRecordVersion = 1;

Status Malformed(std::string_view what) { return DataLoss(std::string(what) + ": malformed stored record"); }

bool ReadVersion(Reader& r) {
  uint8_t v = 0;
  return r.U8(&v) && v == kRecordVersion;
}

}  // namespace

std::string EncodeAccount(const Account& a) {
  std::string out;
  PutU8(&out, kRecordVersion);
  PutU64(&out, a.balance);
  PutU64(&out, a.nonce);
  PutU64(&out, a.last_height);
  return out;
}

Result<Account> DecodeAccount(std::string_view bytes) {
  Reader r(bytes);
  Account a;
  if (!ReadVersion(r) || !r.U64(&a.balance) || !r.U64(&a.nonce) || !r.U64(&a.last_height) || !r.done()) {
    return Malformed("account");
  }
  return a;
}

std::string EncodePegIn(const PegInRecord& p) {
  std::string out;
  PutU8(&out, kRecordVersion);
  PutBytes(&out, p.to);
  PutU64(&out, p.amount);
  PutBytes(&out, p.signer_id);
  out.append(reinterpret_cast<const char*>(p.tx_id.data()), p.tx_id.size());
  PutU64(&out, p.last_height);
  return out;
}

Result<PegInRecord> DecodePegIn(std::string_view bytes) {
  Reader r(bytes);
  PegInRecord p;
  std::string id;
  if (!ReadVersion(r) || !r.Bytes(&p.to, 64) || !r.U64(&p.amount) || !r.Bytes(&p.signer_id, 1024) ||
      !r.Fixed(32, &id) || !r.U64(&p.last_height) || !r.done()) {
    return Malformed("peg-in");
  }
  std::copy(id.begin(), id.end(), p.tx_id.begin());
  return p;
}

std::string EncodePegOut(const PegOutRecord& p) {
  std::string out;
  PutU8(&out, kRecordVersion);
  PutBytes(&out, p.from);
  PutBytes(&out, p.btc_address);
  PutU64(&out, p.amount);
  PutU64(&out, p.last_height);
  return out;
}

Result<PegOutRecord> DecodePegOut(std::string_view bytes) {
  Reader r(bytes);
  PegOutRecord p;
  if (!ReadVersion(r) || !r.Bytes(&p.from, 64) || !r.Bytes(&p.btc_address, 1024) || !r.U64(&p.amount) ||
      !r.U64(&p.last_height) || !r.done()) {
    return Malformed("peg-out");
  }
  return p;
}

std::string EncodeSigner(const SignerRecord& s) {
  std::string out;
  PutU8(&out, kRecordVersion);
  PutU64(&out, s.nonce);
  PutU64(&out, s.last_height);
  return out;
}

Result<SignerRecord> DecodeSigner(std::string_view bytes) {
  Reader r(bytes);
  SignerRecord s;
  if (!ReadVersion(r) || !r.U64(&s.nonce) || !r.U64(&s.last_height) || !r.done()) return Malformed("signer");
  return s;
}

Result<uint64_t> RecordLastHeight(std::string_view cf, std::string_view value) {
  if (cf == kCfAccounts) {
    ASSIGN_OR_RETURN(Account a, DecodeAccount(value));
    return a.last_height;
  }
  if (cf == kCfPegIns) {
    ASSIGN_OR_RETURN(PegInRecord p, DecodePegIn(value));
    return p.last_height;
  }
  if (cf == kCfPegOuts) {
    ASSIGN_OR_RETURN(PegOutRecord p, DecodePegOut(value));
    return p.last_height;
  }
  if (cf == kCfSigners) {
    ASSIGN_OR_RETURN(SignerRecord s, DecodeSigner(value));
    return s.last_height;
  }
  if (cf == kCfControl) return ControlRecordLastHeight(value);
  return Internal("RecordLastHeight: not a state column family: " + std::string(cf));
}

std::string EncodeWriteSet(const std::vector<WriteSetEntry>& entries) {
  std::string out;
  PutU8(&out, kRecordVersion);
  PutU32(&out, static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries) {
    PutBytes(&out, e.cf);
    PutBytes(&out, e.key);
    out.append(reinterpret_cast<const char*>(e.value_hash.data()), e.value_hash.size());
  }
  return out;
}

Result<std::vector<WriteSetEntry>> DecodeWriteSet(std::string_view bytes) {
  Reader r(bytes);
  uint32_t n = 0;
  if (!ReadVersion(r) || !r.U32(&n) || n > r.remaining() / 40) return Malformed("write set");
  std::vector<WriteSetEntry> out(n);
  for (auto& e : out) {
    std::string h;
    if (!r.Bytes(&e.cf, 64) || !r.Bytes(&e.key, 1024) || !r.Fixed(32, &h)) return Malformed("write set");
    std::copy(h.begin(), h.end(), e.value_hash.begin());
  }
  if (!r.done()) return Malformed("write set");
  return out;
}

}  // namespace ailee::state
