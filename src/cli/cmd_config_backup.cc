// config backup | restore | export | import, plus the aliases `backup config`
// (added to the `backup` group when it exists) and `restore-config`.
// docs/config-backup.md describes formats and recovery with stock tools.
#include <cstdlib>
#include <iostream>

#include "audit/scoped_op.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/replicate.h"
#include "cli/repo_session.h"
#include "keys/secret_input.h"
#include "ops/config/backup.h"
#include "ops/config/restore.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

inline constexpr const char* kSecretsPassphraseEnv = "AILEE_SECRETS_PASSPHRASE";

// The secrets passphrase: --secrets-passphrase-file, $AILEE_SECRETS_PASSPHRASE
// or a prompt. nullopt when none is available and it is optional.
Result<std::optional<crypto::SecureBytes>> SecretsPassphrase(const std::string& file, bool required) {
  keys::SecretSource src;
  src.file = file;
  src.env = kSecretsPassphraseEnv;
  src.prompt = "Secrets passphrase: ";
  auto p = keys::ReadSecret(src);
  if (p.ok()) return std::optional<crypto::SecureBytes>(std::move(*p));
  if (p.status().code() == StatusCode::kNotFound && !required) return std::optional<crypto::SecureBytes>();
  return p.status().WithContext("secrets passphrase (--secrets-passphrase-file, $" + std::string(kSecretsPassphraseEnv) + " or a terminal)");
}

struct BackupArgs {
  RepoArgs repo;
  std::string secrets_file;
  std::vector<std::string> tags;
  std::vector<std::string> extra_paths;
};

void DefineBackup(CLI::App* cmd, GlobalOptions& g) {
  auto a = std::make_shared<BackupArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_option("--secrets-passphrase-file", a->secrets_file, "file holding the secrets passphrase (else $AILEE_SECRETS_PASSPHRASE or a prompt)");
  cmd->add_option("--tag", a->tags, "tag the snapshot (repeatable)");
  cmd->add_option("--path", a->extra_paths, "also back up this absolute file or directory (repeatable)");
  cmd->callback([&g, a] {
    auto s = RepoSession::Open(g, a->repo);
    if (!s.ok()) return SetResult(s.status());
    ops::ConfigBackupOptions o = ops::ConfigBackupOptionsFor(s->config(), g.config_path);
    o.paths.insert(o.paths.end(), a->extra_paths.begin(), a->extra_paths.end());
    o.tags = a->tags;
    o.audit_head = s->AuditHead();
    audit::ScopedAuditOp op(s->audit(), "backup.config", {{"repository", s->url()}, {"config", o.config_path}, {"paths", o.paths}});
    auto pass = SecretsPassphrase(a->secrets_file, false);
    if (!pass.ok()) return SetResult(op.Finish(pass.status()));
    if (*pass) o.secrets_passphrase = &**pass;
    auto r = ops::BackupConfig(s->repo(), o);
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    std::string id = repo::IdHex(r->backup.snapshot_id);
    op.Touch(id);
    const auto& st = r->backup.stats;
    auto replicated = ReplicateToSecondaries(g, *s, id);
    if (g.json) {
      PrintJson({{"snapshot", id}, {"parent", r->parent}, {"files", r->files}, {"secrets", r->secrets}, {"secrets_reused", r->secrets_reused},
                 {"skipped", r->skipped}, {"bytes_total", st.bytes_total}, {"bytes_new", st.bytes_new}, {"bytes_stored", st.bytes_stored},
                 {"replicated", ReplicationJson(replicated)}});
    }
    for (const auto& sk : r->skipped) PrintLine(g, "skipped " + sk);
    for (size_t i = 0; i < r->secrets.size(); ++i) PrintLine(g, "encrypted " + r->secrets[i] + " (" + r->secret_reasons[i] + ")");
    PrintLine(g, "config snapshot " + id.substr(0, 12) + ": " + std::to_string(r->files) + " files, " + std::to_string(r->secrets.size()) +
                     " secret(s) encrypted (" + std::to_string(r->secrets_reused) + " unchanged); new " + HumanBytes(st.bytes_new) +
                     ", stored " + HumanBytes(st.bytes_stored));
    Status audited = op.Finish(Status::Ok());
    SetResult(audited.ok() ? ReplicationStatus(replicated, id) : audited);
  });
}

