// backup state, restore, apply-checkpoint: moving node state into and out
// of the repository (jobs: ops/state/). Named to sort where the commands
// appear in --help: registration follows link order until main.cc lists
// the commands.
#include "audit/scoped_op.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/session.h"
#include "config/node_access.h"
#include "cli/repo_session.h"
#include "cli/replicate.h"
#include "ops/state/backup.h"
#include "ops/state/checkpoint_apply.h"
#include "ops/state/checkpoint_transfer.h"
#include "ops/state/restore.h"
#include "repo/restore.h"
#include "repo/snapshot.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

void SetUpBackup(CLI::App& app, GlobalOptions& g) {
  auto* backup = app.add_subcommand("backup", "Back up node state into the repository");
  backup->require_subcommand(1);
  auto* cmd = backup->add_subcommand(
      "state",
      "Take a consistent checkpoint of the node's state (through the running node, or the stopped data dir) and\n"
      "store what the repository lacks. Incremental by default: files unchanged since the node's last state\n"
      "snapshot are not read again. --full re-reads and re-hashes every file (each object is still stored once).");
  auto args = std::make_shared<RepoArgs>();
  auto full = std::make_shared<bool>(false);
  auto offline = std::make_shared<bool>(false);
  auto tags = std::make_shared<std::vector<std::string>>();
  auto url = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  auto compression = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_flag("--full", *full, "re-read and re-hash every file (the runbook's daily full backup)");
  cmd->add_flag("--offline", *offline, "do not ask a running node; open the data dir (node must be stopped)");
  cmd->add_option("--tag", *tags, "tag the snapshot (repeatable)");
  cmd->add_option("--url", *url, "node API URL (default: from the config)");
  cmd->add_option("--data-dir", *data_dir, "data dir (default: from the config)");
  cmd->add_option("--compression", *compression,
                  "auto (default; zstd level 2 where a sample shows it pays), fast (level 1), max (level 9),\n"
                  "off, or a zstd level 1-19 (default: backup.compression from the config)");
  cmd->callback([&g, args, full, offline, tags, url, data_dir, compression] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    if (!s->config()) return SetResult(InvalidArgument("backup state needs the node's config (--config) for its data dir and admin token"));
    const auto& cfg = *s->config();
    int zstd_level = cfg.backup.compression_level;
    if (!compression->empty()) {
      auto level = config::ParseCompression(*compression);
      if (!level) return SetResult(InvalidArgument("--compression " + *compression + ": expected auto, fast, max, off, or a zstd level 1-19"));
      zstd_level = *level;
    }
    audit::ScopedAuditOp op(s->audit(), "backup.state", {{"repository", s->url()}, {"full", *full}, {"node_id", cfg.node.id}});
    ops::StateBackupOptions o;
    ops::StateSourceOptions source;
    source.node_id = cfg.node.id;
    source.data_dir = data_dir->empty() ? cfg.node.data_dir : *data_dir;
    source.node_url = url->empty() ? NodeUrl(cfg) : *url;
    source.offline = *offline;
    source.read_admin_token = [&cfg] { return ReadAdminToken(cfg); };
    o.resolve_source = source;
    o.full = *full;
    o.zstd_level = zstd_level;
    o.tags = *tags;
    o.audit_head = s->AuditHead();
    ProgressLine progress(g, "backup");
    o.progress = [&](const repo::BackupProgress& p) { progress.Update(*full ? "full" : "incremental", p.bytes_done, p.bytes_total); };
    auto r = ops::BackupState(s->repo(), o);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    const auto& st = r->backup.stats;
    std::string id = repo::IdHex(r->backup.snapshot_id);
    op.Touch(id);
    op.Touch("state_root:" + crypto::HashToHex(r->checkpoint.state_root));
    json out = {{"snapshot", id}, {"parent", r->parent}, {"height", r->checkpoint.height},
                {"block_hash", crypto::HashToHex(r->checkpoint.block_hash)}, {"state_root", crypto::HashToHex(r->checkpoint.state_root)},
                {"source", r->checkpoint.source}, {"files", st.files}, {"files_unchanged", st.files_unchanged},
                {"bytes_total", st.bytes_total}, {"bytes_read", st.bytes_read}, {"bytes_new", st.bytes_new},
                {"bytes_stored", st.bytes_stored}, {"packs_written", st.packs_written}, {"seconds", static_cast<double>(st.duration_ms) / 1000}};
    PrintLine(g, "snapshot " + id.substr(0, 12) + " of node " + cfg.node.id + " at height " + std::to_string(r->checkpoint.height) +
                     " (" + (*full ? "full" : "incremental") + "): " + std::to_string(st.files) + " files, " + HumanBytes(st.bytes_total) +
                     "; read " + HumanBytes(st.bytes_read) + ", new " + HumanBytes(st.bytes_new) + ", stored " + HumanBytes(st.bytes_stored) +
                     " in " + HumanSeconds(st.duration_ms));
    // The snapshot is safe in the primary; now the copies
    // (backup.secondary_repositories), each its own audited operation.
    auto replicated = ReplicateToSecondaries(g, *s, id);
    out["replicated"] = ReplicationJson(replicated);
    if (g.json) PrintJson(out);
    Status audited = op.Finish(Status::Ok());
    SetResult(audited.ok() ? ReplicationStatus(replicated, id) : audited);
  });
}

