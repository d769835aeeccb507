// Federation signer keys through OpenSSL: Ed25519, secp256k1 and P-256, in
// PEM as `openssl genpkey` writes them. A key is identified by its
// fingerprint: SHA-256 of the DER SubjectPublicKeyInfo.
//
// Ed25519 signs the message itself; the ECDSA types sign SHA-256(message)
// and produce DER signatures.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::crypto {

enum class KeyType { kEd25519, kSecp256k1, kP256 };
std::string_view KeyTypeName(KeyType type);  // "ed25519", "secp256k1", "p256"
Result<KeyType> ParseKeyType(std::string_view name);

class PublicKey {
 public:
  static Result<PublicKey> FromPem(std::string_view pem);
  static Result<PublicKey> FromDer(std::string_view der);
  KeyType type() const { return type_; }
  std::string Der() const;   // SubjectPublicKeyInfo
  std::string Pem() const;
  std::string FingerprintHex() const;  // hex SHA-256 of Der()
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY
  KeyType type_ = KeyType::kEd25519;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  // Parses PKCS#8 or traditional PEM. The PEM text is not kept.
  static Result<PrivateKey> FromPem(const SecureBytes& pem);
  static Result<PrivateKey> Generate(KeyType type);
  KeyType type() const { return public_key_.type(); }
  const PublicKey& public_key() const { return public_key_; }
  Result<std::string> Sign(std::string_view message) const;
  // PKCS#8 PEM in secure memory (for backups; never logged or written plain).
  Result<SecureBytes> ToPem() const;
  // The raw private scalar/seed (32 bytes), for PKCS#11 import.
  Result<SecureBytes> RawPrivate() const;

 private:
  std::shared_ptr<void> pkey_;
  PublicKey public_key_;
};

}  // namespace ailee::crypto
