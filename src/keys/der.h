// The few DER structures PKCS#11 needs for our three key types.
//
// SubjectPublicKeyInfo for Ed25519, P-256 and secp256k1 (as OpenSSL writes
// it: EC points uncompressed) is a fixed prefix followed by the raw public
// key, so no general ASN.1 parser is needed.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/asymmetric.h"

namespace ailee::keys::der {

// CKA_EC_PARAMS: the DER OID of the curve (1.3.101.112 for Ed25519).
std::string EcParams(crypto::KeyType type);
// The raw public key inside an SPKI (65-byte uncompressed point, or 32 bytes for Ed25519).
Result<std::string> RawPublicFromSpki(crypto::KeyType type, std::string_view spki);
// The SPKI for a raw public key.
std::string SpkiFromRawPublic(crypto::KeyType type, std::string_view raw);
// Which of our types a CKA_EC_PARAMS value names (OID, or the printable
// string "edwards25519" some tokens use).
Result<crypto::KeyType> KeyTypeFromEcParams(std::string_view params);

// CKA_EC_POINT: the raw public key in a DER OCTET STRING.
std::string OctetString(std::string_view raw);
// The raw public key from a CKA_EC_POINT value (DER-wrapped, or bare as some tokens return it).
Result<std::string> RawPublicFromEcPoint(crypto::KeyType type, std::string_view ec_point);

// PKCS#11 ECDSA signatures are r||s; OpenSSL verifies DER SEQUENCE{r, s}.
Result<std::string> EcdsaRawToDer(std::string_view raw);

}  // namespace ailee::keys::der