json RestoreJson(const ops::StateRestoreResult& r, const std::string& target) {
  return {{"snapshot", r.snapshot_id}, {"target", target}, {"height", r.height}, {"state_root", crypto::HashToHex(r.state_root)},
          {"verified", r.verified}, {"files", r.stats.files}, {"bytes", r.stats.bytes}, {"files_reused", r.stats.files_reused},
          {"bytes_fetched", r.stats.bytes_fetched}, {"seconds", static_cast<double>(r.stats.duration_ms) / 1000}};
}

std::optional<state::Federation> SessionFederation(RepoSession& s) {
  if (!s.config()) return std::nullopt;
  auto f = FederationOf(*s.config());
  if (!f.ok()) return std::nullopt;
  return std::move(*f);
}

void SetUpRestore(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "restore",
      "Restore a node state snapshot into DIR: built beside DIR, proven there (its state root recomputed from\n"
      "scratch must equal the snapshot's), and only then swapped in atomically, reusing files already in DIR. A\n"
      "snapshot that fails its proof leaves DIR untouched. 'latest' is the newest state snapshot of this node\n"
      "(node.id from the config, or --host). Config and logs snapshots: `restore config`, `logs restore`, or\n"
      "--kind to write their tree as is. Refuses a non-empty DIR without --force, and a DIR a running node holds.");
  auto args = std::make_shared<RepoArgs>();
  auto ref = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto no_verify = std::make_shared<bool>(false);
  auto kind = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  // Not marked required: `restore config SNAPSHOT ...` (a subcommand added by
  // cmd_config_backup.cc) takes over the line instead.
  cmd->add_option("SNAPSHOT", *ref, "snapshot id, unique prefix, or 'latest'");
  cmd->add_option("--target,-t", *target, "directory to restore into");
  cmd->add_flag("--force", *force, "replace a non-empty target");
  cmd->add_flag("--no-verify", *no_verify, "skip the state-root proof (not recommended)");
  cmd->add_option("--kind", *kind, "state (default), or config / logs to write such a snapshot's tree into DIR as is");
  cmd->add_option("--host", *host, "whose snapshot 'latest' means: a node id (default: node.id from the config)");
  cmd->callback([&g, cmd, args, ref, target, force, no_verify, kind, host] {
    for (auto* sub : cmd->get_subcommands()) {
      if (sub->parsed()) return;  // `restore config ...` ran instead
    }
    if (ref->empty()) return SetResult(InvalidArgument("restore: SNAPSHOT is required (an id, a unique prefix, or 'latest')"));
    if (target->empty()) return SetResult(InvalidArgument("restore: --target DIR is required"));
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "restore", {{"repository", s->url()}, {"snapshot", *ref}, {"target", *target}, {"force", *force}});
    // This node's state by default; config and logs of any host unless --host.
    const bool state_kind = kind->empty() || *kind == "state";
    const std::string node_id = !host->empty()                 ? *host
                                : state_kind && s->config() ? s->config()->node.id
                                                            : std::string();
    auto snap = ops::ChooseRestoreSnapshot(s->repo(), *ref, ops::RestoreChoice{*kind, node_id});
    if (!snap.ok()) return SetResult(op.Finish(snap.status()));
    op.Touch(snap->id_hex());
    ProgressLine progress(g, "restore");
    if (snap->kind == "state") {
      ops::StateRestoreOptions o;
      o.force = *force;
      o.verify = !*no_verify;
      o.federation = SessionFederation(*s);
      o.progress = [&](const repo::RestoreProgress& p) { progress.Update("restore", p.bytes_done, p.bytes_total); };
      auto r = ops::RestoreStateSnapshot(s->repo(), *snap, *target, o);
      progress.Done();
      if (!r.ok()) return SetResult(op.Finish(r.status()));
      if (g.json) PrintJson(RestoreJson(*r, *target));
      PrintLine(g, "restored snapshot " + r->snapshot_id.substr(0, 12) + " to " + *target + ": " + std::to_string(r->stats.files) +
                       " files, " + HumanBytes(r->stats.bytes) + " (" + std::to_string(r->stats.files_reused) + " reused) in " +
                       HumanSeconds(r->stats.duration_ms) + "; " +
                       (r->verified ? "proven: height " + std::to_string(r->height) + ", state root " + crypto::HashToHex(r->state_root)
                                    : std::string("NOT verified (--no-verify)")));
      return SetResult(op.Finish(Status::Ok()));
    }
    repo::RestoreOptions ro;
    ro.force = *force;
    ro.progress = [&](const repo::RestoreProgress& p) { progress.Update("restore", p.bytes_done, p.bytes_total); };
    auto r = repo::RestoreSnapshot(s->repo(), *snap, *target, ro);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    if (g.json) PrintJson({{"snapshot", snap->id_hex()}, {"target", *target}, {"files", r->files}, {"bytes", r->bytes}});
    PrintLine(g, "restored " + snap->kind + " snapshot " + snap->id_hex().substr(0, 12) + " to " + *target + ": " +
                     std::to_string(r->files) + " files, " + HumanBytes(r->bytes) + " (every file checked against its SHA-256)");
    SetResult(op.Finish(Status::Ok()));
  });
}

