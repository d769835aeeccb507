#include "cli/signer_flags.h"

#include "base/hex.h"
#include "cli/key_env.h"

namespace ailee::cli {

void AddSignerFlags(CLI::App* c, SignerFlags* f, const std::string& key_flag) {
  f->key_flag = key_flag;
  c->add_option(key_flag, f->key_file, "PEM private key file");
  c->add_option("--pkcs11-module", f->module, "PKCS#11 module path");
  c->add_option("--token-label", f->token_label, "token label");
  c->add_option("--key-label", f->key_label, "CKA_LABEL of the key");
  c->add_option("--key-id", f->key_id_hex, "CKA_ID of the key, hex");
  c->add_option("--pin-file", f->pin_file, "file holding the user PIN (or AILEE_PKCS11_PIN)");
}

Result<std::unique_ptr<keys::Signer>> OpenSigner(SignerFlags o, const std::string& id, const config::NodeConfig* cfg) {
  if (o.key_file.empty() && o.module.empty() && cfg && cfg->signer && cfg->signer->id == id) {
    const auto& s = *cfg->signer;
    if (s.pkcs11) {
      o.module = s.pkcs11->module;
      o.token_label = s.pkcs11->token_label;
      o.key_label = s.pkcs11->key_label;
      if (o.pin_file.empty()) o.pin_file = s.pkcs11->pin_file;
    } else {
      o.key_file = s.key_file;
    }
  }
  if (!o.key_file.empty() && !o.module.empty()) return InvalidArgument("give " + o.key_flag + " or --pkcs11-module, not both");
  if (!o.key_file.empty()) {
    ASSIGN_OR_RETURN(auto s, keys::FileSigner::Open(o.key_file));
    return std::unique_ptr<keys::Signer>(std::move(s));
  }
  if (o.module.empty())
    return InvalidArgument("no signer key for '" + id + "': pass " + o.key_flag + " FILE or --pkcs11-module/--token-label/--key-label, "
                           "or configure the signer section");
  if (o.token_label.empty() || o.key_label.empty())
    return InvalidArgument("--pkcs11-module needs --token-label and --key-label");
  keys::Pkcs11SignerOptions p{o.module, o.token_label, {o.key_label, ""}};
  if (!o.key_id_hex.empty()) {
    auto key_id = HexDecode(o.key_id_hex);
    if (!key_id || key_id->empty()) return InvalidArgument("--key-id must be hex");
    p.key.id = *key_id;
  }
  ASSIGN_OR_RETURN(crypto::SecureBytes pin, keycmd::ReadPin(o.pin_file));
  ASSIGN_OR_RETURN(auto s, keys::Pkcs11Signer::Open(p, pin));
  return std::unique_ptr<keys::Signer>(std::move(s));
}

}  // namespace ailee::cli
