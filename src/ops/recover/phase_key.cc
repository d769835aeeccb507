// Phase 2 of recover-node: the signer key and its signing fence, then
// test-signer against the signer's key in the federation in force at the
// network's tip (ops/federation/in_force.h: a signer a later epoch added
// recovers like a genesis one; one that left is refused before anything is
// written). A key file comes back from a key
// backup (as `keys restore --to-file`); a PKCS#11 key that is not on its
// token is imported from the backup (as `keys restore --to-pkcs11`), and a
// key already there is kept once its fingerprint is the federation's. The
// backup's passphrase comes from share files or a secret source
// (keys/backup_passphrase.h), the token's PIN from the config's
// signer.pkcs11.pin_file or AILEE_PKCS11_PIN: never from argv.
#include "base/fs.h"
#include "base/hint.h"
#include "keys/backup.h"
#include "keys/backup_passphrase.h"
#include "keys/pkcs11.h"
#include "keys/signer.h"
#include "keys/signing_fence.h"
#include "ops/recover/phases.h"

namespace ailee::ops::recover {

namespace {

std::string BackupSource(const Context& c) {
  return c.options.key_backup.empty() ? std::string("none given (--key-backup)") : c.options.key_backup;
}

std::string PassphraseSource(const Context& c) {
  const auto& shares = c.options.key_passphrase.share_files;
  return shares.empty() ? "its passphrase" : "its passphrase recombined from " + std::to_string(shares.size()) + " share file(s)";
}

// The signer's live key and what vouched for it; a retired signer stops the phase here.
Result<federation::CheckedKey> LiveKeyOf(Context& c, const std::string& signer_id) {
  ASSIGN_OR_RETURN(const federation::FederationInForce* fed, c.InForce());
  return fed->LiveKey(signer_id);
}

// Decrypts the key backup in memory, checked against the federation key
// before anything is written or imported.
Result<keys::OpenedBackup> OpenKeyBackup(const Context& c, const std::string& signer_id, const std::string& missing,
                                         const federation::CheckedKey& live) {
  if (c.options.key_backup.empty())
    return WithHint(FailedPrecondition(missing),
                    "pass --key-backup DIR (a `keys backup --out` directory) and its passphrase "
                    "(--key-passphrase-file, AILEE_KEY_PASSPHRASE, or --key-shares FILE... with its share files)");
  RETURN_IF_ERROR(keys::CheckLocalPath(c.options.key_backup, "--key-backup"));
  ASSIGN_OR_RETURN(crypto::SecureBytes pass,
                   keys::ReadBackupPassphrase(c.options.key_passphrase, signer_id, c.options.key_backup));
  const keys::FederationKeys fed = {{signer_id, live.key}};
  auto opened = keys::OpenBackup(signer_id, c.options.key_backup, pass, keys::FederationCheck{&fed, true});
  if (!opened.ok()) return keys::ExplainShareFailure(opened.status(), c.options.key_passphrase);
  return opened;
}

// The token's user PIN, read once per run (the environment variable is
// unset once read): the plan may read it without a terminal, the run with one.
Result<crypto::SecureBytes> TokenPin(Context& c, const config::Pkcs11KeyRef& p, bool allow_tty) {
  if (c.pkcs11_pin) return *c.pkcs11_pin;
  keys::SecretSource src;
  src.file = p.pin_file;
  src.env = keys::kPinEnv;
  src.allow_tty = allow_tty;
  src.prompt = "PKCS#11 user PIN: ";
  ASSIGN_OR_RETURN(c.pkcs11_pin, keys::ReadSecret(src));
  return *c.pkcs11_pin;
}

std::string TokenDescription(const config::Pkcs11KeyRef& p) {
  return "key '" + p.key_label + "' on token '" + p.token_label + "'";
}

// The token's key under the config's label: its public key, nullopt when
// the token has none. A key whose fingerprint is not the federation's is
// refused: it is never trusted, used or replaced.
Result<std::optional<crypto::PublicKey>> KeyOnToken(keys::Pkcs11Token& token, const config::Pkcs11KeyRef& p,
                                                    const crypto::PublicKey& federation_key,
                                                    const std::string& signer_id) {
  auto pub = token.PublicKey(keys::Pkcs11KeyRef{p.key_label, ""});
  if (pub.status().code() == StatusCode::kNotFound) return std::optional<crypto::PublicKey>();
  RETURN_IF_ERROR(pub.status());
  if (pub->FingerprintHex() != federation_key.FingerprintHex())
    return WithHint(DataLoss("the " + TokenDescription(p) + " has fingerprint " + pub->FingerprintHex() +
                             ", not federation signer " + signer_id + "'s " + federation_key.FingerprintHex()),
                    "the token holds another key under this label: point signer.pkcs11.key_label at the right key, "
                    "or remove the wrong objects from the token; recover-node never replaces a key on a token");
  return std::optional<crypto::PublicKey>(std::move(pub).value());
}

Status TestAgainstFederation(keys::Signer& signer, const federation::CheckedKey& live, PhaseOutcome& out) {
  ASSIGN_OR_RETURN(keys::SignerTestReport t, keys::TestSigner(signer, live.key));
  out.detail["signer_key"] = t.signer;
  out.detail["fingerprint"] = t.fingerprint;
  out.detail["test_signer"] = "ok";
  out.detail["federation_epoch"] = live.epoch;
  out.detail["checked_against"] = live.against;
  return Status::Ok();
}

Result<PhaseOutcome> RunFileKey(Context& c, const config::SignerSection& signer, const federation::CheckedKey& live) {
  PhaseOutcome out;
  if (fs::Exists(signer.key_file)) {
    out.outcome = "kept";
  } else {
    ASSIGN_OR_RETURN(keys::OpenedBackup opened,
                     OpenKeyBackup(c, signer.id, "the signer key " + signer.key_file + " of " + signer.id + " is missing", live));
    ASSIGN_OR_RETURN(keys::RestoreResult r, keys::RestoreToFile(opened, signer.key_file, keys::FileOwner{}));
    ASSIGN_OR_RETURN(auto fence, keys::RestoreFenceFromBackup(signer.id, c.options.key_backup, signer.key_file));
    out.outcome = r.outcome == keys::RestoreOutcome::kWritten ? "restored" : "already present";
    out.detail["backup"] = opened.path;
    if (fence) out.detail["fence_height"] = *fence;
  }
  ASSIGN_OR_RETURN(auto file_signer, keys::FileSigner::Open(signer.key_file));
  RETURN_IF_ERROR(TestAgainstFederation(*file_signer, live, out));
  return out;
}

Result<PhaseOutcome> RunPkcs11Key(Context& c, const config::SignerSection& signer, const federation::CheckedKey& live) {
  const config::Pkcs11KeyRef& p = *signer.pkcs11;
  const keys::Pkcs11KeyRef ref{p.key_label, ""};
  ASSIGN_OR_RETURN(crypto::SecureBytes pin, TokenPin(c, p, true));
  PhaseOutcome out;
  out.detail["token"] = p.token_label;
  out.detail["key_label"] = p.key_label;
  {
    ASSIGN_OR_RETURN(auto token, keys::Pkcs11Token::Open(p.module, p.token_label, pin));
    ASSIGN_OR_RETURN(auto present, KeyOnToken(*token, p, live.key, signer.id));
    if (present) {
      out.outcome = "kept";
    } else {
      ASSIGN_OR_RETURN(keys::OpenedBackup opened,
                       OpenKeyBackup(c, signer.id, "signer " + signer.id + ": the " + TokenDescription(p) + " is missing", live));
      c.Progress("key", "importing " + signer.id + " into token '" + p.token_label + "'");
      ASSIGN_OR_RETURN(keys::ImportOutcome r, token->ImportKeyPair(opened.key, ref));
      out.outcome = r == keys::ImportOutcome::kImported ? "imported" : "already present";
      out.detail["backup"] = opened.path;
    }
  }
  // The fence sits with the config, which a lost host lost too; a kept token
  // key gets its backed-up fence back as well (a fence is never lowered).
  if (!c.options.key_backup.empty()) {
    RETURN_IF_ERROR(keys::CheckLocalPath(c.options.key_backup, "--key-backup"));
    const std::string fence_path = keys::FencePathForPkcs11(c.config->config_dir, p.token_label, p.key_label, p.fence_file);
    ASSIGN_OR_RETURN(auto fence, keys::RestoreFenceFromBackupTo(signer.id, c.options.key_backup, fence_path));
    if (fence) out.detail["fence_height"] = *fence;
  }
  ASSIGN_OR_RETURN(auto token_signer, keys::Pkcs11Signer::Open(keys::Pkcs11SignerOptions{p.module, p.token_label, ref}, pin));
  RETURN_IF_ERROR(TestAgainstFederation(*token_signer, live, out));
  return out;
}

// The PKCS#11 plan looks at the token when the PIN is at hand without a
// terminal (the config's pin file, AILEE_PKCS11_PIN); else it says what the
// run will check.
std::string PlanPkcs11(Context& c, const config::SignerSection& signer, RecoverStep& s) {
  const config::Pkcs11KeyRef& p = *signer.pkcs11;
  const std::string import = "import " + signer.id + " from the key backup (" + PassphraseSource(c) +
                             ", checked against the federation fingerprint) into token '" + p.token_label +
                             "' as '" + p.key_label + "' with its signing fence; test-signer through PKCS#11";
  auto present = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(federation::CheckedKey live, LiveKeyOf(c, signer.id));
    ASSIGN_OR_RETURN(crypto::SecureBytes pin, TokenPin(c, p, false));
    ASSIGN_OR_RETURN(auto token, keys::Pkcs11Token::Open(p.module, p.token_label, pin));
    ASSIGN_OR_RETURN(auto key, KeyOnToken(*token, p, live.key, signer.id));
    return key.has_value();
  }();
  if (present.ok() && *present)
    return "keep the " + TokenDescription(p) + " (the federation's fingerprint)" +
           (c.options.key_backup.empty() ? "" : ", its signing fence raised from the key backup") +
           "; test-signer through PKCS#11";
  if (present.status().code() == StatusCode::kDataLoss)  // another key under the label
    return "refused: " + std::string(MessageWithoutHint(present.status()));
  s.source = BackupSource(c);
  if (present.ok()) return import;
  return import + " unless the token holds it (not looked at now: " + std::string(MessageWithoutHint(present.status())) + ")";
}

}  // namespace

