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
// Crash safety: kill -9 after the key exists but before its backups leaves
// the key (file or token objects) without them; a rerun then refuses the
// existing key file or label. Back it up with `keys backup`, or remove it
// (nothing references a key before its federation change), then rerun.
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
};

// "<id>.pkcs11.json": what is kept of a key that lives only on a token.
std::string TokenKeyRecordFileName(std::string_view signer_id);

Result<GenerateResult> GenerateKeyFile(const GenerateRequest& request, const crypto::SecureBytes& passphrase);
Result<GenerateResult> GenerateTokenKey(const GenerateRequest& request, const crypto::SecureBytes& pin);

}  // namespace ailee::keys
