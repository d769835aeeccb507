// Repository commands: repo init, repo key add/list/remove, snapshots,
// forget, prune, verify.
#include "audit/scoped_op.h"
#include "base/clock.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/context.h"
#include "cli/repo_session.h"
#include "ops/state/restore.h"
#include "ops/state/snapshot_check.h"
#include "repo/prune.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "storage/object_store.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

struct KdfArgs {
  uint64_t memory_mib = 256;
  uint64_t iterations = 3;
  crypto::Argon2Params params() const { return {iterations, memory_mib << 20}; }
};

void AddKdfOptions(CLI::App* cmd, KdfArgs& k) {
  cmd->add_option("--kdf-memory-mib", k.memory_mib, "Argon2id memory per key slot, MiB")->capture_default_str();
  cmd->add_option("--kdf-iterations", k.iterations, "Argon2id passes")->capture_default_str();
}

void SetUpRepo(CLI::App& app, GlobalOptions& g) {
  auto* repo = app.add_subcommand("repo", "Create a repository and manage its key slots");
  repo->require_subcommand(1);

  {
    auto* cmd = repo->add_subcommand("init", "Create an encrypted repository (file:///path by default).\n"
                                             "The passphrase comes from --passphrase-file, $AILEE_REPO_PASSPHRASE or a prompt.");
    auto args = std::make_shared<RepoArgs>();
    auto kdf = std::make_shared<KdfArgs>();
    AddRepoOptions(cmd, *args);
    AddKdfOptions(cmd, *kdf);
    cmd->callback([&g, args, kdf] {
      auto s = RepoSession::Prepare(g, *args);
      if (!s.ok()) return SetResult(s.status());
      audit::ScopedAuditOp op(s->audit(), "repo.init", {{"repository", s->url()}});
      auto store = storage::OpenObjectStore(s->url());
      if (!store.ok()) return SetResult(op.Finish(store.status()));
      repo::InitOptions io;
      io.kdf = kdf->params();
      auto r = repo::Repository::Init(*store, s->passphrase().view(), io);
      if (!r.ok()) return SetResult(op.Finish(r.status()));
      s->repo_ptr() = std::move(r).value();
      s->RecordAuditHeads();  // repo.init's own line is the first head the new repository records
      op.Touch(s->repo().config().id);
      if (g.json) PrintJson({{"ok", true}, {"repository", s->url()}, {"id", s->repo().config().id}});
      PrintLine(g, "created repository " + s->repo().config().id.substr(0, 12) + " at " + s->url());
      SetResult(op.Finish(Status::Ok()));
    });
  }

  auto* key = repo->add_subcommand("key", "Manage the passphrases and key files (key slots) that open the repository");
  key->require_subcommand(1);
  {
    auto* cmd = key->add_subcommand(
        "add",
        "Add a passphrase (new one from --new-passphrase-file, $AILEE_NEW_REPO_PASSPHRASE or a prompt), or with\n"
        "--key-file PATH a random 256-bit key file for unattended backups: point --passphrase-file (or\n"
        "backup.passphrase_file) at it and the repository opens without the Argon2id delay. Keep it as secret\n"
        "as a passphrase file; `repo key remove` revokes it.");
    auto args = std::make_shared<RepoArgs>();
    auto kdf = std::make_shared<KdfArgs>();
    auto new_file = std::make_shared<std::string>();
    auto key_file = std::make_shared<std::string>();
    AddRepoOptions(cmd, *args);
    AddKdfOptions(cmd, *kdf);
    cmd->add_option("--new-passphrase-file", *new_file, "file holding the new passphrase");
    cmd->add_option("--key-file", *key_file, "create this key file (mode 0600, must not exist) instead of adding a passphrase")
        ->excludes("--new-passphrase-file");
    cmd->callback([&g, args, kdf, new_file, key_file] {
      auto s = RepoSession::Open(g, *args);
      if (!s.ok()) return SetResult(s.status());
      const bool is_key_file = !key_file->empty();
      audit::ScopedAuditOp op(s->audit(), "repo.key.add",
                              {{"repository", s->url()}, {"kind", is_key_file ? "key-file" : "passphrase"}});
      auto add = [&]() -> Result<std::string> {
        if (!is_key_file) {
          ASSIGN_OR_RETURN(auto pass, ReadNewPassphrase(*new_file));
          return s->repo().AddKey(pass.view(), kdf->params());
        }
        // The file first: a slot whose key was never stored would be useless,
        // a stored key without a slot is merely unused.
        crypto::SecureBytes secret = repo::NewKeyFile();
        crypto::SecureBytes line(secret.size() + 1);
        std::copy_n(secret.data(), secret.size(), line.data());
        line.data()[secret.size()] = '\n';
        RETURN_IF_ERROR(fs::WriteFileExclusive(*key_file, line.view(), 0600).WithContext("write key file"));
        return s->repo().AddKeyFile(secret.view());
      };
      auto id = add();
      if (!id.ok()) return SetResult(op.Finish(id.status()));
      op.Touch(*id);
      if (g.json) PrintJson({{"ok", true}, {"key_id", *id}, {"kind", is_key_file ? "key-file" : "passphrase"}});
      PrintLine(g, "added key slot " + *id + (is_key_file ? " opened by key file " + *key_file : ""));
      SetResult(op.Finish(Status::Ok()));
    });
  }
  {
    auto* cmd = key->add_subcommand("list", "List key slots");
    auto args = std::make_shared<RepoArgs>();
    AddRepoOptions(cmd, *args);
    cmd->callback([&g, args] {
      auto s = RepoSession::Open(g, *args);
      if (!s.ok()) return SetResult(s.status());
      auto keys = s->repo().ListKeys();
      if (!keys.ok()) return SetResult(keys.status());
      json arr = json::array();
      std::vector<std::string> damaged;
      for (const auto& k : *keys) {
        bool current = k.id == s->repo().current_key_id();
        const std::string kind(repo::KeySlotKindName(k.kind));
        arr.push_back({{"id", k.id}, {"created", FormatUtc(k.created_ms / 1000)}, {"host", k.host}, {"user", k.user},
                       {"kind", kind}, {"current", current}, {"damaged", k.damaged}});
        if (k.damaged) damaged.push_back(k.id);
        // A damaged slot's metadata is not trustworthy: only its id is shown.
        PrintLine(g, std::string(current ? "* " : "  ") + k.id + "  " +
                         (k.damaged ? std::string("DAMAGED (content does not match its name; replace it: repo key add, then repo key remove)")
                                    : FormatUtc(k.created_ms / 1000) + "  " + k.user + "@" + k.host + "  " + kind));
      }
      if (g.json) PrintJson(arr);
      if (!damaged.empty()) {
        return SetResult(DataLoss(std::to_string(damaged.size()) + " key slot(s) damaged: " +
                                  repo::DamagedKeySlotMessage(damaged.front(), s->url()) +
                                  "; open with another passphrase or key file, `repo key add` a new one, then `repo key remove " +
                                  damaged.front() + "`"));
      }
      SetResult(Status::Ok());
    });
  }
  {
    auto* cmd = key->add_subcommand("remove", "Remove a key slot (never the last one)");
    auto args = std::make_shared<RepoArgs>();
    auto id = std::make_shared<std::string>();
    AddRepoOptions(cmd, *args);
    cmd->add_option("ID", *id, "key slot id or unique prefix")->required();
    cmd->callback([&g, args, id] {
      auto s = RepoSession::Open(g, *args);
      if (!s.ok()) return SetResult(s.status());
      audit::ScopedAuditOp op(s->audit(), "repo.key.remove", {{"repository", s->url()}, {"key_id", *id}});
      Status st = s->repo().RemoveKey(*id);
      if (st.ok()) PrintLine(g, "removed key slot " + *id);
      if (st.ok() && g.json) PrintJson({{"ok", true}, {"removed", *id}});
      SetResult(op.Finish(st));
    });
  }
}

