// ailee-cli keys backup|verify|restore: federation signer keys, encrypted
// with OpenPGP (stock gpg reads the backups), optionally with the passphrase
// split into gfsplit-compatible shares, restored to a 0400 file or into a
// PKCS#11 token. Backups live in local directories; a URL is refused.
// Formats and manual recovery: docs/keys.md.
//
// Secrets never come from argv: passphrases from --passphrase-file,
// AILEE_KEY_PASSPHRASE or the terminal; PINs from --pin-file,
// AILEE_PKCS11_PIN or the terminal. Every operation is appended to the audit
// log (--audit-log, else the config's logging.audit_log); a key operation
// that cannot be audited does not run.
#include <sys/stat.h>

#include <memory>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/hex.h"
#include "base/hint.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/key_env.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "keys/audit_sink.h"
#include "keys/backup.h"
#include "keys/backup_passphrase.h"
#include "keys/pkcs11.h"
#include "keys/secret_input.h"
#include "keys/signing_fence.h"
#include "ops/federation/in_force.h"
#include "ops/metrics/job_samples.h"

namespace ailee::cli {

// Declared in key_env.h (test-signer uses them too).
namespace keycmd {

// The one place the federation's public keys come from: the federation in
// force (ops/federation/in_force.h: the node config's genesis, proven later
// epochs from its data dir or its nodes; if --config was given it must load,
// the default path is used when present) with --federation-key
// ID=PUBKEY.pem options taken as the operator's word.
Result<ops::federation::FederationInForce> FederationFor(Session& s, const std::vector<std::string>& overrides,
                                                         std::optional<config::NodeConfig>* config_out) {
  keys::FederationKeys given;
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("--federation-key wants ID=PUBKEY.pem, got '" + o + "'");
    std::string id = o.substr(0, eq);
    ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(o.substr(eq + 1)));
    auto pub = crypto::PublicKey::FromPem(pem);
    if (!pub.ok()) return pub.status().WithContext("--federation-key " + o);
    given.insert_or_assign(id, std::move(pub).value());
  }
  const GlobalOptions& g = s.global();
  if (g.config_given || fs::Exists(g.config_path)) {
    auto cfg = s.RequireConfig();
    if (!cfg.ok()) {
      if (g.config_given) return cfg.status();
    } else {
      *config_out = **cfg;
      ASSIGN_OR_RETURN(ops::federation::InForceOptions in_force, ops::federation::InForceOptionsOf(**cfg));
      in_force.overrides = std::move(given);
      return ops::federation::ResolveFederationInForce(in_force);
    }
  }
  return ops::federation::FederationInForce(state::FederationHistory(state::Federation{}), "no node config", {},
                                            std::move(given));
}

class AuditLogKeySink final : public keys::KeyAuditSink {
 public:
  explicit AuditLogKeySink(audit::AuditLog* log) : log_(log) {}
  Status Record(std::string_view operation, std::string_view signer_id, std::string_view fingerprint,
                const Status& result, const nlohmann::json& details, int64_t duration_ms) override {
    audit::AuditEvent ev;
    ev.operation = std::string(operation);
    ev.duration_ms = duration_ms;
    ev.args = details;
    ev.args["signer_id"] = std::string(signer_id);
    if (!fingerprint.empty()) ev.args["fingerprint"] = std::string(fingerprint);
    ev.result = audit::ResultName(result);
    ev.message = result.message();
    if (!fingerprint.empty()) ev.touched.push_back(std::string(fingerprint));
    auto head = log_->Append(ev);
    return head.ok() ? Status::Ok() : head.status().WithContext("appending to audit log " + log_->path());
  }

 private:
  audit::AuditLog* log_;  // the session's
};

Result<KeyEnv> OpenKeyEnv(Session& s, const std::vector<std::string>& federation_overrides,
                          const std::string& audit_path_option) {
  crypto::DisableCoreDumps();
  KeyEnv env;
  env.start_nanos = Clock::Real().MonotonicNanos();
  ASSIGN_OR_RETURN(env.in_force, FederationFor(s, federation_overrides, &env.config));
  env.federation = env.in_force->KnownKeys();
  auto log = s.audit_log(audit_path_option);
  if (!log.ok()) return log.status().WithContext("key operations must be audited");
  env.audit = std::make_unique<AuditLogKeySink>(*log);
  return env;
}

