#include "ops/drill/key_drill.h"

#include <algorithm>
#include <optional>

#include "base/fs.h"
#include "base/scratch.h"
#include "keys/backup.h"
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
  return j;
}

Result<KeyDrillReport> RunKeyDrill(const KeyDrillOptions& o) {
  if (o.passphrase == nullptr || o.federation == nullptr) return InvalidArgument("key drill: no passphrase or federation");
  RETURN_IF_ERROR(keys::ValidateSignerId(o.signer_id));
  RETURN_IF_ERROR(keys::CheckLocalPath(o.backup, "--key-backup"));
  const auto fed = o.federation->find(o.signer_id);
  if (fed == o.federation->end())
    return NotFound("key drill: the federation has no public key for '" + o.signer_id +
                    "' (config federation section or --federation-key)");
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_parent, 0700));
  ShredAbandoned(o.scratch_parent, kKeyDrillScratchPrefix);

  KeyDrillReport r;
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
  ShreddedScratch scratch(fs::JoinPath(o.scratch_parent, fs::ScratchName(kKeyDrillScratchPrefix)));
  r.scratch = scratch.path();
  const std::string key_file = fs::JoinPath(scratch.path(), o.signer_id + ".key");
  ok = ok && run.Phase("restore", [&] {
    Status made = fs::MakeDirs(scratch.path(), 0700);
    if (made.ok()) made = keys::RestoreToFile(*opened, key_file, keys::FileOwner{}).status();
    opened.reset();  // the key stays in memory no longer than needed
    return run.Check("restore", made, "written to a 0400 file in a 0700 scratch directory");
  });
  (void)(ok && run.Phase("test-signer", [&] {
    auto signer = keys::FileSigner::Open(key_file);
    auto t = signer.ok() ? keys::TestSigner(**signer, fed->second) : Result<keys::SignerTestReport>(signer.status());
    return run.Check("test-signer", t.status(), "the restored key signed a fresh challenge; the federation key verifies it");
  }));
  run.Phase("shred", [&] { return run.Check("shred", scratch.Remove(), "key file overwritten and unlinked, scratch removed"); },
            /*cancellable=*/false);
  r.rto_ms = run.Finish({"open", "restore", "test-signer"});
  return r;
}

}  // namespace ailee::ops