json SnapshotJson(const repo::Snapshot& s) {
  return {{"id", s.id_hex()}, {"time", FormatUtc(s.time_ms / 1000)}, {"time_ms", s.time_ms}, {"host", s.host},
          {"kind", s.kind}, {"tags", s.tags}, {"parent", s.parent}, {"files", s.files.size()},
          {"bytes", s.total_bytes}, {"meta", s.meta}};
}

void SetUpSnapshots(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("snapshots", "List snapshots in the repository (oldest first)");
  auto args = std::make_shared<RepoArgs>();
  auto kind = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--kind", *kind, "only snapshots of this kind (state, config, logs)");
  cmd->callback([&g, args, kind] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    auto list = repo::ListSnapshots(s->repo());
    if (!list.ok()) return SetResult(list.status());
    json arr = json::array();
    for (const auto& snap : list->snapshots) {
      if (!kind->empty() && snap.kind != *kind) continue;
      arr.push_back(SnapshotJson(snap));
      std::string detail;
      if (snap.kind == "state") {
        detail = "height " + std::to_string(snap.meta.value("height", 0ull)) + " root " + snap.meta.value("state_root", "").substr(0, 16);
      }
      PrintLine(g, snap.id_hex().substr(0, 12) + "  " + FormatUtc(snap.time_ms / 1000) + "  " + snap.kind + "  " +
                       HumanBytes(snap.total_bytes) + "  " + detail);
    }
    for (const auto& [id, st] : list->damaged) PrintLine(g, "DAMAGED snapshot " + repo::IdHex(id) + ": " + st.message());
    if (g.json) {
      json damaged = json::array();
      for (const auto& [id, st] : list->damaged) damaged.push_back({{"id", repo::IdHex(id)}, {"error", st.message()}});
      PrintJson({{"snapshots", arr}, {"damaged", damaged}});
    }
    SetResult(list->damaged.empty() ? Status::Ok() : DataLoss(std::to_string(list->damaged.size()) + " snapshot(s) are damaged"));
  });
}

