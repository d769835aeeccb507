#include "state/control_records.h"

#include "state/encoding.h"

namespace ailee::state {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kKindEpoch = 1;
constexpr uint8_t kKindPegFreeze = 2;

std::string Header(uint8_t kind) {
  std::string out;
  PutU8(&out, kVersion);
  PutU8(&out, kind);
  return out;
}

// The body after a header of `kind`; nullopt when the header differs.
std::optional<std::string_view> Body(std::string_view bytes, uint8_t kind) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != kVersion || static_cast<uint8_t>(bytes[1]) != kind) {
    return std::nullopt;
  }
  return bytes.substr(2);
}

}  // namespace

std::string EpochKey(uint64_t number) { return std::string(kControlEpochPrefix) + EncodeU64(number); }

std::optional<uint64_t> ParseEpochKey(std::string_view key) {
  if (key.size() != kControlEpochPrefix.size() + 8 || key.substr(0, kControlEpochPrefix.size()) != kControlEpochPrefix) {
    return std::nullopt;
  }
  uint64_t n = 0;
  if (!DecodeU64(key.substr(kControlEpochPrefix.size()), &n)) return std::nullopt;
  return n;
}

std::string EncodeEpochRecord(const FederationEpoch& epoch) { return Header(kKindEpoch) + EncodeEpoch(epoch); }

Result<FederationEpoch> DecodeEpochRecord(std::string_view bytes) {
  auto body = Body(bytes, kKindEpoch);
  if (!body) return DataLoss("control: not a federation epoch record");
  return DecodeEpoch(*body);
}

std::string EncodePegFreezeRecord(const PegFreezeRecord& record) {
  std::string out = Header(kKindPegFreeze);
  PutU8(&out, record.frozen ? 1 : 0);
  PutU64(&out, record.height);
  PutBytes(&out, record.reason);
  PutBytes(&out, record.operator_id);
  return out;
}

Result<PegFreezeRecord> DecodePegFreezeRecord(std::string_view bytes) {
  auto body = Body(bytes, kKindPegFreeze);
  if (!body) return DataLoss("control: not a peg freeze record");
  Reader r(*body);
  PegFreezeRecord out;
  uint8_t frozen = 2;
  if (!r.U8(&frozen) || frozen > 1 || !r.U64(&out.height) || !r.Bytes(&out.reason, 1024) ||
      !r.Bytes(&out.operator_id, 128) || !r.done()) {
    return DataLoss("control: malformed peg freeze record");
  }
  out.frozen = frozen == 1;
  return out;
}

Result<uint64_t> ControlRecordLastHeight(std::string_view value) {
  if (Body(value, kKindEpoch)) {
    ASSIGN_OR_RETURN(FederationEpoch e, DecodeEpochRecord(value));
    return e.change_height;
  }
  ASSIGN_OR_RETURN(PegFreezeRecord f, DecodePegFreezeRecord(value));
  return f.height;
}

}  // namespace ailee::state
