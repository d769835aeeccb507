// config backup | restore | export | import, plus the aliases `backup config`
// (added to the `backup` group when it exists) and `restore-config`.
// docs/config-backup.md describes formats and recovery with stock tools.
#include <cstdlib>
#include <iostream>

#include "audit/scoped_op.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/replicate.h"
#include "cli/repo_session.h"
#include "cli/secrets_passphrase.h"
#include "ops/config/backup.h"
#include "ops/config/restore.h"
#include "ops/metrics/job_samples.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

struct BackupArgs {
  RepoArgs repo;
  std::string secrets_file;
  std::vector<std::string> tags;
  std::vector<std::string> extra_paths;
};

json BackupJson(const ops::ConfigBackupResult& r, const std::string& id, const std::vector<ReplicationOutcome>& replicated) {
  const auto& st = r.backup.stats;
  return {{"snapshot", id}, {"parent", r.parent}, {"files", r.files}, {"secrets", r.secrets}, {"secrets_reused", r.secrets_reused},
          {"skipped", r.skipped}, {"bytes_total", st.bytes_total}, {"bytes_new", st.bytes_new}, {"bytes_stored", st.bytes_stored},
          {"replicated", ReplicationJson(replicated)}};
}

std::string BackupText(const ops::ConfigBackupResult& r, const std::string& id) {
  std::vector<std::string> lines;
  for (const auto& sk : r.skipped) lines.push_back("skipped " + sk);
  for (size_t i = 0; i < r.secrets.size(); ++i) lines.push_back("encrypted " + r.secrets[i] + " (" + r.secret_reasons[i] + ")");
  lines.push_back("config snapshot " + id.substr(0, 12) + ": " + std::to_string(r.files) + " files, " + std::to_string(r.secrets.size()) +
                  " secret(s) encrypted (" + std::to_string(r.secrets_reused) + " unchanged); new " + HumanBytes(r.backup.stats.bytes_new) +
                  ", stored " + HumanBytes(r.backup.stats.bytes_stored));
  return Lines(lines);
}

void DefineBackup(CLI::App* cmd, Session& ses) {
  auto a = std::make_shared<BackupArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_option("--secrets-passphrase-file", a->secrets_file, "file holding the secrets passphrase (else $AILEE_SECRETS_PASSPHRASE or a prompt)");
  cmd->add_option("--tag", a->tags, "tag the snapshot (repeatable)");
  cmd->add_option("--path", a->extra_paths, "also back up this absolute file or directory (repeatable)");
  cmd->callback([&ses, a] {
    auto s = RepoSession::Open(ses, a->repo);
    if (!s.ok()) return EndCommand(ses, s.status());
    ops::ConfigBackupOptions o = ops::ConfigBackupOptionsFor(s->config(), ses.global().config_path);
    o.paths.insert(o.paths.end(), a->extra_paths.begin(), a->extra_paths.end());
    o.tags = a->tags;
    o.audit_head = s->AuditHead();
    audit::ScopedAuditOp op(s->audit(), "backup.config", {{"repository", s->url()}, {"config", o.config_path}, {"paths", o.paths}});
    auto pass = SecretsPassphrase(a->secrets_file, false);
    if (!pass.ok()) return EndCommand(ses, pass.status(), op);
    if (*pass) o.secrets_passphrase = &**pass;
    auto r = ops::BackupConfig(s->repo(), o);
    if (!r.ok()) return EndCommand(ses, r.status(), op);
    std::string id = repo::IdHex(r->backup.snapshot_id);
    op.Touch(id);
    auto replicated = ReplicateToSecondaries(ses.global(), *s, id);
    ses.AddMetrics(ops::metrics::ConfigBackupSamples(*r, replicated, s->config() ? s->config()->backup.min_copies : 1));
    // The backup itself succeeded (so audited); a secondary that lacks it is the exit status.
    AuditRecord audited_ok = [&](const Status&) { return op.Finish(Status::Ok()); };
    EndWithVerdict(ses, ReplicationStatus(replicated, id), audited_ok, [&] { return BackupJson(*r, id, replicated); },
                   [&] { return BackupText(*r, id); });
  });
}

json ChangeJson(const ops::ConfigChange& c) {
  return {{"change", ops::ConfigChangeKindName(c.kind)}, {"path", c.path}, {"target", c.target}, {"secret", c.secret},
          {"detail", c.detail}, {"diff", c.text_diff}};
}