void SetUpForget(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("forget", "Remove snapshots by retention policy (then run prune to free space).\n"
                                           "The runbook's policy: --keep-daily 30 --keep-monthly 12");
  auto args = std::make_shared<RepoArgs>();
  auto p = std::make_shared<repo::RetentionPolicy>();
  auto dry = std::make_shared<bool>(false);
  auto prune = std::make_shared<bool>(false);
  auto kind = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--keep-last", p->keep_last, "keep the N most recent");
  cmd->add_option("--keep-hourly", p->keep_hourly, "keep the last snapshot of each of the N latest hours");
  cmd->add_option("--keep-daily", p->keep_daily, "... days");
  cmd->add_option("--keep-weekly", p->keep_weekly, "... weeks");
  cmd->add_option("--keep-monthly", p->keep_monthly, "... months");
  cmd->add_option("--keep-yearly", p->keep_yearly, "... years");
  cmd->add_option("--kind", *kind, "only consider snapshots of this kind");
  cmd->add_flag("--dry-run,-n", *dry, "show what would be removed, change nothing");
  cmd->add_flag("--prune", *prune, "prune unreferenced data afterwards");
  cmd->callback([&g, args, p, dry, prune, kind] {
    if (p->empty()) return SetResult(InvalidArgument("no --keep-* option given: refusing to forget every snapshot"));
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "forget", {{"repository", s->url()}, {"dry_run", *dry}});
    repo::ForgetOptions fo;
    fo.policy = *p;
    fo.dry_run = *dry;
    fo.filter.kind = *kind;
    auto decisions = repo::Forget(s->repo(), fo);
    if (!decisions.ok()) return SetResult(op.Finish(decisions.status()));
    json arr = json::array();
    size_t removed = 0;
    for (const auto& d : *decisions) {
      json entry = {{"id", repo::IdHex(d.snapshot_id)}, {"time", FormatUtc(d.time_ms / 1000)}, {"kind", d.kind}, {"keep", d.keep}, {"reasons", d.reasons}};
      if (d.locked_until_ms > 0) entry["locked_until"] = FormatUtc(d.locked_until_ms / 1000);
      arr.push_back(std::move(entry));
      std::string reasons;
      for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : ",") + r;
      if (d.locked_until_ms > 0) reasons += " until " + FormatUtc(d.locked_until_ms / 1000) + " by Object Lock";
      PrintLine(g, std::string(d.keep ? "keep   " : (*dry ? "would remove " : "remove ")) + repo::IdHex(d.snapshot_id).substr(0, 12) + "  " +
                       FormatUtc(d.time_ms / 1000) + "  " + d.kind + (reasons.empty() ? "" : "  (" + reasons + ")"));
      if (!d.keep) {
        removed++;
        if (!*dry) op.Touch(repo::IdHex(d.snapshot_id));
      }
    }
    json out = {{"decisions", arr}, {"removed", removed}, {"dry_run", *dry}};
    if (*prune && !*dry) {
      auto stats = repo::Prune(s->repo(), {});
      if (!stats.ok()) return SetResult(op.Finish(stats.status()));
      out["prune"] = {{"packs_deleted", stats->packs_deleted}, {"bytes_deleted", stats->bytes_deleted}};
      PrintLine(g, "pruned " + std::to_string(stats->packs_deleted) + " packs, " + HumanBytes(stats->bytes_deleted) + " freed");
    }
    if (g.json) PrintJson(out);
    SetResult(op.Finish(Status::Ok()));
  });
}

