// Where a command's signer key is: a PEM file or a key on a PKCS#11 token,
// from its flags or, when none is given, the config's signer section (when
// it names the same signer id). Used by test-signer and federation sign.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "config/config.h"
#include "keys/signer.h"

namespace ailee::cli {

struct SignerFlags {
  std::string key_file, module, token_label, key_label, key_id_hex, pin_file;
  std::string key_flag = "--key";  // the PEM file's flag, for messages
};

// `key_flag` is the PEM file's flag ("--key" for test-signer, "--key-file"),
// then --pkcs11-module, --token-label, --key-label, --key-id, --pin-file.
void AddSignerFlags(CLI::App* c, SignerFlags* flags, const std::string& key_flag);

// Opens signer `id`'s key (the PIN from --pin-file, AILEE_PKCS11_PIN or the
// terminal; never a flag's value).
Result<std::unique_ptr<keys::Signer>> OpenSigner(SignerFlags flags, const std::string& id,
                                                 const config::NodeConfig* config);

}  // namespace ailee::cli
