// Internal to src/config: the YAML schema (parse.cc) and the checks of files
// the config points to (checks.cc). Both record problems through a
// FieldReader and never stop early.
#pragma once

#include <string>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace ailee::config::internal {

// Fills `cfg` from the document root (cfg->config_dir must be set).
void ParseDocument(const YAML::Node& root, NodeConfig* cfg, FieldReader& r);

// Reads and parses the signer's public key (file or inline), stores its PEM
// in s->public_key_pem and checks the optional fingerprint. `path` is the
// signer entry's field path ("federation.signers[1]").
void CheckFederationKey(FederationSigner* s, const std::string& path, FieldReader& r);

// Rejects two federation entries that carry the same public key.
void CheckDistinctKeys(const FederationSection& f, FieldReader& r);

// Checks signer.key_file (exists, no access for others, parses, matches the
// federation's key for signer.id) or the pkcs11 reference.
void CheckSignerKey(const NodeConfig& cfg, const SignerSection& s, FieldReader& r);

// `dir` exists and is a directory (a symlink to one counts).
void CheckDirectory(const std::string& dir, const std::string& field, FieldReader& r);

// Reads a secret (private key, PIN) straight into locked memory.
Result<crypto::SecureBytes> ReadSecretFile(const std::string& path);

// A secret file (passphrase, PIN) exists and others cannot read it.
void CheckSecretFile(const std::string& file, const std::string& field, FieldReader& r);

}  // namespace ailee::config::internal