void SetUpPrune(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("prune", "Delete data no snapshot references. Never runs while a backup holds its lock.");
  auto args = std::make_shared<RepoArgs>();
  auto dry = std::make_shared<bool>(false);
  AddRepoOptions(cmd, *args);
  cmd->add_flag("--dry-run,-n", *dry, "show what would be deleted");
  cmd->callback([&g, args, dry] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "prune", {{"repository", s->url()}, {"dry_run", *dry}});
    repo::PruneOptions po;
    po.dry_run = *dry;
    auto st = repo::Prune(s->repo(), po);
    if (!st.ok()) return SetResult(op.Finish(st.status()));
    if (g.json) {
      PrintJson({{"snapshots", st->snapshots}, {"packs_total", st->packs_total}, {"packs_deleted", st->packs_deleted},
                 {"bytes_deleted", st->bytes_deleted}, {"packs_partly_used", st->packs_partly_used},
                 {"bytes_unused_kept", st->bytes_unused_kept}, {"packs_retained", st->packs_retained},
                 {"index_files_retained", st->index_files_retained},
                 {"retained_until", st->retained_until_ms > 0 ? FormatUtc(st->retained_until_ms / 1000) : ""}, {"dry_run", *dry}});
    }
    if (st->packs_retained > 0 || st->index_files_retained > 0) {
      PrintLine(g, "kept " + std::to_string(st->packs_retained) + " unreferenced packs and " +
                       std::to_string(st->index_files_retained) + " index files under Object Lock retention (until " +
                       FormatUtc(st->retained_until_ms / 1000) + "); a prune after that reclaims them");
    }
    PrintLine(g, std::string(*dry ? "would delete " : "deleted ") + std::to_string(st->packs_deleted) + " of " +
                     std::to_string(st->packs_total) + " packs (" + HumanBytes(st->bytes_deleted) + "); " +
                     std::to_string(st->packs_partly_used) + " partly used packs kept (" + HumanBytes(st->bytes_unused_kept) + " unused)");
    SetResult(op.Finish(Status::Ok()));
  });
}