Status Audit(KeyEnv& env, std::string_view op, const std::string& id, const std::string& fp, const Status& st,
             const nlohmann::json& details) {
  int64_t duration_ms = (Clock::Real().MonotonicNanos() - env.start_nanos) / 1000000;
  Status a = env.audit->Record(op, id, fp, st, details, duration_ms);
  return st.ok() ? a : st;
}

std::function<Status(const Status&)> AuditRecordOf(KeyEnv& env, std::string_view op, const std::string& id,
                                                   const std::string& fp, const nlohmann::json& details) {
  return [&env, op = std::string(op), id, fp, details](const Status& outcome) {
    return Audit(env, op, id, fp, outcome, details);
  };
}

void AddCommonOptions(CLI::App* c, std::vector<std::string>* fed, std::string* audit_log) {
  c->add_option("--federation-key", *fed, "federation public key ID=PUBKEY.pem (repeatable; overrides the config)");
  c->add_option("--audit-log", *audit_log, "audit log file (default: the config's logging.audit_log)")
      ->envname("AILEE_AUDIT_LOG");
}

Result<crypto::SecureBytes> ReadPin(const std::string& pin_file) {
  keys::SecretSource src;
  src.file = pin_file;
  src.env = keys::kPinEnv;
  src.prompt = "PKCS#11 user PIN: ";
  return keys::ReadSecret(src);
}

void AddPassphraseOptions(CLI::App* c, PassphraseOpts* p) {
  c->add_option("--passphrase-file", p->passphrase_file,
                "file or pipe holding the backup passphrase on one line (or AILEE_KEY_PASSPHRASE)");
  c->add_option("--shares", p->shares, "share files <id>.share.NNN that recombine the passphrase");
}

// The one rule keys::ReadBackupPassphrase keeps (recover-node reads it too).
keys::BackupPassphraseSource PassphraseSourceOf(const PassphraseOpts& p, const std::string& id) {
  keys::BackupPassphraseSource src;
  src.share_files = p.shares;
  src.secret.file = p.passphrase_file;
  src.secret.env = keys::kPassphraseEnv;
  src.secret.prompt = "Backup passphrase for " + id + ": ";
  return src;
}

Result<crypto::SecureBytes> BackupPassphrase(const PassphraseOpts& p, const std::string& id, const std::string& backup) {
  return keys::ReadBackupPassphrase(PassphraseSourceOf(p, id), id, backup);
}

// The passphrase of a new backup: with shares and no explicit source, a
// random one that only the shares hold; else the file, environment or a
// prompt asked twice.
Result<crypto::SecureBytes> NewBackupPassphrase(const std::string& passphrase_file, const std::string& id, bool shares,
                                                nlohmann::json& details) {
  bool explicit_source = !passphrase_file.empty() || std::getenv(keys::kPassphraseEnv);
  if (shares && !explicit_source) {
    details["passphrase"] = "generated, held only by the shares";
    return keys::GeneratePassphrase();
  }
  keys::SecretSource src;
  src.file = passphrase_file;
  src.env = keys::kPassphraseEnv;
  src.prompt = "Backup passphrase for " + id + ": ";
  src.confirm = true;
  return keys::ReadSecret(src);
}

std::string Pkcs11FencePath(Session& s, const KeyEnv& env, const std::string& token_label, const std::string& key_label) {
  const std::string dir = env.config ? env.config->config_dir : fs::Dirname(s.global().config_path);
  std::string configured;
  if (env.config && env.config->signer && env.config->signer->pkcs11) {
    const auto& p = *env.config->signer->pkcs11;
    if (p.token_label == token_label && p.key_label == key_label) configured = p.fence_file;
  }
  return keys::FencePathForPkcs11(dir, token_label, key_label, configured);
}

Status SharesHint(const Status& st, const PassphraseOpts& p) {
  return keys::ExplainShareFailure(st, keys::BackupPassphraseSource{p.shares, {}});
}

}  // namespace keycmd

namespace {

using keycmd::KeyEnv;
using keycmd::PassphraseOpts;
using keycmd::AddPassphraseOptions;
using keycmd::BackupPassphrase;
using keycmd::SharesHint;

std::string Age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400 * 2) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

