// Signer: where the node's block-signing key lives, behind one interface.
//
// FileSigner holds a PEM key file's key in memory (OpenSSL secure heap for
// the parsed key; the PEM text only transiently in SecureBytes).
// Pkcs11Signer keeps the key on a token and calls C_Sign; the private key
// never leaves it. Moving a node from a file to an HSM changes only which
// one is constructed. Both are safe to call from several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/secure.h"
#include "keys/pkcs11.h"

namespace ailee::keys {

class Signer {
 public:
  virtual ~Signer() = default;
  // Same signature format as crypto::PrivateKey::Sign, verifiable with public_key().
  virtual Result<std::string> Sign(std::string_view message) = 0;
  virtual const crypto::PublicKey& public_key() const = 0;
  // "file:/etc/ailee/keys/signer-01.key" or "pkcs11:<module>#token=<label>;object=<label>".
  virtual std::string Describe() const = 0;
};

class FileSigner final : public Signer {
 public:
  static Result<std::unique_ptr<FileSigner>> Open(const std::string& path);
  Result<std::string> Sign(std::string_view message) override;
  const crypto::PublicKey& public_key() const override { return key_.public_key(); }
  std::string Describe() const override { return "file:" + path_; }

 private:
  FileSigner(std::string path, crypto::PrivateKey key) : path_(std::move(path)), key_(std::move(key)) {}
  std::string path_;
  crypto::PrivateKey key_;
};

struct Pkcs11SignerOptions {
  std::string module_path;
  std::string token_label;
  Pkcs11KeyRef key;
};

class Pkcs11Signer final : public Signer {
 public:
  // Opens the token, logs in with `pin` (not kept after login) and reads the
  // key's public key object.
  static Result<std::unique_ptr<Pkcs11Signer>> Open(const Pkcs11SignerOptions& options, const crypto::SecureBytes& pin);
  Result<std::string> Sign(std::string_view message) override;
  const crypto::PublicKey& public_key() const override { return public_key_; }
  std::string Describe() const override;

 private:
  Pkcs11Signer(Pkcs11SignerOptions options, std::unique_ptr<Pkcs11Token> token, crypto::PublicKey pub)
      : options_(std::move(options)), token_(std::move(token)), public_key_(std::move(pub)) {}
  Pkcs11SignerOptions options_;
  std::unique_ptr<Pkcs11Token> token_;
  crypto::PublicKey public_key_;
};

struct SignerTestReport {
  std::string signer;            // Describe()
  std::string fingerprint;       // of the signer's public key
  std::string challenge_hex;
  std::string signature_hex;
};

// The runbook's "verify signer functionality": signs a fresh random
// challenge and verifies the signature with `federation_key` (not with the
// signer's own public key). DataLoss when the signer's key is not the
// federation key or the signature does not verify.
Result<SignerTestReport> TestSigner(Signer& signer, const crypto::PublicKey& federation_key);

}  // namespace ailee::keys
