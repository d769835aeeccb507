// ailee-cli test-signer: the runbook's "verify signer functionality". Signs
// a fresh random challenge with the signer key, from a PEM file or a PKCS#11
// token, and verifies the signature with the federation public key of that
// signer (config or --federation-key). Without --key or --pkcs11-module the
// config's signer section says where the key is.
#include "base/hex.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/key_env.h"
#include "config/config.h"
#include "keys/audit_sink.h"
#include "keys/identity.h"
#include "keys/secret_input.h"
#include "keys/signer.h"

namespace ailee::cli {

namespace {

struct TestSignerOpts {
  std::string id, key, module, token_label, key_label, key_id_hex, pin_file, audit_log;
  std::vector<std::string> federation;
};

Result<std::unique_ptr<keys::Signer>> OpenSigner(TestSignerOpts o, const keycmd::KeyEnv& env) {
  if (o.key.empty() && o.module.empty() && env.config && env.config->signer &&
      env.config->signer->id == o.id) {
    const auto& s = *env.config->signer;
    if (s.pkcs11) {
      o.module = s.pkcs11->module;
      o.token_label = s.pkcs11->token_label;
      o.key_label = s.pkcs11->key_label;
      if (o.pin_file.empty()) o.pin_file = s.pkcs11->pin_file;
    } else {
      o.key = s.key_file;
    }
  }
  if (!o.key.empty() && !o.module.empty()) return InvalidArgument("give --key or --pkcs11-module, not both");
  if (!o.key.empty()) {
    ASSIGN_OR_RETURN(auto s, keys::FileSigner::Open(o.key));
    return std::unique_ptr<keys::Signer>(std::move(s));
  }
  if (o.module.empty())
    return InvalidArgument("no signer key for '" + o.id + "': pass --key FILE or --pkcs11-module/--token-label/--key-label, "
                           "or configure the signer section");
  if (o.token_label.empty() || o.key_label.empty())
    return InvalidArgument("--pkcs11-module needs --token-label and --key-label");
  keys::Pkcs11SignerOptions p{o.module, o.token_label, {o.key_label, ""}};
  if (!o.key_id_hex.empty()) {
    auto id = HexDecode(o.key_id_hex);
    if (!id || id->empty()) return InvalidArgument("--key-id must be hex");
    p.key.id = *id;
  }
  ASSIGN_OR_RETURN(crypto::SecureBytes pin, keycmd::ReadPin(o.pin_file));
  ASSIGN_OR_RETURN(auto s, keys::Pkcs11Signer::Open(p, pin));
  return std::unique_ptr<keys::Signer>(std::move(s));
}

// Signs a fresh challenge with the signer and verifies it with the
// federation key; `fp` and `details` say what it used (for the audit line).
Result<keys::SignerTestReport> TestSigner(const TestSignerOpts& o, const keycmd::KeyEnv& env, std::string& fp,
                                          nlohmann::json& details) {
  ASSIGN_OR_RETURN(auto signer, OpenSigner(o, env));
  details["signer"] = signer->Describe();
  fp = signer->public_key().FingerprintHex();
  auto it = env.federation.find(o.id);
  if (it == env.federation.end())
    return NotFound("no federation public key for '" + o.id + "' (config federation section or --federation-key " +
                    o.id + "=PUBKEY.pem)");
  return keys::TestSigner(*signer, it->second);
}

}  // namespace

void SetUpTestSignerCommand(CLI::App& parent, Session& s) {
  auto o = std::make_shared<TestSignerOpts>();
  CLI::App* c = parent.add_subcommand("test-signer", "sign a fresh challenge and verify it with the federation key");
  c->add_option("--id", o->id, "signer id (default: the config's signer.id)");
  c->add_option("--key", o->key, "PEM private key file");
  c->add_option("--pkcs11-module", o->module, "PKCS#11 module path");
  c->add_option("--token-label", o->token_label, "token label");
  c->add_option("--key-label", o->key_label, "CKA_LABEL of the key");
  c->add_option("--key-id", o->key_id_hex, "CKA_ID of the key, hex");
  c->add_option("--pin-file", o->pin_file, "file holding the user PIN (or AILEE_PKCS11_PIN)");
  keycmd::AddCommonOptions(c, &o->federation, &o->audit_log);
  c->callback([o, &s] {
    auto env = keycmd::OpenKeyEnv(s, o->federation, o->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    if (o->id.empty() && env->config && env->config->signer) o->id = env->config->signer->id;
    if (o->id.empty()) return EndCommand(s, InvalidArgument("--id is required (no signer section in the config)"));
    std::string fp;
    nlohmann::json details = nlohmann::json::object();
    auto r = TestSigner(*o, *env, fp, details);
    EndCommand(
        s, r, keycmd::AuditRecordOf(*env, "key.test-signer", o->id, fp, details),
        [&](const keys::SignerTestReport& t) {
          return nlohmann::json{{"ok", true}, {"signer_id", o->id}, {"signer", t.signer}, {"fingerprint", t.fingerprint},
                                {"challenge", t.challenge_hex}, {"signature", t.signature_hex}};
        },
        [&](const keys::SignerTestReport& t) {
          return "signer " + o->id + " OK: " + t.signer + " signed a fresh challenge; the federation key " +
                 t.fingerprint + " verifies it";
        });
  });
}

}  // namespace ailee::cli