// --------------------------------------------------------------- backup
struct BackupOpts {
  std::string id, key, shares, shares_out, passphrase_file, audit_log;
  std::vector<std::string> out, federation;
};

Result<keys::BackupResult> BackUpKey(const BackupOpts& o, const KeyEnv& env, nlohmann::json& details) {
  keys::BackupRequest req;
  req.signer_id = o.id;
  req.key_path = o.key;
  req.out_dirs = o.out;
  req.shares_dir = o.shares_out;
  req.federation = &env.federation;
  // Before any passphrase prompt: a URL is refused (keys::CheckLocalPath).
  for (const auto& dir : o.out) RETURN_IF_ERROR(keys::CheckLocalPath(dir, "--out"));
  if (!o.shares_out.empty()) RETURN_IF_ERROR(keys::CheckLocalPath(o.shares_out, "--shares-out"));
  if (!o.shares.empty()) {
    ASSIGN_OR_RETURN(req.shares, keys::ParseShareSpec(o.shares));
    details["shares"] = o.shares;
    details["shares_out"] = o.shares_out;
  }
  ASSIGN_OR_RETURN(crypto::SecureBytes passphrase,
                   keycmd::NewBackupPassphrase(o.passphrase_file, o.id, req.shares.has_value(), details));
  return keys::BackupKey(req, passphrase);
}

nlohmann::json BackupJson(const BackupOpts& o, const keys::BackupResult& r) {
  return {{"ok", true}, {"signer_id", o.id}, {"fingerprint", r.identity.fingerprint},
          {"key_type", std::string(crypto::KeyTypeName(r.identity.type))},
          {"backups", r.backup_files}, {"metadata", r.metadata_files}, {"shares", r.share_files}};
}

std::string BackupText(const BackupOpts& o, const keys::BackupResult& r) {
  std::vector<std::string> lines = {"backed up " + o.id + " (" + std::string(crypto::KeyTypeName(r.identity.type)) +
                                    ", fingerprint " + r.identity.fingerprint + "), each copy read back and checked:"};
  for (const auto& b : r.backup_files) lines.push_back("  " + b);
  if (!r.share_files.empty()) {
    lines.push_back("passphrase split " + o.shares + " into share files (give each to a different holder):");
    for (const auto& sh : r.share_files) lines.push_back("  " + sh);
  }
  return Lines(lines);
}

// --------------------------------------------------------------- verify
struct VerifyOpts {
  std::string id, audit_log;
  std::vector<std::string> backups, federation;
  PassphraseOpts pass;
  bool no_federation = false;
};

Result<keys::VerifyReport> VerifyKeyBackups(const VerifyOpts& o, const KeyEnv& env) {
  for (const auto& b : o.backups) RETURN_IF_ERROR(keys::CheckLocalPath(b, "backup"));
  ASSIGN_OR_RETURN(crypto::SecureBytes pass, BackupPassphrase(o.pass, o.id, o.backups.front()));
  keys::VerifyReport rep =
      keys::VerifyBackups(o.id, o.backups, pass, keys::FederationCheck{&env.federation, !o.no_federation});
  for (auto& c : rep.copies) c.status = SharesHint(c.status, o.pass);
  rep.overall = SharesHint(rep.overall, o.pass);
  return rep;
}

std::string FirstFingerprint(const keys::VerifyReport& rep) {
  for (const auto& c : rep.copies)
    if (!c.fingerprint.empty()) return c.fingerprint;
  return "";
}

nlohmann::json CopiesJson(const keys::VerifyReport& rep, int64_t now) {
  nlohmann::json copies = nlohmann::json::array();
  for (const auto& c : rep.copies) {
    copies.push_back({{"path", c.path}, {"ok", c.status.ok()},
                      {"status", c.status.ok() ? "ok" : std::string(StatusCodeName(c.status.code()))},
                      {"message", c.status.message()}, {"fingerprint", c.fingerprint}, {"key_type", c.key_type},
                      {"federation", c.federation}, {"created", c.created_unix ? FormatUtc(c.created_unix) : ""},
                      {"age_seconds", c.created_unix ? now - c.created_unix : -1},
                      {"file_mtime", c.mtime_unix ? FormatUtc(c.mtime_unix) : ""},
                      {"file_age_seconds", c.mtime_unix ? now - c.mtime_unix : -1}, {"retired", c.retired}});
  }
  return copies;
}

