// A PKCS#11 token (an HSM, or SoftHSM2 in tests) holding signer keys.
//
// The module is dlopen'ed by path (e.g. /usr/lib/softhsm/libsofthsm2.so);
// the token is found by its label; a key pair is named by CKA_LABEL and,
// optionally, CKA_ID. Private keys are imported as token objects that are
// sensitive and not extractable, and used only through C_Sign: the node and
// test-signer never see them again.
//
// Thread safety: a Pkcs11Token serialises its own calls; several tokens may
// be open at once (the module is initialised once per process and finalised
// when the last token closes).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/secure.h"

namespace ailee::keys {

struct Pkcs11KeyRef {
  std::string label;  // CKA_LABEL
  std::string id;     // CKA_ID, raw bytes; empty = match on label only
};

enum class ImportOutcome { kImported, kAlreadyPresent };

// What the token says about a private key object (CKA_* booleans).
struct Pkcs11KeyFlags {
  bool sensitive = false;
  bool extractable = true;
  bool never_extractable = false;  // true only for a key generated on the token
  bool local = false;              // CKA_LOCAL: generated on the token
};

class Pkcs11Token {
 public:
  // Loads `module_path`, finds the initialised token labelled `token_label`
  // (NotFound, listing the labels present, when absent), opens a read-write
  // session and logs in as the user (PermissionDenied on a wrong PIN).
  static Result<std::unique_ptr<Pkcs11Token>> Open(const std::string& module_path, const std::string& token_label,
                                                   const crypto::SecureBytes& pin);
  ~Pkcs11Token();
  Pkcs11Token(const Pkcs11Token&) = delete;
  Pkcs11Token& operator=(const Pkcs11Token&) = delete;

  // The public key object of `ref`. NotFound when the token has none.
  Result<crypto::PublicKey> PublicKey(const Pkcs11KeyRef& ref);

  // Signs like crypto::PrivateKey::Sign (Ed25519: the message; ECDSA:
  // SHA-256 of it, DER signature), with the private key object of `ref`.
  Result<std::string> Sign(const Pkcs11KeyRef& ref, crypto::KeyType type, std::string_view message);

  // Imports `key` as a private key object (CKA_TOKEN, CKA_PRIVATE,
  // CKA_SENSITIVE, !CKA_EXTRACTABLE, CKA_SIGN) plus its public key object.
  // Idempotent: kAlreadyPresent when objects with that label/id already hold
  // this very key (proved by a signature). AlreadyExists when they hold a
  // different or unverifiable key; ResourceExhausted when the token is full.
  // Either both objects are created or neither is.
  Result<ImportOutcome> ImportKeyPair(const crypto::PrivateKey& key, const Pkcs11KeyRef& ref);

  // The CKA_LABELs of the key objects (private and public) on the token,
  // each once, sorted. Objects of another class are not listed.
  Result<std::vector<std::string>> KeyLabels();

  // Destroys (C_DestroyObject) every private and public key object of `ref`
  // (its label, and its id when given: exact match, as Sign finds them);
  // how many went. Zero when there was none, so it undoes a GenerateKeyPair
  // or ImportKeyPair and clears a killed drill's label alike. Crash safety:
  // each object goes on its own, so a kill halfway leaves some of them,
  // which a second call removes.
  Result<size_t> DestroyKeyObjects(const Pkcs11KeyRef& ref);

  // Generates a key pair ON the token (C_GenerateKeyPair): the private key
  // is CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, !CKA_EXTRACTABLE, CKA_SIGN and
  // never leaves it; returns the public key. AlreadyExists, before anything
  // is created, when any key object with that label (or id) exists: a new
  // key never shadows or replaces one. The pair is proven by a signature
  // and destroyed again when it does not verify.
  Result<crypto::PublicKey> GenerateKeyPair(crypto::KeyType type, const Pkcs11KeyRef& ref);

  // The private key object's protection flags. NotFound when absent.
  Result<Pkcs11KeyFlags> PrivateKeyFlags(const Pkcs11KeyRef& ref);

  const std::string& description() const { return description_; }

 private:
  struct Impl;
  // "label 'L' / id 0a on pkcs11:...": where a key is, for messages.
  std::string Where(const Pkcs11KeyRef& ref) const;
  explicit Pkcs11Token(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::mutex mu_;
  std::string description_;
};

}  // namespace ailee::keys
