// ailee-cli test-signer: the runbook's "verify signer functionality". Signs
// a fresh random challenge with the signer key, from a PEM file or a PKCS#11
// token, and verifies the signature with that signer's key in the federation
// in force (ops/federation/in_force.h; or --federation-key). A signer that
// left the federation is refused. Without --key or --pkcs11-module the
// config's signer section says where the key is.
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/key_env.h"
#include "cli/signer_flags.h"
#include "config/config.h"
#include "keys/audit_sink.h"
#include "keys/identity.h"
#include "keys/signer.h"

namespace ailee::cli {

namespace {

struct TestSignerOpts {
  std::string id, audit_log;
  SignerFlags key;
  std::vector<std::string> federation;
};

// Signs a fresh challenge with the signer and verifies it with the
// federation key; `fp` and `details` say what it used (for the audit line).
Result<keys::SignerTestReport> TestSigner(const TestSignerOpts& o, const keycmd::KeyEnv& env, std::string& fp,
                                          nlohmann::json& details, std::string& against) {
  ASSIGN_OR_RETURN(auto signer, OpenSigner(o.key, o.id, env.config ? &*env.config : nullptr));
  details["signer"] = signer->Describe();
  fp = signer->public_key().FingerprintHex();
  ASSIGN_OR_RETURN(ops::federation::CheckedKey live, env.in_force->LiveKey(o.id));
  against = live.against;
  details["checked_against"] = against;
  return keys::TestSigner(*signer, live.key);
}

}  // namespace

void SetUpTestSignerCommand(CLI::App& parent, Session& s) {
  auto o = std::make_shared<TestSignerOpts>();
  CLI::App* c = parent.add_subcommand("test-signer", "sign a fresh challenge and verify it with the federation key");
  c->add_option("--id", o->id, "signer id (default: the config's signer.id)");
  AddSignerFlags(c, &o->key, "--key");
  keycmd::AddCommonOptions(c, &o->federation, &o->audit_log);
  c->callback([o, &s] {
    auto env = keycmd::OpenKeyEnv(s, o->federation, o->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    if (o->id.empty() && env->config && env->config->signer) o->id = env->config->signer->id;
    if (o->id.empty()) return EndCommand(s, InvalidArgument("--id is required (no signer section in the config)"));
    std::string fp, against;
    nlohmann::json details = nlohmann::json::object();
    auto r = TestSigner(*o, *env, fp, details, against);
    EndCommand(
        s, r, keycmd::AuditRecordOf(*env, "key.test-signer", o->id, fp, details),
        [&](const keys::SignerTestReport& t) {
          return nlohmann::json{{"ok", true}, {"signer_id", o->id}, {"signer", t.signer}, {"fingerprint", t.fingerprint},
                                {"challenge", t.challenge_hex}, {"signature", t.signature_hex},
                                {"checked_against", against}};
        },
        [&](const keys::SignerTestReport& t) {
          return "signer " + o->id + " OK: " + t.signer + " signed a fresh challenge; the key " + t.fingerprint +
                 " of federation " + against + " verifies it";
        });
  });
}

}  // namespace ailee::cli
