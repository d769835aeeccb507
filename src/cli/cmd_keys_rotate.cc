// ailee-cli keys generate|retire: the key half of a federation rotation
// (docs/keys.md "Rotation"). `generate` makes signer-04's key in a 0400 file
// or on a PKCS#11 token, backs it up and tests it in one step, and prints
// the public key the federation change needs; `retire` marks the old key's
// fence and backups retired (kept, never deleted) so it never signs again.
// Both are thin: the work is keys::GenerateKeyFile/GenerateTokenKey and
// keys::RetireKey; secrets come as `keys backup` takes them (never argv).
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hex.h"
#include "base/user_name.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/key_env.h"
#include "keys/backup.h"
#include "keys/generate.h"
#include "keys/retirement.h"
#include "keys/signer.h"
#include "keys/signing_fence.h"

namespace ailee::cli::keycmd {
namespace {

// --------------------------------------------------------------- generate
struct GenerateOpts {
  std::string id, key_file, key_type, shares, shares_out, passphrase_file, public_key_out, audit_log;
  bool pkcs11 = false;
  std::string module, token_label, key_label, key_id_hex, pin_file;
  std::vector<std::string> out, federation;
};

// --pkcs11: explicit options first, then the config's signer.pkcs11 (its
// module, token and PIN file; its key label only when the config's signer is
// this very id), else the label "ailee-<id>".
Result<keys::TokenTarget> TokenTargetOf(Session& s, const GenerateOpts& o, const KeyEnv& env) {
  keys::TokenTarget t{o.module, o.token_label, {o.key_label, ""}, ""};
  if (env.config && env.config->signer && env.config->signer->pkcs11) {
    const auto& p = *env.config->signer->pkcs11;
    if (t.module_path.empty()) t.module_path = p.module;
    if (t.token_label.empty()) t.token_label = p.token_label;
    if (env.config->signer->id == o.id && t.key.label.empty()) t.key.label = p.key_label;
  }
  if (t.key.label.empty()) t.key.label = "ailee-" + o.id;
  if (t.module_path.empty() || t.token_label.empty())
    return InvalidArgument("--pkcs11 needs --module and --token-label (or a config whose signer.pkcs11 names them)");
  if (!o.key_id_hex.empty()) {
    auto id = HexDecode(o.key_id_hex);
    if (!id || id->empty()) return InvalidArgument("--key-id must be hex, got '" + o.key_id_hex + "'");
    t.key.id = *id;
  }
  t.fence_path = Pkcs11FencePath(s, env, t.token_label, t.key.label);
  return t;
}

std::string PinFileOf(const GenerateOpts& o, const KeyEnv& env) {
  if (!o.pin_file.empty() || !env.config || !env.config->signer || !env.config->signer->pkcs11) return o.pin_file;
  return env.config->signer->pkcs11->pin_file;
}

Result<keys::GenerateResult> Generate(Session& s, const GenerateOpts& o, const KeyEnv& env, nlohmann::json& details) {
  if (o.key_file.empty() == !o.pkcs11) return InvalidArgument("give exactly one of --key-file PATH or --pkcs11");
  keys::GenerateRequest req;
  req.signer_id = o.id;
  req.federation = &env.federation;
  req.out_dirs = o.out;
  req.shares_dir = o.shares_out;
  req.public_key_out = o.public_key_out;
  if (!o.key_type.empty()) {
    ASSIGN_OR_RETURN(req.type, crypto::ParseKeyType(o.key_type));
  } else {
    ASSIGN_OR_RETURN(req.type, keys::FederationKeyType(env.federation));
  }
  details["key_type"] = std::string(crypto::KeyTypeName(req.type));
  if (!o.shares.empty()) {
    ASSIGN_OR_RETURN(req.shares, keys::ParseShareSpec(o.shares));
    details["shares"] = o.shares;
  }
  // Before any secret is asked for: a URL as a backup place is refused.
  for (const auto& dir : o.out) RETURN_IF_ERROR(keys::CheckLocalPath(dir, "--out"));
  if (o.pkcs11) {
    ASSIGN_OR_RETURN(req.token, TokenTargetOf(s, o, env));
    details["pkcs11"] = {{"module", req.token->module_path}, {"token", req.token->token_label},
                         {"label", req.token->key.label}, {"id", o.key_id_hex}};
    ASSIGN_OR_RETURN(crypto::SecureBytes pin, ReadPin(PinFileOf(o, env)));
    return keys::GenerateTokenKey(req, pin);
  }
  req.key_file = o.key_file;
  details["key_file"] = o.key_file;
  ASSIGN_OR_RETURN(crypto::SecureBytes pass, NewBackupPassphrase(o.passphrase_file, o.id, req.shares.has_value(), details));
  return keys::GenerateKeyFile(req, pass);
}

// The half-made key of an interrupted run that this run removed first.
nlohmann::json ReplacedJson(const keys::ReplacedKey& r) {
  return {{"fingerprint", r.fingerprint}, {"journal", r.journal}, {"removed", r.removed}};
}

nlohmann::json GenerateJson(const GenerateOpts& o, const keys::GenerateResult& r) {
  nlohmann::json j = {{"ok", true},
                      {"signer_id", o.id},
                      {"fingerprint", r.identity.fingerprint},
                      {"key_type", std::string(crypto::KeyTypeName(r.identity.type))},
                      {"public_key_pem", r.public_key_pem},
                      {"public_key_out", o.public_key_out},
                      {"key", r.location},
                      {"test_signer", {{"ok", true}, {"challenge", r.test.challenge_hex}, {"signature", r.test.signature_hex}}},
                      {"backups", r.backup_files},
                      {"shares", r.share_files},
                      {"public_records", r.public_records},
                      {"fences", r.fence_files}};
  if (r.replaced) j["replaced_interrupted_key"] = ReplacedJson(*r.replaced);
  if (r.token_flags) {
    j["token_key"] = {{"sensitive", r.token_flags->sensitive}, {"extractable", r.token_flags->extractable},
                      {"never_extractable", r.token_flags->never_extractable}, {"local", r.token_flags->local},
                      {"backup", "none possible: the private key cannot leave the token"}};
  }
  return j;
}

std::string GenerateText(const GenerateOpts& o, const keys::GenerateResult& r) {
  std::vector<std::string> lines;
  if (r.replaced) {
    lines.push_back("an interrupted `keys generate` of " + o.id + " had left " +
                    (r.replaced->fingerprint.empty() ? std::string("no key yet")
                                                     : "key " + r.replaced->fingerprint + " without its backups") +
                    " (never printed, never signed): removed it and what that run wrote (" +
                    std::to_string(r.replaced->removed.size()) + " item(s)); the key below is a new one");
  }
  lines.push_back("generated " + o.id + " (" + std::string(crypto::KeyTypeName(r.identity.type)) +
                                    ", fingerprint " + r.identity.fingerprint + ") in " + r.location +
                                    (r.token_flags ? "" : " (mode 0400)"));
  lines.push_back("test-signer: OK, the key signed a fresh challenge that its public key verifies");
  if (r.token_flags) {
    lines.push_back("the private key was generated on the token and cannot be exported (sensitive, never "
                    "extractable): it has NO backup. Kept instead (public key, where the key lives):");
    for (const auto& p : r.public_records) lines.push_back("  " + p);
  } else {
    lines.push_back("backed up, each copy read back and checked:");
    for (const auto& b : r.backup_files) lines.push_back("  " + b);
  }
  if (!r.share_files.empty()) {
    lines.push_back("passphrase split " + o.shares + " into share files (give each to a different holder):");
    for (const auto& sh : r.share_files) lines.push_back("  " + sh);
  }
  lines.push_back("public key for the federation change (`ailee-cli federation propose --add " + o.id + "=PEMFILE`)" +
                  (o.public_key_out.empty() ? std::string(":") : ", written to " + o.public_key_out + ":"));
  std::string pem = r.public_key_pem;
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  lines.push_back(pem);
  return Lines(lines);
}

// --------------------------------------------------------------- retire
struct RetireOpts {
  std::string id, reason, operator_id, key_file, fence, audit_log;
  std::vector<std::string> backups, federation;
};

// Where the key's fence is and what the key is: --key-file (fence beside it,
// fingerprint from it), --fence, or the config's signer when it is this id.
Result<keys::RetireRequest> RetireRequestOf(Session& s, const RetireOpts& o, const KeyEnv& env) {
  if (!o.key_file.empty() && !o.fence.empty()) return InvalidArgument("give --key-file or --fence, not both");
  keys::RetireRequest req;
  req.record.signer_id = o.id;
  req.record.reason = o.reason;
  req.record.operator_id = o.operator_id.empty() ? UserName(::getuid()) : o.operator_id;
  req.backup_dirs = o.backups;
  if (!o.key_file.empty()) {
    ASSIGN_OR_RETURN(auto signer, keys::FileSigner::Open(o.key_file));
    req.record.fingerprint = signer->public_key().FingerprintHex();
    req.fence_path = keys::FencePathForKeyFile(o.key_file);
  } else if (!o.fence.empty()) {
    req.fence_path = o.fence;
  } else if (env.config && env.config->signer && env.config->signer->id == o.id) {
    const auto& sig = *env.config->signer;
    req.fence_path = sig.pkcs11 ? Pkcs11FencePath(s, env, sig.pkcs11->token_label, sig.pkcs11->key_label)
                                : keys::FencePathForKeyFile(sig.key_file);
  }
  if (req.record.fingerprint.empty())
    if (auto it = env.federation.find(o.id); it != env.federation.end())
      req.record.fingerprint = it->second.FingerprintHex();
  return req;
}

nlohmann::json RetireJson(const RetireOpts& o, const keys::RetireResult& r) {
  return {{"ok", true}, {"signer_id", o.id}, {"fingerprint", r.record.fingerprint}, {"reason", r.record.reason},
          {"operator", r.record.operator_id}, {"retired", FormatUtc(r.record.retired_unix)},
          {"markers_written", r.written}, {"markers_already_present", r.already}, {"kept", r.kept}};
}

std::string RetireText(const RetireOpts& o, const keys::RetireResult& r) {
  std::vector<std::string> lines = {"signer key " + o.id + (r.record.fingerprint.empty() ? "" : " (" + r.record.fingerprint + ")") +
                                    " " + r.record.Describe() + "; it never signs again"};
  for (const auto& m : r.written) lines.push_back("  marked  " + m);
  for (const auto& m : r.already) lines.push_back("  already " + m);
  auto beside_fence = [](const std::string& m) { return m.ends_with(".fence.retired"); };
  if (std::none_of(r.written.begin(), r.written.end(), beside_fence) &&
      std::none_of(r.already.begin(), r.already.end(), beside_fence))
    lines.push_back("warning: no marker beside the key's fence (give --key-file or --fence): a node holding this "
                    "key is not stopped by this");
  lines.push_back("kept (needed to verify history; nothing was deleted):");
  for (const auto& k : r.kept) lines.push_back("  " + k);
  return Lines(lines);
}

}  // namespace

void SetUpGenerate(CLI::App* keys_cmd, Session& s) {
  auto g = std::make_shared<GenerateOpts>();
  CLI::App* c = keys_cmd->add_subcommand(
      "generate", "generate a new signer key (0400 file or on a PKCS#11 token), back it up and test it");
  c->add_option("--id", g->id, "signer id of the new key, e.g. signer-04")->required();
  c->add_option("--key-file", g->key_file, "write the new PEM key here (mode 0400; an existing path is refused)");
  c->add_flag("--pkcs11", g->pkcs11, "generate the key on a PKCS#11 token (never extractable; the config's signer.pkcs11 "
                                     "or --module/--token-label)");
  c->add_option("--module,--pkcs11-module", g->module, "PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so");
  c->add_option("--token-label", g->token_label, "token label");
  c->add_option("--key-label", g->key_label, "CKA_LABEL for the new key (default: ailee-<id>; an existing label is refused)");
  c->add_option("--key-id", g->key_id_hex, "CKA_ID for the new key, hex");
  c->add_option("--pin-file", g->pin_file, "file holding the user PIN (or AILEE_PKCS11_PIN)");
  c->add_option("--key-type", g->key_type, "ed25519, secp256k1 or p256 (default: the federation's key type)");
  c->add_option("--out", g->out, "local backup directory (repeatable; for a token key: where its public record goes)")
      ->required();
  c->add_option("--shares", g->shares, "split the backup passphrase into N shares, any K recover it (K/N)");
  c->add_option("--shares-out", g->shares_out, "local directory for the share files (not an --out directory)");
  c->add_option("--passphrase-file", g->passphrase_file,
                "file or pipe holding the backup passphrase on one line, LF line ending (or AILEE_KEY_PASSPHRASE)");
  c->add_option("--public-key-out", g->public_key_out, "also write the public key PEM here (for federation propose)");
  AddCommonOptions(c, &g->federation, &g->audit_log);
  c->callback([g, &s] {
    auto env = OpenKeyEnv(s, g->federation, g->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    nlohmann::json details = {{"out", g->out}, {"public_key_out", g->public_key_out}};
    auto r = Generate(s, *g, *env, details);
    if (r.ok()) {
      details["key"] = r->location;
      details["files"] = r->backup_files, details["share_files"] = r->share_files;
      details["public_records"] = r->public_records;
      if (r->replaced) details["replaced_interrupted_key"] = ReplacedJson(*r->replaced);
    }
    EndCommand(s, r, AuditRecordOf(*env, "key.generate", g->id, r.ok() ? r->identity.fingerprint : "", details),
               [&](const keys::GenerateResult& res) { return GenerateJson(*g, res); },
               [&](const keys::GenerateResult& res) { return GenerateText(*g, res); });
  });
}

void SetUpRetire(CLI::App* keys_cmd, Session& s) {
  auto o = std::make_shared<RetireOpts>();
  CLI::App* c = keys_cmd->add_subcommand(
      "retire", "mark a signer key retired beside its fence and backups (kept, never deleted; it never signs again)");
  c->add_option("--id", o->id, "signer id of the old key, e.g. signer-01")->required();
  c->add_option("--reason", o->reason, "why (audited; up to 1024 bytes)")->required();
  c->add_option("--operator", o->operator_id, "who retires it (default: the login name)");
  c->add_option("--key-file", o->key_file, "the old PEM key file (its fence is <file>.fence)");
  c->add_option("--fence", o->fence, "the old key's signing fence file (for a PKCS#11 key)");
  c->add_option("--backup", o->backups, "local directory holding a backup of the key (repeatable)");
  AddCommonOptions(c, &o->federation, &o->audit_log);
  c->callback([o, &s] {
    auto env = OpenKeyEnv(s, o->federation, o->audit_log);
    if (!env.ok()) return EndCommand(s, env.status());
    nlohmann::json details = {{"reason", o->reason}, {"backups", o->backups}};
    std::string fp;
    auto r = [&]() -> Result<keys::RetireResult> {
      ASSIGN_OR_RETURN(keys::RetireRequest req, RetireRequestOf(s, *o, *env));
      fp = req.record.fingerprint;
      details["operator"] = req.record.operator_id;
      details["fence"] = req.fence_path;
      ASSIGN_OR_RETURN(keys::RetireResult done, keys::RetireKey(req));
      if (!o->key_file.empty()) done.kept.insert(done.kept.begin(), o->key_file);
      return done;
    }();
    if (r.ok()) {
      fp = r->record.fingerprint;
      details["markers_written"] = r->written, details["markers_already_present"] = r->already;
    }
    EndCommand(s, r, AuditRecordOf(*env, "key.retire", o->id, fp, details),
               [&](const keys::RetireResult& res) { return RetireJson(*o, res); },
               [&](const keys::RetireResult& res) { return RetireText(*o, res); });
  });
}

}  // namespace ailee::cli::keycmd
