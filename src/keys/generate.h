// A new signer key for a federation rotation (`ailee-cli keys generate`):
// generated, backed up and tested in one step, so that no key exists that
// has no backup or was never shown to sign.
//
// Into a file: a fresh key of the federation's type, written as PEM with
// mode 0400 (fs::WriteFileExclusive: never replacing anything, never through
// a symlink or into a FIFO at the path); then test-signer (a challenge
// signed with the file, verified with the public key); then exactly what
// `keys backup` makes (backup.h: encrypted copies, optional Shamir shares,
// each read back). If any step fails, every file this call created is
// removed again, the key file included: nothing references the key yet.
//
// On a PKCS#11 token: C_GenerateKeyPair on the token (sensitive, never
// extractable), refused when any key has that label/id; then test-signer
// through the token, and the flags read back. The private key cannot be
// exported, so there is no encrypted backup and no passphrase to split: what
// can be kept is written to each out dir as `<id>.pkcs11.json` (public key,
// fingerprint, where the key lives; no secret), plus the key's signing fence
// when one exists. If a later step fails the key pair is destroyed again.
//
// Crash safety (generate_journal.h): a journal written before the key exists
// and removed only once everything is written marks a run in progress. Kill
// -9 after the key exists but before its backups leaves the key with its
// journal; the rerun with the same --id and key file (or token label and
// first --out) removes that half-made key and what the run wrote (it was
// never printed, and is refused when it signed since or is the
// federation's), reports it in `replaced`, and generates a new key: exactly
// one key, with its backups. Without a journal an existing key file or label
// is refused as before.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/secure.h"
#include "keys/identity.h"
#include "keys/pkcs11.h"
#include "keys/shamir.h"
#include "keys/signer.h"

namespace ailee::keys {

// The key type the federation's signers use: the one type of all `keys`,
// Ed25519 when there are none; InvalidArgument when they mix types.
Result<crypto::KeyType> FederationKeyType(const FederationKeys& keys);

struct TokenTarget {
  std::string module_path;
  std::string token_label;
  Pkcs11KeyRef key;
  std::string fence_path;  // where the node will keep this key's fence (FencePathForPkcs11)
};

struct GenerateRequest {
  std::string signer_id;
  crypto::KeyType type = crypto::KeyType::kEd25519;
  std::string key_file;               // a new PEM file, or
  std::optional<TokenTarget> token;   // a new key pair on a token
  std::vector<std::string> out_dirs;  // backups (file) or public records (token)
  std::optional<ShareSpec> shares;    // file keys only
  std::string shares_dir;
  std::string public_key_out;         // optional: also write the public key PEM here (0644)
  const Clock* clock = &Clock::Real();
  // The configured federation: a half-made key found there is not removed.
  const FederationKeys* federation = nullptr;
};

// The half-made key of an interrupted run that this run removed.
struct ReplacedKey {
  std::string fingerprint;           // empty when the run died before the key existed
  std::string journal;
  std::vector<std::string> removed;  // files (and token objects) it had written
};

struct GenerateResult {
  KeyIdentity identity;
  std::string public_key_pem;
  std::string location;              // Signer::Describe()
  SignerTestReport test;
  std::vector<std::string> backup_files;    // file key: encrypted copies, read back
  std::vector<std::string> share_files;
  std::vector<std::string> public_records;  // token key: <dir>/<id>.pkcs11.json
  std::vector<std::string> fence_files;
  std::optional<Pkcs11KeyFlags> token_flags;
  std::optional<ReplacedKey> replaced;
};

// "<id>.pkcs11.json": what is kept of a key that lives only on a token.
std::string TokenKeyRecordFileName(std::string_view signer_id);

Result<GenerateResult> GenerateKeyFile(const GenerateRequest& request, const crypto::SecureBytes& passphrase);
Result<GenerateResult> GenerateTokenKey(const GenerateRequest& request, const crypto::SecureBytes& pin);

}  // namespace ailee::keys