std::string CopiesText(const keys::VerifyReport& rep, int64_t now) {
  std::vector<std::string> lines;
  for (const auto& c : rep.copies) {
    std::string line = (c.status.ok() ? "OK      " : "FAILED  ") + c.path;
    if (c.created_unix) line += "  created " + FormatUtc(c.created_unix) + " (" + Age(now - c.created_unix) + " ago)";
    if (c.mtime_unix) line += ", file age " + Age(now - c.mtime_unix);
    if (c.status.ok()) line += ", fingerprint " + c.fingerprint + ", federation " + c.federation;
    else line += "\n        " + c.status.message();
    if (!c.retired.empty()) line += "\n        RETIRED key (kept to verify history, never signs again): " + c.retired;
    lines.push_back(line);
  }
  return Lines(lines);
}

// Keeps the code of the first failure: it says what kind of problem it is.
Status VerdictOf(const keys::VerifyReport& rep, const std::string& id) {
  if (rep.overall.ok()) return Status::Ok();
  int bad = 0;
  for (const auto& c : rep.copies) bad += c.status.ok() ? 0 : 1;
  return Status(rep.overall.code(), std::to_string(bad) + " of " + std::to_string(rep.copies.size()) +
                                        " backup copies of " + id + " failed verification; first: " +
                                        rep.overall.message());
}

// --------------------------------------------------------------- restore
struct RestoreOpts {
  std::string id, from, to_file, owner, audit_log;
  bool to_pkcs11 = false, no_federation = false;
  std::string module, token_label, key_label, key_id_hex, pin_file;
  std::vector<std::string> federation;
  PassphraseOpts pass;
};

// What a restore did, also when it failed part way (for the audit line).
struct KeyRestore {
  std::string fingerprint;  // once the backup opened
  std::string outcome;      // "written", "imported", "already present", ...
  nlohmann::json details;
};

Status RestoreKey(Session& s, const RestoreOpts& o, const KeyEnv& env, KeyRestore& out) {
  RETURN_IF_ERROR(keys::ValidateSignerId(o.id));
  if (o.to_file.empty() == !o.to_pkcs11) return InvalidArgument("give exactly one of --to-file PATH or --to-pkcs11");
  keys::FileOwner owner;
  if (!o.owner.empty()) {
    ASSIGN_OR_RETURN(owner, keys::ParseOwner(o.owner));
  }
  keys::Pkcs11KeyRef ref;
  if (o.to_pkcs11) {
    if (o.module.empty() || o.token_label.empty() || o.key_label.empty())
      return InvalidArgument("--to-pkcs11 needs --pkcs11-module, --token-label and --key-label");
    ref.label = o.key_label;
    if (!o.key_id_hex.empty()) {
      auto id = HexDecode(o.key_id_hex);
      if (!id || id->empty()) return InvalidArgument("--key-id must be hex, got '" + o.key_id_hex + "'");
      ref.id = *id;
    }
    out.details["pkcs11"] = {{"module", o.module}, {"token", o.token_label}, {"label", o.key_label}, {"id", o.key_id_hex}};
  } else {
    out.details["to_file"] = o.to_file;
  }
  RETURN_IF_ERROR(keys::CheckLocalPath(o.from, "--from"));
  ASSIGN_OR_RETURN(crypto::SecureBytes pass, BackupPassphrase(o.pass, o.id, o.from));
  auto opened = keys::OpenBackup(o.id, o.from, pass, keys::FederationCheck{&env.federation, !o.no_federation});
  if (!opened.ok()) return SharesHint(opened.status(), o.pass);
  out.fingerprint = opened->metadata.identity.fingerprint;
  out.details["federation"] = opened->federation;
  out.details["checked_against"] = env.in_force->Describe();
  if (o.to_pkcs11) {
    ASSIGN_OR_RETURN(crypto::SecureBytes pin, keycmd::ReadPin(o.pin_file));
    ASSIGN_OR_RETURN(auto token, keys::Pkcs11Token::Open(o.module, o.token_label, pin));
    ASSIGN_OR_RETURN(keys::ImportOutcome r, token->ImportKeyPair(opened->key, ref));
    out.outcome = r == keys::ImportOutcome::kImported ? "imported" : "already present";
    // A node without that fence's directory cannot sign with the key at all.
    const std::string fence = keycmd::Pkcs11FencePath(s, env, o.token_label, o.key_label);
    if (fs::IsDirectory(fs::Dirname(fence))) {
      ASSIGN_OR_RETURN(auto retired, keys::RestoreRetiredMarker(o.id, o.from, fence));
      if (retired) out.outcome += "; RETIRED key (" + retired->Describe() + "): marked beside its fence, it does not sign";
    }
  } else {
    ASSIGN_OR_RETURN(keys::RestoreResult r, keys::RestoreToFile(*opened, o.to_file, owner));
    out.outcome = r.outcome == keys::RestoreOutcome::kWritten ? "written" : "already present";
    if (!r.repaired.empty()) out.outcome += "; made safe: " + r.repaired;
    ASSIGN_OR_RETURN(auto fence, keys::RestoreFenceFromBackup(o.id, o.from, o.to_file));
    if (fence) out.outcome += "; signing fence at height " + std::to_string(*fence);
    ASSIGN_OR_RETURN(auto retired, keys::RestoreRetiredMarker(o.id, o.from, keys::FencePathForKeyFile(o.to_file)));
    if (retired) out.outcome += "; RETIRED key (" + retired->Describe() + "): marked beside its fence, it does not sign";
  }
  // A key the federation no longer lists comes back for history, not to sign.
  if (auto live = env.in_force->LiveKey(o.id); !live.ok())
    out.outcome += "; not a live signer: " + std::string(MessageWithoutHint(live.status()));
  return Status::Ok();
}

