// The passphrase that encrypts secrets inside config snapshots
// (docs/config-backup.md): shared by `config backup|restore|export|import`
// and `backup all`.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::cli {

inline constexpr const char* kSecretsPassphraseEnv = "AILEE_SECRETS_PASSPHRASE";

// --secrets-passphrase-file FILE, $AILEE_SECRETS_PASSPHRASE or a prompt on
// the terminal. nullopt when none is available and it is optional; a named
// file that cannot be read is always an error.
Result<std::optional<crypto::SecureBytes>> SecretsPassphrase(const std::string& file, bool required);

}  // namespace ailee::cli
