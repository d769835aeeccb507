#include "state/federation.h"

#include "state/encoding.h"

namespace ailee::state {

bool Federation::operator==(const Federation& other) const {
  if (threshold != other.threshold || signers.size() != other.signers.size()) return false;
  for (auto a = signers.begin(), b = other.signers.begin(); a != signers.end(); ++a, ++b) {
    if (a->first != b->first || a->second.Der() != b->second.Der()) return false;
  }
  return true;
}

std::string EncodeFederation(const Federation& federation) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(federation.threshold));
  PutU32(&out, static_cast<uint32_t>(federation.signers.size()));
  for (const auto& [id, key] : federation.signers) {  // std::map: sorted by id
    PutBytes(&out, id);
    PutBytes(&out, key.Der());
  }
  return out;
}

Result<Federation> DecodeFederation(std::string_view bytes) {
  Reader r(bytes);
  Federation f;
  uint32_t threshold = 0, count = 0;
  if (!r.U32(&threshold) || !r.U32(&count) || count > kMaxFederationSigners || threshold > count) {
    return DataLoss("federation: malformed header");
  }
  f.threshold = static_cast<int>(threshold);
  std::string previous;
  for (uint32_t i = 0; i < count; ++i) {
    std::string id, der;
    if (!r.Bytes(&id, 128) || !r.Bytes(&der, 4096)) return DataLoss("federation: truncated member");
    if (id.empty() || (i > 0 && id <= previous)) return DataLoss("federation: members not sorted by id");
    auto key = crypto::PublicKey::FromDer(der);
    if (!key.ok()) return DataLoss("federation: member " + id + ": " + key.status().message());
    f.signers.emplace(id, std::move(*key));
    previous = id;
  }
  if (!r.done()) return DataLoss("federation: trailing bytes");
  return f;
}

crypto::Hash256 FederationFingerprint(const Federation& federation) {
  return crypto::Sha256(EncodeFederation(federation));
}

}  // namespace ailee::state