json ChangeJson(const ops::ConfigChange& c) {
  return {{"change", ops::ConfigChangeKindName(c.kind)}, {"path", c.path}, {"target", c.target}, {"secret", c.secret},
          {"detail", c.detail}, {"diff", c.text_diff}};
}

void PrintChanges(const GlobalOptions& g, const ops::ConfigRestoreReport& r) {
  for (const auto& c : r.changes) {
    if (c.kind == ops::ConfigChange::Kind::kUnchanged) continue;
    char mark = c.kind == ops::ConfigChange::Kind::kAdded ? '+' : c.kind == ops::ConfigChange::Kind::kRemoved ? '-' : '~';
    PrintLine(g, std::string(1, mark) + " " + ops::ConfigChangeKindName(c.kind) + ": " + c.target + (c.secret ? " [secret]" : "") +
                     (c.detail.empty() ? "" : " (" + c.detail + ")"));
    if (!c.text_diff.empty()) {
      std::string diff = c.text_diff.substr(0, c.text_diff.size() - 1), indented;  // ends with '\n'
      for (char ch : diff) indented += ch == '\n' ? std::string("\n    ") : std::string(1, ch);
      PrintLine(g, "    " + indented);
    }
  }
}

void DefineRestore(CLI::App* cmd, GlobalOptions& g) {
  auto args = std::make_shared<RepoArgs>();
  auto ref = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto secrets_file = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto no_validate = std::make_shared<bool>(false);
  auto host = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("SNAPSHOT", *ref, "config snapshot id, unique prefix, or 'latest' (this node's newest)")->required();
  cmd->add_option("--host", *host, "'latest' of this node id or hostname instead of this node's (node.id, else the hostname)");
  cmd->add_option("--target,-t", *target, "restore below DIR ('/' puts files back at their original paths)")->required();
  cmd->add_flag("--dry-run,-n", *dry_run, "only show what would change");
  cmd->add_option("--secrets-passphrase-file", *secrets_file, "file holding the secrets passphrase (else $AILEE_SECRETS_PASSPHRASE or a prompt)");
  cmd->add_flag("--no-validate", *no_validate, "do not validate the restored config (not recommended)");
  cmd->callback([&g, args, ref, target, secrets_file, dry_run, no_validate, host] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), *dry_run ? "restore.config.dry-run" : "restore.config",
                            {{"repository", s->url()}, {"snapshot", *ref}, {"target", *target}});
    auto pass = SecretsPassphrase(*secrets_file, false);
    if (!pass.ok()) return SetResult(op.Finish(pass.status()));
    ops::ConfigRestoreOptions o;
    o.dry_run = *dry_run;
    o.validate = !*no_validate;
    o.scope = ops::ConfigScopeFor(s->config(), *host);
    if (*pass) o.secrets_passphrase = &**pass;
    auto r = ops::RestoreConfig(s->repo(), *ref, *target, o);
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    op.Touch(r->snapshot_id);
    if (g.json) {
      json changes = json::array();
      for (const auto& c : r->changes) changes.push_back(ChangeJson(c));
      PrintJson({{"snapshot", r->snapshot_id}, {"target", *target}, {"dry_run", *dry_run}, {"changes", changes}, {"written", r->written},
                 {"secrets_written", r->secrets_written}, {"validated", r->validated}, {"rolled_back", r->rolled_back},
                 {"problems", r->problems}});
    }
    PrintChanges(g, *r);
    using K = ops::ConfigChange::Kind;
    std::string counts = std::to_string(r->Count(K::kAdded)) + " added, " + std::to_string(r->Count(K::kChanged)) + " changed, " +
                         std::to_string(r->Count(K::kRemoved)) + " not in snapshot, " + std::to_string(r->Count(K::kUnchanged)) + " unchanged";
    if (*dry_run) {
      PrintLine(g, "dry run of config snapshot " + r->snapshot_id.substr(0, 12) + ": " + counts + "; nothing written");
      return SetResult(op.Finish(Status::Ok()));
    }
    if (r->rolled_back) return SetResult(op.Finish(r->ToStatus()));
    PrintLine(g, "restored config snapshot " + r->snapshot_id.substr(0, 12) + " to " + *target + ": " + counts + "; " +
                     std::to_string(r->written) + " written (" + std::to_string(r->secrets_written) + " secrets, with their modes); " +
                     (r->validated ? "config " + r->config_file + " validates" : std::string("config not validated")));
    SetResult(op.Finish(Status::Ok()));
  });
}