void SetUpVerify(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Verify the repository. Default: structure (every referenced object exists, every manifest is authentic).\n"
      "--read-data: decrypt and hash every object and file, and open every state snapshot's database read-only\n"
      "(its MANIFEST and table file identities; no data blocks). --restore-test: restore the latest state snapshot\n"
      "into a scratch dir and prove it with the state-root check against the snapshot.");
  auto args = std::make_shared<RepoArgs>();
  auto read_data = std::make_shared<bool>(false);
  auto restore_test = std::make_shared<bool>(false);
  auto scratch = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_flag("--read-data", *read_data, "decrypt and re-hash all data");
  cmd->add_flag("--restore-test", *restore_test, "restore the latest state snapshot and prove it");
  cmd->add_option("--scratch-dir", *scratch, "where the restore test restores (default: $TMPDIR or /tmp)");
  cmd->callback([&g, args, read_data, restore_test, scratch] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "verify", {{"repository", s->url()}, {"read_data", *read_data}, {"restore_test", *restore_test}});
    ProgressLine progress(g, "verify");
    repo::VerifyOptions vo;
    vo.read_data = *read_data;
    vo.progress = [&](uint64_t d, uint64_t t) { progress.Update(*read_data ? "read-data" : "structure", d, t); };
    // What a restore would find: a state snapshot's files must form a
    // database that opens (table file identities match the MANIFEST).
    vo.check_snapshot = [&s](const repo::Snapshot& snap) {
      return snap.kind == "state" ? ops::CheckStateSnapshotOpens(s->repo(), snap) : Status::Ok();
    };
    auto r = repo::Verify(s->repo(), vo);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    json out = {{"snapshots", r->snapshots}, {"index_files", r->index_files}, {"packs", r->packs}, {"blobs", r->blobs},
                {"files_checked", r->files_checked}, {"snapshots_checked", r->snapshots_checked}, {"bytes_read", r->bytes_read}, {"unreferenced_packs", r->unreferenced_packs}};
    json problems = json::array();
    for (const auto& p : r->problems) {
      problems.push_back({{"object", p.object}, {"snapshot", p.snapshot_id}, {"path", p.path}, {"pack", p.pack_id},
                          {"blob", p.blob_id}, {"message", p.message}});
      PrintLine(g, "BAD: " + p.ToString());
    }
    out["problems"] = problems;
    PrintLine(g, std::string(r->ok() ? "OK" : "FAILED") + ": " + std::to_string(r->snapshots) + " snapshots, " +
                     std::to_string(r->packs) + " packs, " + std::to_string(r->blobs) + " blobs" +
                     (*read_data ? ", " + HumanBytes(r->bytes_read) + " read and authenticated" : ""));
    Status result = r->ok() ? Status::Ok() : DataLoss(std::to_string(r->problems.size()) + " problem(s): " + r->problems.front().ToString());
    if (*restore_test && result.ok()) {
      std::string dir = !scratch->empty() ? *scratch : std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
      std::optional<state::Federation> fed;
      if (s->config()) {
        auto f = FederationOf(*s->config());
        if (f.ok()) fed = std::move(*f);
      }
      auto rt = ops::RestoreTest(s->repo(), dir, fed);
      if (!rt.ok()) {
        result = rt.status().WithContext("restore test");
        out["restore_test"] = {{"ok", false}, {"error", rt.status().message()}};
        PrintLine(g, "FAILED restore test: " + rt.status().message());
      } else {
        out["restore_test"] = {{"ok", true}, {"snapshot", rt->snapshot_id}, {"height", rt->height},
                               {"state_root", crypto::HashToHex(rt->state_root)}, {"bytes", rt->stats.bytes},
                               {"seconds", static_cast<double>(rt->stats.duration_ms) / 1000}};
        PrintLine(g, "OK restore test: snapshot " + rt->snapshot_id.substr(0, 12) + " restored (" + HumanBytes(rt->stats.bytes) +
                         ") and proven: height " + std::to_string(rt->height) + ", state root " + crypto::HashToHex(rt->state_root) +
                         " recomputed from scratch");
      }
    }
    out["ok"] = result.ok();
    if (g.json) PrintJson(out);
    SetResult(op.Finish(result));
  });
}

}  // namespace

AILEE_REGISTER_COMMAND(repo, "repo", SetUpRepo);
AILEE_REGISTER_COMMAND(snapshots, "snapshots", SetUpSnapshots);
AILEE_REGISTER_COMMAND(forget, "forget", SetUpForget);
AILEE_REGISTER_COMMAND(prune, "prune", SetUpPrune);
AILEE_REGISTER_COMMAND(verify, "verify", SetUpVerify);

}  // namespace ailee::cli