std::vector<std::string> ChangeLines(const ops::ConfigRestoreReport& r) {
  std::vector<std::string> lines;
  for (const auto& c : r.changes) {
    if (c.kind == ops::ConfigChange::Kind::kUnchanged) continue;
    char mark = c.kind == ops::ConfigChange::Kind::kAdded ? '+' : c.kind == ops::ConfigChange::Kind::kRemoved ? '-' : '~';
    lines.push_back(std::string(1, mark) + " " + ops::ConfigChangeKindName(c.kind) + ": " + c.target + (c.secret ? " [secret]" : "") +
                    (c.detail.empty() ? "" : " (" + c.detail + ")"));
    if (!c.text_diff.empty()) {
      std::string diff = c.text_diff.substr(0, c.text_diff.size() - 1), indented;  // ends with '\n'
      for (char ch : diff) indented += ch == '\n' ? std::string("\n    ") : std::string(1, ch);
      lines.push_back("    " + indented);
    }
  }
  return lines;
}

json RestoreJson(const ops::ConfigRestoreReport& r, const std::string& target, bool dry_run) {
  json changes = json::array();
  for (const auto& c : r.changes) changes.push_back(ChangeJson(c));
  return {{"snapshot", r.snapshot_id}, {"target", target}, {"dry_run", dry_run}, {"changes", changes}, {"written", r.written},
          {"secrets_written", r.secrets_written}, {"validated", r.validated}, {"rolled_back", r.rolled_back},
          {"problems", r.problems}};
}

// The changes, then the summary (none when the restore was rolled back: the
// error says why).
std::string RestoreText(const ops::ConfigRestoreReport& r, const std::string& target, bool dry_run) {
  std::vector<std::string> lines = ChangeLines(r);
  using K = ops::ConfigChange::Kind;
  std::string counts = std::to_string(r.Count(K::kAdded)) + " added, " + std::to_string(r.Count(K::kChanged)) + " changed, " +
                       std::to_string(r.Count(K::kRemoved)) + " not in snapshot, " + std::to_string(r.Count(K::kUnchanged)) + " unchanged";
  if (dry_run) {
    lines.push_back("dry run of config snapshot " + r.snapshot_id.substr(0, 12) + ": " + counts + "; nothing written");
  } else if (!r.rolled_back) {
    lines.push_back("restored config snapshot " + r.snapshot_id.substr(0, 12) + " to " + target + ": " + counts + "; " +
                    std::to_string(r.written) + " written (" + std::to_string(r.secrets_written) + " secrets, with their modes); " +
                    (r.validated ? "config " + r.config_file + " validates" : std::string("config not validated")));
  }
  return Lines(lines);
}

void DefineRestore(CLI::App* cmd, Session& ses) {
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
  cmd->callback([&ses, args, ref, target, secrets_file, dry_run, no_validate, host] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    audit::ScopedAuditOp op(s->audit(), *dry_run ? "restore.config.dry-run" : "restore.config",
                            {{"repository", s->url()}, {"snapshot", *ref}, {"target", *target}});
    auto pass = SecretsPassphrase(*secrets_file, false);
    if (!pass.ok()) return EndCommand(ses, pass.status(), op);
    ops::ConfigRestoreOptions o;
    o.dry_run = *dry_run;
    o.validate = !*no_validate;
    o.scope = ops::ConfigScopeFor(s->config(), *host);
    if (*pass) o.secrets_passphrase = &**pass;
    auto r = ops::RestoreConfig(s->repo(), *ref, *target, o);
    if (!r.ok()) return EndCommand(ses, r.status(), op);
    op.Touch(r->snapshot_id);
    EndWithVerdict(ses, !*dry_run && r->rolled_back ? r->ToStatus() : Status::Ok(), op,
                   [&] { return RestoreJson(*r, *target, *dry_run); }, [&] { return RestoreText(*r, *target, *dry_run); });
  });
}

void DefineExport(CLI::App* cmd, Session& ses) {
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
  cmd->callback([&ses, args, ref, output, host, secrets_file] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    audit::ScopedAuditOp op(s->audit(), "config.export", {{"repository", s->url()}, {"snapshot", *ref}, {"output", *output}});
    ops::ConfigExportOptions o = ops::ConfigExportOptionsFor(s->config(), *host);
    // Only a file or the environment: an export must not stop at a prompt.
    std::optional<crypto::SecureBytes> pass;
    const char* env_pass = std::getenv(kSecretsPassphraseEnv);
    if (!secrets_file->empty() || (env_pass && *env_pass)) {
      auto p = SecretsPassphrase(*secrets_file, true);
      if (!p.ok()) return EndCommand(ses, p.status(), op);
      pass = std::move(*p);
      o.secrets_passphrase = &*pass;
    }
    auto r = ops::ExportConfig(s->repo(), *ref, *output, o);
    if (r.ok()) op.Touch(r->snapshot_id);
    EndCommand(
        ses, r, op,
        [&](const ops::ConfigExportResult& e) {
          return json{{"snapshot", e.snapshot_id}, {"output", *output}, {"files", e.files}, {"secrets", e.secrets},
                      {"encrypted_now", e.encrypted_now}};
        },
        [&](const ops::ConfigExportResult& e) {
          std::vector<std::string> lines;
          for (const auto& p : e.encrypted_now) lines.push_back("encrypted " + p + " (stored in clear by an older backup)");
          lines.push_back("exported config snapshot " + e.snapshot_id.substr(0, 12) + " to " + *output + ": " + std::to_string(e.files) +
                          " files, " + std::to_string(e.secrets) + " secrets as .secrets/*.gpg (open with `gpg --decrypt`)");
          return Lines(lines);
        });
  });
}

