#include "ops/drill/key_drill.h"

#include <algorithm>
#include <optional>

#include "base/fs.h"
#include "base/scratch.h"
#include "keys/backup.h"
#include "keys/secret_input.h"
#include "keys/signer.h"
#include "ops/drill/report.h"
#include "ops/drill/shred.h"

namespace ailee::ops {
nlohmann::ordered_json KeyDrillReportJson(const KeyDrillReport& r) {
  nlohmann::ordered_json j = DrillOutcomeJson(r, "keys");
  j["signer_id"] = r.signer_id;
  j["fingerprint"] = r.fingerprint;
  j["rto_ms"] = r.rto_ms;
  j["scratch"] = r.scratch;
  if (!r.token.empty()) {
    j["token"] = r.token;
    j["token_object"] = r.token_object;
    j["leftovers_removed"] = r.leftovers_removed;
  }
  return j;
}

namespace {

// The token part of the drill: the restored file imported under `label`,
// test-signer through the token, the objects destroyed on every way out
// once the import began.
bool RunOnToken(DrillSteps& run, keys::Pkcs11Token& token, const DrillTestToken& t, const std::string& key_file,
                const std::string& label, const crypto::PublicKey& federation_key) {
  bool imported = false;
  bool ok = run.Phase("import", [&] {
    imported = true;
    auto pem = keys::ReadSecretFile(key_file);
    auto key = pem.ok() ? crypto::PrivateKey::FromPem(*pem) : Result<crypto::PrivateKey>(pem.status());
    const Status st = key.ok() ? ImportDrillKey(token, *key, label) : key.status();
    return run.Check("import", st, "imported as a non-extractable key pair labelled '" + label + "' on " + token.description());
  });
  ok = ok && run.Phase("test-signer", [&] {
    auto signer = keys::Pkcs11Signer::Open({t.module, t.token_label, keys::Pkcs11KeyRef{label, ""}}, *t.pin);
    auto r = signer.ok() ? keys::TestSigner(**signer, federation_key) : Result<keys::SignerTestReport>(signer.status());
    return run.Check("test-signer", r.status(), "the token signed a fresh challenge with the imported key; the federation key verifies it");
  });
  if (!imported) return ok;
  run.Phase("destroy", [&] {
    return run.Check("destroy", DestroyDrillKey(token, label), "the imported objects destroyed (C_DestroyObject), none left");
  }, /*cancellable=*/false);
  return ok;
}

}  // namespace

Result<KeyDrillReport> RunKeyDrill(const KeyDrillOptions& o) {
  if (o.passphrase == nullptr || o.federation == nullptr) return InvalidArgument("key drill: no passphrase or federation");
  RETURN_IF_ERROR(keys::ValidateSignerId(o.signer_id));
  RETURN_IF_ERROR(keys::CheckLocalPath(o.backup, "--key-backup"));
  if (o.token) RETURN_IF_ERROR(CheckTestToken(*o.token));
  const auto fed = o.federation->find(o.signer_id);
  if (fed == o.federation->end())
    return NotFound("key drill: the federation has no public key for '" + o.signer_id +
                    "' (config federation section or --federation-key)");
  // One owner-tagged name for the scratch directory and the token objects.
  const std::string name = fs::ScratchName(kKeyDrillScratchPrefix);
  std::optional<OpenedTestToken> token;
  KeyDrillReport r;
  if (o.token) {
    ASSIGN_OR_RETURN(OpenedTestToken opened_token, OpenTestToken(*o.token, kKeyDrillScratchPrefix));
    token.emplace(std::move(opened_token));
    RETURN_IF_ERROR(CheckLabelFree(*token->token, name));
    r.token = token->token->description();
    r.token_object = name;
    r.leftovers_removed = token->removed;
  }
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_parent, 0700));
  ShredAbandoned(o.scratch_parent, kKeyDrillScratchPrefix);

  r.signer_id = o.signer_id;
  DrillSteps run("key drill", o.hooks, r);
  std::optional<keys::OpenedBackup> opened;
  bool ok = run.Phase("open", [&] {
    auto b = keys::OpenBackup(o.signer_id, o.backup, *o.passphrase, keys::FederationCheck{nullptr, false});
    if (!run.Check("backup-opens", b.status(), "decrypted and matches its metadata")) return false;
    opened.emplace(std::move(b).value());
    r.fingerprint = opened->key.public_key().FingerprintHex();
    const bool same = r.fingerprint == fed->second.FingerprintHex();
    return run.Check("federation-fingerprint",
                     same ? Status::Ok()
                          : DataLoss("the backup holds key " + r.fingerprint + ", but the federation's key for '" +
                                     o.signer_id + "' is " + fed->second.FingerprintHex()),
                     "the federation's key " + r.fingerprint);
  });
  ShreddedScratch scratch(fs::JoinPath(o.scratch_parent, name));
  r.scratch = scratch.path();
  const std::string key_file = fs::JoinPath(scratch.path(), o.signer_id + ".key");
  ok = ok && run.Phase("restore", [&] {
    Status made = fs::MakeDirs(scratch.path(), 0700);
    if (made.ok()) made = keys::RestoreToFile(*opened, key_file, keys::FileOwner{}).status();
    opened.reset();  // the key stays in memory no longer than needed
    return run.Check("restore", made, "written to a 0400 file in a 0700 scratch directory");
  });
  if (ok && token) {
    (void)RunOnToken(run, *token->token, *o.token, key_file, name, fed->second);
  } else {
    (void)(ok && run.Phase("test-signer", [&] {
      auto signer = keys::FileSigner::Open(key_file);
      auto t = signer.ok() ? keys::TestSigner(**signer, fed->second) : Result<keys::SignerTestReport>(signer.status());
      return run.Check("test-signer", t.status(), "the restored key signed a fresh challenge; the federation key verifies it");
    }));
  }
  run.Phase("shred", [&] { return run.Check("shred", scratch.Remove(), "key file overwritten and unlinked, scratch removed"); },
            /*cancellable=*/false);
  r.rto_ms = run.Finish({"open", "restore", "import", "test-signer"});
  return r;
}

}  // namespace ailee::ops