void DefineExport(CLI::App* cmd, GlobalOptions& g) {
  auto args = std::make_shared<RepoArgs>();
  auto ref = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  auto secrets_file = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("SNAPSHOT", *ref, "config snapshot id, unique prefix, or 'latest' (this node's newest)")->required();
  cmd->add_option("--output,-o", *output, "the .tar.gz to write")->required();
  cmd->add_option("--host", *host, "'latest' of this node id or hostname instead of this node's (node.id, else the hostname)");
  cmd->add_option("--secrets-passphrase-file", *secrets_file,
                  "encrypt secrets an older snapshot stores in clear (else $AILEE_SECRETS_PASSPHRASE; without one such an export is refused)");
  cmd->callback([&g, args, ref, output, host, secrets_file] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "config.export", {{"repository", s->url()}, {"snapshot", *ref}, {"output", *output}});
    ops::ConfigExportOptions o = ops::ConfigExportOptionsFor(s->config(), *host);
    // Only a file or the environment: an export must not stop at a prompt.
    std::optional<crypto::SecureBytes> pass;
    const char* env_pass = std::getenv(kSecretsPassphraseEnv);
    if (!secrets_file->empty() || (env_pass && *env_pass)) {
      auto p = SecretsPassphrase(*secrets_file, true);
      if (!p.ok()) return SetResult(op.Finish(p.status()));
      pass = std::move(*p);
      o.secrets_passphrase = &*pass;
    }
    auto r = ops::ExportConfig(s->repo(), *ref, *output, o);
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    op.Touch(r->snapshot_id);
    if (g.json) {
      PrintJson({{"snapshot", r->snapshot_id}, {"output", *output}, {"files", r->files}, {"secrets", r->secrets},
                 {"encrypted_now", r->encrypted_now}});
    }
    for (const auto& p : r->encrypted_now) PrintLine(g, "encrypted " + p + " (stored in clear by an older backup)");
    PrintLine(g, "exported config snapshot " + r->snapshot_id.substr(0, 12) + " to " + *output + ": " + std::to_string(r->files) +
                     " files, " + std::to_string(r->secrets) + " secrets as .secrets/*.gpg (open with `gpg --decrypt`)");
    SetResult(op.Finish(Status::Ok()));
  });
}