void DefineImport(CLI::App* cmd, Session& ses) {
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
  cmd->callback([&ses, archive, target, secrets_file, dry_run, decrypt] {
    auto log = ses.audit_log();  // audited with or without a config
    if (!log.ok()) return EndCommand(ses, log.status());
    audit::ScopedAuditOp op(*log, "config.import", {{"archive", *archive}, {"target", *target}, {"dry_run", *dry_run}});
    std::optional<crypto::SecureBytes> pass;
    if (*decrypt && !*dry_run) {
      auto p = SecretsPassphrase(*secrets_file, true);
      if (!p.ok()) return EndCommand(ses, p.status(), op);
      pass = std::move(*p);
    }
    ops::ConfigImportOptions o;
    o.dry_run = *dry_run;
    if (pass) o.secrets_passphrase = &*pass;
    auto r = ops::ImportConfigArchive(*archive, *target, o);
    if (!r.ok()) return EndCommand(ses, r.status(), op);
    std::string msg = "imported config " + r->config_file + " does not validate:";
    for (const auto& p : r->problems) msg += "\n  " + p;
    EndWithVerdict(
        ses, r->problems.empty() ? Status::Ok() : InvalidArgument(msg), op,
        [&] {
          return json{{"archive", *archive}, {"target", *target}, {"entries", r->entries}, {"files", r->stats.files}, {"dirs", r->stats.dirs},
                      {"symlinks", r->stats.symlinks}, {"hardlinks", r->stats.hardlinks}, {"secrets_decrypted", r->secrets_decrypted},
                      {"config", r->config_file}, {"problems", r->problems}};
        },
        [&] {
          return std::string(*dry_run ? "checked " : "imported ") + *archive + ": " + std::to_string(r->entries) + " entries, all safe" +
                 (*dry_run ? "" : "; " + std::to_string(r->stats.files) + " files, " + std::to_string(r->secrets_decrypted) + " secrets decrypted");
        });
  });
}

void SetUpConfig(CLI::App& app, Session& ses) {
  auto* cfg = app.add_subcommand("config", "Back up, restore, export and import the node's configuration (docs/config-backup.md)");
  cfg->require_subcommand(1);
  DefineBackup(cfg->add_subcommand("backup",
                                   "Store the config directory, .env, compose and proxy files as a config snapshot; every secret (listed,\n"
                                   "named by the config, owner-only, or key-shaped) encrypted with OpenPGP (stock `gpg --decrypt` opens\n"
                                   "them). Unchanged files cost nothing."),
               ses);
  DefineRestore(cfg->add_subcommand("restore",
                                    "Show the diff, then restore each file atomically with modes and owners, secrets decrypted, and\n"
                                    "validate the config; an invalid result is rolled back. 'latest' is this node's newest."),
                ses);
  DefineExport(cfg->add_subcommand("export", "Write a config snapshot as a plain .tar.gz (secrets stay .gpg ciphertext)"), ses);
  DefineImport(cfg->add_subcommand("import", "Extract a .tar.gz after refusing unsafe entries (absolute, '..', escaping links, devices, duplicates)"), ses);
}

void SetUpRestoreConfig(CLI::App& app, Session& ses) {
  DefineRestore(app.add_subcommand("restore-config", "Same as `config restore`"), ses);
}

}  // namespace

void SetUpConfigCommand(CLI::App& app, Session& s) { SetUpConfig(app, s); }
void SetUpRestoreConfigCommand(CLI::App& app, Session& s) { SetUpRestoreConfig(app, s); }
// `backup config`, added to the `backup` group of cmd_backup_restore.cc (main.cc's table).
void SetUpBackupConfigSubcommand(CLI::App& backup, Session& s) {
  DefineBackup(backup.add_subcommand("config", "Same as `config backup`"), s);
}
// `restore config SNAPSHOT --target DIR`, the runbook's spelling.
void SetUpRestoreConfigSubcommand(CLI::App& restore, Session& s) {
  DefineRestore(restore.add_subcommand("config", "Restore a config snapshot (same as `config restore`)"), s);
}

}  // namespace ailee::cli
