// Who a signer key is, and what a backup records about it.
//
// A key is identified by its signer id ("signer-01") and its fingerprint:
// hex SHA-256 of the DER SubjectPublicKeyInfo (crypto::PublicKey). The
// fingerprint is recorded at backup time in the metadata file next to the
// encrypted key, and checked against the federation public keys (from the
// node config or --federation-key) on verify, restore and test-signer.
//
// This module owns every file name the keys layer writes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/asymmetric.h"

namespace ailee::keys {

inline constexpr std::string_view kToolVersion = "ailee-cli 0.1.0";
inline constexpr int kMetadataFormatVersion = 1;

// Signer ids end up in file names: 1-64 of [A-Za-z0-9._-], not starting with '.'.
Status ValidateSignerId(std::string_view id);

struct KeyIdentity {
  std::string signer_id;
  std::string fingerprint;  // hex SHA-256 of DER SPKI
  crypto::KeyType type = crypto::KeyType::kEd25519;
};
KeyIdentity IdentityOf(std::string signer_id, const crypto::PublicKey& key);

// The federation's public keys by signer id.
using FederationKeys = std::map<std::string, crypto::PublicKey>;

// Checks `key` against the federation key of `signer_id`. NotFound when the
// federation has no key for that id; DataLoss on a mismatch (the message
// names both fingerprints and key types).
Status CheckFederation(const FederationKeys& federation, const KeyIdentity& identity);

// Shamir split of the backup passphrase, recorded so that restore can say
// "need 3 shares, got 2" instead of failing obscurely. No secret.
struct ShareInfo {
  int threshold = 0;
  int count = 0;
  std::vector<int> numbers;  // gfsplit share numbers (1-255)
};

// `<id>.key.json`, next to `<id>.key.gpg`. Holds no secret.
struct BackupMetadata {
  int format_version = kMetadataFormatVersion;
  KeyIdentity identity;
  int64_t created_unix = 0;
  std::string tool_version{kToolVersion};
  std::string public_key_pem;
  std::string ciphertext_sha256;  // of the .key.gpg file: tells damage from a wrong passphrase
  std::optional<ShareInfo> shares;

  nlohmann::json ToJson() const;
  static Result<BackupMetadata> FromJson(std::string_view text, const std::string& path_for_errors);
};

std::string BackupFileName(std::string_view signer_id);    // "<id>.key.gpg"
std::string MetadataFileName(std::string_view signer_id);  // "<id>.key.json"
// "<id>.share.NNN", NNN the zero-padded share number: gfcombine's naming.
std::string ShareFileName(std::string_view signer_id, int number);
// The metadata path for a backup path: "<dir>/<id>.key.gpg" -> "<dir>/<id>.key.json".
std::string MetadataPathFor(const std::string& backup_path);

}  // namespace ailee::keys