// --------------------------------------------------------------- the commands
void SetUpBackup(CLI::App* keys_cmd, Session& s) {
  auto b = std::make_shared<BackupOpts>();
  CLI::App* backup = keys_cmd->add_subcommand("backup", "encrypt a signer key (OpenPGP, AES-256) to one or more places");
  backup->add_option("--id", b->id, "signer id, e.g. signer-01")->required();
  backup->add_option("--key", b->key, "PEM private key file")->required();
  backup->add_option("--out", b->out, "local output directory (repeatable: one copy each; a URL is refused)")->required();
  backup->add_option("--shares", b->shares, "split the passphrase into N shares, any K recover it (K/N)");
  backup->add_option("--shares-out", b->shares_out, "local directory for the share files (not an --out directory)");
  backup->add_option("--passphrase-file", b->passphrase_file,
                     "file or pipe holding the passphrase on one line, LF line ending (or AILEE_KEY_PASSPHRASE)");
  keycmd::AddCommonOptions(backup, &b->federation, &b->audit_log);
  backup->callback([b, &s] {
    auto env = keycmd::OpenKeyEnv(s, b->federation, b->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    nlohmann::json details = {{"key_file", b->key}, {"out", b->out}};
    auto r = BackUpKey(*b, *env, details);
    if (r.ok()) details["files"] = r->backup_files, details["share_files"] = r->share_files;
    EndCommand(s, r, keycmd::AuditRecordOf(*env, "key.backup", b->id, r.ok() ? r->identity.fingerprint : "", details),
               [&](const keys::BackupResult& res) { return BackupJson(*b, res); },
               [&](const keys::BackupResult& res) { return BackupText(*b, res); });
  });
}

void SetUpVerify(CLI::App* keys_cmd, Session& s) {
  auto v = std::make_shared<VerifyOpts>();
  CLI::App* verify = keys_cmd->add_subcommand("verify", "decrypt backups in memory and check them (the weekly check)");
  verify->add_option("--id", v->id, "signer id")->required();
  verify->add_option("backups", v->backups, "local backup files or directories holding <id>.key.gpg")->required();
  verify->add_flag("--no-federation-check", v->no_federation, "do not require a federation key for the signer");
  AddPassphraseOptions(verify, &v->pass);
  keycmd::AddCommonOptions(verify, &v->federation, &v->audit_log);
  verify->callback([v, &s] {
    auto env = keycmd::OpenKeyEnv(s, v->federation, v->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    if (Status id = keys::ValidateSignerId(v->id); !id.ok()) return EndCommand(s, id);
    nlohmann::json details = {{"copies", v->backups}};
    auto rep = VerifyKeyBackups(*v, *env);
    if (!rep.ok()) return EndCommand(s, rep.status(), keycmd::AuditRecordOf(*env, "key.verify", v->id, "", details));
    s.AddMetrics(ops::metrics::KeysVerifySamples(v->id, *rep));
    const int64_t now = Clock::Real().NowSeconds();
    details["results"] = CopiesJson(*rep, now);
    for (auto& c : details["results"]) c.erase("message");
    // The audit line keeps the first failure itself; the exit says how many failed.
    auto record = keycmd::AuditRecordOf(*env, "key.verify", v->id, FirstFingerprint(*rep), details);
    auto record_verdict = [&](const Status& verdict) {
      Status recorded = record(rep->overall);
      return verdict.ok() ? recorded : verdict;
    };
    EndWithVerdict(
        s, VerdictOf(*rep, v->id), record_verdict,
        [&] { return nlohmann::json{{"ok", rep->overall.ok()}, {"signer_id", v->id}, {"copies", CopiesJson(*rep, now)}}; },
        [&] { return CopiesText(*rep, now); });
  });
}

void SetUpRestore(CLI::App* keys_cmd, Session& s) {
  auto r = std::make_shared<RestoreOpts>();
  CLI::App* restore = keys_cmd->add_subcommand("restore", "restore a signer key to a 0400 file or into a PKCS#11 token");
  restore->add_option("--id", r->id, "signer id")->required();
  restore->add_option("--from", r->from, "local backup file or directory")->required();
  restore->add_option("--to-file", r->to_file,
                      "write the key file here (mode 0400, never replacing another key; the same key already "
                      "there is made safe: mode, owner)");
  restore->add_option("--owner", r->owner, "USER[:GROUP] owning the restored file");
  restore->add_flag("--to-pkcs11", r->to_pkcs11, "import into a PKCS#11 token as a non-extractable key");
  restore->add_option("--pkcs11-module", r->module, "PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so");
  restore->add_option("--token-label", r->token_label, "token label");
  restore->add_option("--key-label", r->key_label, "CKA_LABEL for the key objects");
  restore->add_option("--key-id", r->key_id_hex, "CKA_ID for the key objects, hex");
  restore->add_option("--pin-file", r->pin_file, "file holding the user PIN (or AILEE_PKCS11_PIN)");
  restore->add_flag("--no-federation-check", r->no_federation, "do not require a federation key for the signer");
  AddPassphraseOptions(restore, &r->pass);
  keycmd::AddCommonOptions(restore, &r->federation, &r->audit_log);
  restore->callback([r, &s] {
    auto env = keycmd::OpenKeyEnv(s, r->federation, r->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    KeyRestore done{"", "", nlohmann::json{{"from", r->from}}};
    Status st = RestoreKey(s, *r, *env, done);
    done.details["outcome"] = done.outcome;
    const std::string where = r->to_pkcs11 ? "token '" + r->token_label + "' as '" + r->key_label + "'" : r->to_file;
    auto record = keycmd::AuditRecordOf(*env, "key.restore", r->id, done.fingerprint, done.details);
    EndCommand(
        s, st, record,
        [&] { return nlohmann::json{{"ok", true}, {"signer_id", r->id}, {"fingerprint", done.fingerprint}, {"target", where}, {"outcome", done.outcome}}; },
        [&] { return "restored " + r->id + " (fingerprint " + done.fingerprint + ") to " + where + ": " + done.outcome; });
  });
}

}  // namespace

void SetUpKeysCommand(CLI::App& parent, Session& s) {
  CLI::App* keys_cmd = parent.add_subcommand("keys", "generate, back up, verify, restore and retire federation signer keys");
  keys_cmd->require_subcommand(1);
  SetUpBackup(keys_cmd, s);
  SetUpVerify(keys_cmd, s);
  SetUpRestore(keys_cmd, s);
  keycmd::SetUpGenerate(keys_cmd, s);
  keycmd::SetUpRetire(keys_cmd, s);
}

}  // namespace ailee::cli
