#include "keys/der.h"

#include "base/hex.h"

namespace ailee::keys::der {
namespace {

std::string Hex(std::string_view h) { return *HexDecode(h); }

// SPKI prefixes (everything up to the raw key bytes).
std::string SpkiPrefix(crypto::KeyType type) {
  switch (type) {
    case crypto::KeyType::kEd25519: return Hex("302a300506032b6570032100");
    case crypto::KeyType::kP256: return Hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    case crypto::KeyType::kSecp256k1: return Hex("3056301006072a8648ce3d020106052b8104000a034200");
  }
  return {};
}

size_t RawPublicSize(crypto::KeyType type) { return type == crypto::KeyType::kEd25519 ? 32 : 65; }

std::string DerLength(size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  if (n < 0x100) return std::string("\x81") + static_cast<char>(n);
  return std::string("\x82") + static_cast<char>(n >> 8) + static_cast<char>(n & 0xff);
}

// Tag, length, value, appended into one string.
std::string Tlv(char tag, std::string_view value) {
  std::string out(1, tag);
  out += DerLength(value.size());
  out.append(value);
  return out;
}

std::string DerInteger(std::string_view be) {
  size_t i = 0;
  while (i + 1 < be.size() && be[i] == 0) ++i;  // minimal encoding
  std::string v;
  if (i < be.size() && (static_cast<unsigned char>(be[i]) & 0x80)) v.push_back('\0');
  v.append(be.substr(i));
  return Tlv('\x02', v);
}

}  // namespace

std::string EcParams(crypto::KeyType type) {
  switch (type) {
    case crypto::KeyType::kEd25519: return Hex("06032b6570");
    case crypto::KeyType::kP256: return Hex("06082a8648ce3d030107");
    case crypto::KeyType::kSecp256k1: return Hex("06052b8104000a");
  }
  return {};
}

Result<std::string> RawPublicFromSpki(crypto::KeyType type, std::string_view spki) {
  std::string prefix = SpkiPrefix(type);
  if (spki.size() != prefix.size() + RawPublicSize(type) || spki.substr(0, prefix.size()) != prefix)
    return InvalidArgument("unexpected SubjectPublicKeyInfo layout for " + std::string(crypto::KeyTypeName(type)));
  return std::string(spki.substr(prefix.size()));
}

std::string SpkiFromRawPublic(crypto::KeyType type, std::string_view raw) { return SpkiPrefix(type) + std::string(raw); }

Result<crypto::KeyType> KeyTypeFromEcParams(std::string_view params) {
  for (auto t : {crypto::KeyType::kEd25519, crypto::KeyType::kP256, crypto::KeyType::kSecp256k1})
    if (params == EcParams(t)) return t;
  if (params == Hex("130c656477617264733235353139")) return crypto::KeyType::kEd25519;  // PrintableString
  return InvalidArgument("token key uses curve parameters " + HexEncode(params) +
                         ", not Ed25519, P-256 or secp256k1");
}

std::string OctetString(std::string_view raw) { return Tlv('\x04', raw); }

Result<std::string> RawPublicFromEcPoint(crypto::KeyType type, std::string_view ec_point) {
  size_t n = RawPublicSize(type);
  std::string wrapped = OctetString(std::string(n, '\0'));
  size_t hdr = wrapped.size() - n;
  if (ec_point.size() == n + hdr && ec_point.substr(0, hdr) == std::string_view(wrapped).substr(0, hdr))
    return std::string(ec_point.substr(hdr));
  if (ec_point.size() == n) return std::string(ec_point);
  return InvalidArgument("token public key (CKA_EC_POINT, " + std::to_string(ec_point.size()) +
                         " bytes) is not a " + std::string(crypto::KeyTypeName(type)) + " point");
}

Result<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 64) return Internal("ECDSA signature from token has " + std::to_string(raw.size()) + " bytes, expected 64");
  std::string body = DerInteger(raw.substr(0, 32)) + DerInteger(raw.substr(32));
  return Tlv('\x30', body);
}

}  // namespace ailee::keys::der