void DefineImport(CLI::App* cmd, GlobalOptions& g) {
  auto archive = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto secrets_file = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto decrypt = std::make_shared<bool>(false);
  cmd->add_option("ARCHIVE", *archive, "a .tar.gz (from `config export` or the runbook's tar)")->required();
  cmd->add_option("--target,-t", *target, "directory to extract below")->required();
  cmd->add_flag("--dry-run,-n", *dry_run, "only check the entries");
  cmd->add_flag("--decrypt-secrets", *decrypt, "also decrypt .secrets/<path>.gpg to <path> (mode 0400)");
  cmd->add_option("--secrets-passphrase-file", *secrets_file, "file holding the secrets passphrase (else $AILEE_SECRETS_PASSPHRASE or a prompt)");
  cmd->callback([&g, archive, target, secrets_file, dry_run, decrypt] {
    auto log = OpenAuditLogFor(g);  // audited with or without a config
    if (!log.ok()) return SetResult(log.status());
    audit::ScopedAuditOp op(log->get(), "config.import", {{"archive", *archive}, {"target", *target}, {"dry_run", *dry_run}});
    std::optional<crypto::SecureBytes> pass;
    if (*decrypt && !*dry_run) {
      auto p = SecretsPassphrase(*secrets_file, true);
      if (!p.ok()) return SetResult(op.Finish(p.status()));
      pass = std::move(*p);
    }
    ops::ConfigImportOptions o;
    o.dry_run = *dry_run;
    if (pass) o.secrets_passphrase = &*pass;
    auto r = ops::ImportConfigArchive(*archive, *target, o);
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    if (g.json) {
      PrintJson({{"archive", *archive}, {"target", *target}, {"entries", r->entries}, {"files", r->stats.files}, {"dirs", r->stats.dirs},
                 {"symlinks", r->stats.symlinks}, {"hardlinks", r->stats.hardlinks}, {"secrets_decrypted", r->secrets_decrypted},
                 {"config", r->config_file}, {"problems", r->problems}});
    }
    PrintLine(g, std::string(*dry_run ? "checked " : "imported ") + *archive + ": " + std::to_string(r->entries) + " entries, all safe" +
                     (*dry_run ? "" : "; " + std::to_string(r->stats.files) + " files, " + std::to_string(r->secrets_decrypted) + " secrets decrypted"));
    if (!r->problems.empty()) {
      std::string msg = "imported config " + r->config_file + " does not validate:";
      for (const auto& p : r->problems) msg += "\n  " + p;
      return SetResult(op.Finish(InvalidArgument(msg)));
    }
    SetResult(op.Finish(Status::Ok()));
  });
}

void SetUpConfig(CLI::App& app, GlobalOptions& g) {
  auto* cfg = app.add_subcommand("config", "Back up, restore, export and import the node's configuration (docs/config-backup.md)");
  cfg->require_subcommand(1);
  DefineBackup(cfg->add_subcommand("backup",
                                   "Store the config directory, .env, compose and proxy files as a config snapshot; every secret (listed,\n"
                                   "named by the config, owner-only, or key-shaped) encrypted with OpenPGP (stock `gpg --decrypt` opens\n"
                                   "them). Unchanged files cost nothing."),
               g);
  DefineRestore(cfg->add_subcommand("restore",
                                    "Show the diff, then restore each file atomically with modes and owners, secrets decrypted, and\n"
                                    "validate the config; an invalid result is rolled back. 'latest' is this node's newest."),
                g);
  DefineExport(cfg->add_subcommand("export", "Write a config snapshot as a plain .tar.gz (secrets stay .gpg ciphertext)"), g);
  DefineImport(cfg->add_subcommand("import", "Extract a .tar.gz after refusing unsafe entries (absolute, '..', escaping links, devices, duplicates)"), g);
}

void SetUpRestoreConfig(CLI::App& app, GlobalOptions& g) {
  DefineRestore(app.add_subcommand("restore-config", "Same as `config restore`"), g);
}

}  // namespace

void SetUpConfigCommand(CLI::App& app, Session& s) { SetUpConfig(app, s.global()); }
void SetUpRestoreConfigCommand(CLI::App& app, Session& s) { SetUpRestoreConfig(app, s.global()); }
// `backup config`, added to the `backup` group of cmd_backup.cc (main.cc's table).
void SetUpBackupConfigSubcommand(CLI::App& backup, Session& s) {
  DefineBackup(backup.add_subcommand("config", "Same as `config backup`"), s.global());
}
// `restore config SNAPSHOT --target DIR`, the runbook's spelling.
void SetUpRestoreConfigSubcommand(CLI::App& restore, Session& s) {
  DefineRestore(restore.add_subcommand("config", "Restore a config snapshot (same as `config restore`)"), s.global());
}

}  // namespace ailee::cli