void SetUpApplyCheckpoint(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "apply-checkpoint",
      "Make DIR the state of SRC, writing only files that differ. SRC is a checkpoint directory, or a state\n"
      "snapshot of the repository (id, prefix or 'latest'), or a checkpoint uploaded by `create-checkpoint --output\n"
      "s3://...` (downloaded beside DIR). SRC is verified first, as verify-checkpoint does; the new state is built\n"
      "beside DIR, proven, and swapped in atomically: a crash leaves the old or the new state, never a mix. The node\n"
      "using DIR must be stopped. A SRC older than DIR's tip, or of another chain, needs --allow-rollback.");
  auto args = std::make_shared<RepoArgs>();
  auto src = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto allow_rollback = std::make_shared<bool>(false);
  AddRepoOptions(cmd, *args);
  cmd->add_option("SRC", *src, "checkpoint directory, checkpoint URL (s3://bucket/prefix), or snapshot reference")->required();
  cmd->add_option("--target,-t", *target, "node data dir to update")->required();
  cmd->add_flag("--allow-rollback", *allow_rollback,
                "replace a target whose tip is higher than SRC's, or on another chain (refused otherwise)");
  cmd->callback([&g, args, src, target, allow_rollback] {
    ProgressLine progress(g, "apply-checkpoint");
    if (fs::IsDirectory(*src) || ops::IsRemoteCheckpointUrl(*src)) {
      auto log = OpenAuditLogFor(g);  // audited with or without a config
      if (!log.ok()) return SetResult(log.status());
      audit::ScopedAuditOp op(log->get(), "apply-checkpoint", {{"source", *src}, {"target", *target}});
      ops::CheckpointApplyOptions o;
      o.source = *src;
      o.target = *target;
      std::string why;
      o.federation = FederationIfConfigured(g, &why);
      o.allow_rollback = *allow_rollback;
      o.progress = [&](const std::string& p, uint64_t d, uint64_t t) { progress.Update(p, d, t); };
      auto r = ops::ApplyCheckpoint(o);
      progress.Done();
      if (!r.ok()) return SetResult(op.Finish(r.status()));
      op.Touch("state_root:" + crypto::HashToHex(r->manifest.state_root));
      if (g.json) {
        PrintJson({{"source", *src}, {"target", *target}, {"height", r->manifest.height},
                   {"state_root", crypto::HashToHex(r->manifest.state_root)}, {"files", r->files}, {"files_reused", r->files_reused},
                   {"bytes_written", r->bytes_written}, {"bytes_reused", r->bytes_reused}});
      }
      PrintLine(g, "applied checkpoint " + *src + " (height " + std::to_string(r->manifest.height) + ") to " + *target + ": " +
                       std::to_string(r->files) + " files, " + std::to_string(r->files_reused) + " unchanged, " +
                       HumanBytes(r->bytes_written) + " written");
      return SetResult(op.Finish(Status::Ok()));
    }
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) {
      return SetResult(s.status().WithContext(*src + " is not a directory, so it was taken as a snapshot reference"));
    }
    audit::ScopedAuditOp op(s->audit(), "apply-checkpoint", {{"repository", s->url()}, {"snapshot", *src}, {"target", *target}});
    ops::StateRestoreOptions o;
    o.force = true;  // applying replaces the target's state by definition
    o.refuse_rollback = !*allow_rollback;
    o.federation = SessionFederation(*s);
    if (s->config()) o.node_id = s->config()->node.id;  // whose state 'latest' is
    o.progress = [&](const repo::RestoreProgress& p) { progress.Update("apply", p.bytes_done, p.bytes_total); };
    auto r = ops::RestoreState(s->repo(), *src, *target, o);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    op.Touch(r->snapshot_id);
    if (g.json) PrintJson(RestoreJson(*r, *target));
    PrintLine(g, "applied snapshot " + r->snapshot_id.substr(0, 12) + " (height " + std::to_string(r->height) + ") to " + *target + ": " +
                     std::to_string(r->stats.files_reused) + " of " + std::to_string(r->stats.files) + " files unchanged, " +
                     HumanBytes(r->stats.bytes_fetched) + " fetched; state root proven");
    SetResult(op.Finish(Status::Ok()));
  });
}

}  // namespace

void SetUpBackupCommand(CLI::App& app, Session& s) { SetUpBackup(app, s.global()); }
void SetUpRestoreCommand(CLI::App& app, Session& s) { SetUpRestore(app, s.global()); }
void SetUpApplyCheckpointCommand(CLI::App& app, Session& s) { SetUpApplyCheckpoint(app, s.global()); }

}  // namespace ailee::cli
