#include "cli/secrets_passphrase.h"

#include "keys/secret_input.h"

namespace ailee::cli {

Result<std::optional<crypto::SecureBytes>> SecretsPassphrase(const std::string& file, bool required) {
  keys::SecretSource src;
  src.file = file;
  src.env = kSecretsPassphraseEnv;
  src.prompt = "Secrets passphrase: ";
  auto p = keys::ReadSecret(src);
  if (p.ok()) return std::optional<crypto::SecureBytes>(std::move(*p));
  // Optional means "none given": a file the operator named must exist.
  if (p.status().code() == StatusCode::kNotFound && !required && file.empty()) return std::optional<crypto::SecureBytes>();
  return p.status().WithContext("secrets passphrase (--secrets-passphrase-file, $" + std::string(kSecretsPassphraseEnv) + " or a terminal)");
}

}  // namespace ailee::cli