RecoverStep PlanKey(Context& c) {
  RecoverStep s{"key", "", "", 0, 1000, "", c.journal.Finished("key")};
  if (!c.config) {
    s.action = "the signer named by the restored config: a key file kept when it exists, a PKCS#11 key kept when its "
               "token holds it, else restored (or imported into the token) from " +
               (c.options.key_backup.empty() ? std::string("--key-backup (required then)") : c.options.key_backup) +
               "; then test-signer";
    return s;
  }
  if (!c.config->signer) {
    s.action = "none: node " + c.options.node_id + " has no signer (a follower)";
    s.expected_ms = 0;
    return s;
  }
  const auto& signer = *c.config->signer;
  if (auto live = LiveKeyOf(c, signer.id); !live.ok()) {
    s.action = "refused: " + std::string(MessageWithoutHint(live.status()));
  } else if (signer.pkcs11) {
    s.action = PlanPkcs11(c, signer, s);
  } else if (fs::Exists(signer.key_file)) {
    s.action = "keep " + signer.key_file + " and its signing fence; test-signer " + signer.id;
  } else {
    s.action = "restore " + signer.id + " to " + signer.key_file + " (mode 0400, " + PassphraseSource(c) +
               ") with its signing fence; test-signer";
    s.source = BackupSource(c);
  }
  return s;
}

Result<PhaseOutcome> RunKey(Context& c) {
  const config::NodeConfig& cfg = *c.config;
  if (!cfg.signer) return PhaseOutcome{"no signer", nlohmann::json::object(), false};
  const auto& signer = *cfg.signer;
  ASSIGN_OR_RETURN(federation::CheckedKey live, LiveKeyOf(c, signer.id));
  c.Progress("key", signer.id + " is checked against federation " + live.against);
  ASSIGN_OR_RETURN(PhaseOutcome out, signer.pkcs11 ? RunPkcs11Key(c, signer, live) : RunFileKey(c, signer, live));
  out.detail["signer"] = signer.id;
  return out;
}

}  // namespace ailee::ops::recover
