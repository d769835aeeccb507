// backup state, restore, apply-checkpoint: moving node state into and out
// of the repository (jobs: ops/state/). Named to sort where the commands
// appear in --help: registration follows link order until main.cc lists
// the commands.
#include <cctype>
#include <cstdio>
#include <optional>

#include "audit/scoped_op.h"
#include "base/clock.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/repo_session.h"
#include "cli/replicate.h"
#include "cli/secrets_passphrase.h"
#include "cli/session.h"
#include "config/node_access.h"
#include "ops/metrics/job_samples.h"
#include "ops/recovery_point/backup_all.h"
#include "ops/state/backup.h"
#include "ops/state/checkpoint_apply.h"
#include "ops/state/checkpoint_transfer.h"
#include "ops/state/point_in_time.h"
#include "ops/state/restore.h"
#include "repo/restore.h"
#include "repo/snapshot.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

nlohmann::ordered_json BackupJson(const ops::StateBackupResult& r, const json& replicated) {
  const auto& st = r.backup.stats;
  return {{"snapshot", repo::IdHex(r.backup.snapshot_id)}, {"parent", r.parent}, {"height", r.checkpoint.height},
          {"block_hash", crypto::HashToHex(r.checkpoint.block_hash)}, {"state_root", crypto::HashToHex(r.checkpoint.state_root)},
          {"source", r.checkpoint.source}, {"files", st.files}, {"files_unchanged", st.files_unchanged},
          {"bytes_total", st.bytes_total}, {"bytes_read", st.bytes_read}, {"bytes_new", st.bytes_new},
          {"bytes_stored", st.bytes_stored}, {"packs_written", st.packs_written},
          {"seconds", static_cast<double>(st.duration_ms) / 1000}, {"replicated", replicated}};
}

std::string BackupText(const ops::StateBackupResult& r, const std::string& node_id, bool full) {
  const auto& st = r.backup.stats;
  return "snapshot " + repo::IdHex(r.backup.snapshot_id).substr(0, 12) + " of node " + node_id + " at height " +
         std::to_string(r.checkpoint.height) + " (" + (full ? "full" : "incremental") + "): " + std::to_string(st.files) +
         " files, " + HumanBytes(st.bytes_total) + "; read " + HumanBytes(st.bytes_read) + ", new " +
         HumanBytes(st.bytes_new) + ", stored " + HumanBytes(st.bytes_stored) + " in " + HumanSeconds(st.duration_ms);
}

// The state source of a node's config (online through its API, else its
// stopped data dir): shared by `backup state` and `backup all`.
ops::StateSourceOptions StateSourceOf(const config::NodeConfig& cfg, const std::string& url, const std::string& data_dir,
                                      bool offline) {
  ops::StateSourceOptions source;
  source.node_id = cfg.node.id;
  source.data_dir = data_dir.empty() ? cfg.node.data_dir : data_dir;
  source.node_url = url.empty() ? config::NodeUrl(cfg) : url;
  source.offline = offline;
  source.read_admin_token = [&cfg] { return config::ReadAdminToken(cfg); };
  return source;
}

struct BackupAllArgs {
  RepoArgs repo;
  bool offline = false;
  std::vector<std::string> tags;
  std::string note;
  std::string secrets_file;
};

nlohmann::ordered_json BackupAllJson(const ops::BackupAllResult& r, const json& replicated) {
  return {{"recovery_point", r.recovery_point_id},
          {"height", r.state.checkpoint.height},
          {"block_hash", crypto::HashToHex(r.state.checkpoint.block_hash)},
          {"state_root", crypto::HashToHex(r.state.checkpoint.state_root)},
          {"state_snapshot", repo::IdHex(r.state.backup.snapshot_id)},
          {"config_snapshot", repo::IdHex(r.config.backup.snapshot_id)},
          {"config_secrets_encrypted", r.config.secrets.size()},
          {"logs_snapshot", r.logs.snapshot_id},
          {"logs_archived", r.logs.archived.size()},
          {"logs_skipped", r.logs_skipped},
          {"bytes_stored", r.state.backup.stats.bytes_stored + r.config.backup.stats.bytes_stored + r.logs.stats.bytes_stored},
          {"replicated", replicated}};
}

std::string BackupAllText(const ops::BackupAllResult& r, const std::string& node_id) {
  const auto short_id = [](const std::string& id) { return id.substr(0, 12); };
  return Lines({BackupText(r.state, node_id, true),
                "config snapshot " + short_id(repo::IdHex(r.config.backup.snapshot_id)) + ": " + std::to_string(r.config.files) +
                    " files, " + std::to_string(r.config.secrets.size()) + " secret(s) encrypted",
                !r.logs_skipped.empty()    ? "logs: skipped, " + r.logs_skipped
                : r.logs.snapshot_id.empty() ? "logs: no rotated logs to archive"
                                           : "logs snapshot " + short_id(r.logs.snapshot_id) + ": " +
                                                 std::to_string(r.logs.archived.size()) + " rotated log(s)",
                "recovery point " + short_id(r.recovery_point_id) + " at height " + std::to_string(r.state.checkpoint.height) +
                    " (restore it with `ailee-cli restore " + short_id(r.recovery_point_id) + " --target DIR`)"});
}

void SetUpBackupAll(CLI::App* backup, Session& session) {
  auto* cmd = backup->add_subcommand(
      "all",
      "Before maintenance: a full state backup, the configuration (secrets encrypted), the rotated logs, and a\n"
      "recovery point naming the three, written last so it always names a complete set. Removes nothing: no local\n"
      "log is deleted and no archive forgotten. `restore RECOVERY_POINT --target DIR` restores its state.");
  auto a = std::make_shared<BackupAllArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_flag("--offline", a->offline, "do not ask a running node; open the data dir (node must be stopped)");
  cmd->add_option("--tag", a->tags, "tag every snapshot taken (repeatable)");
  cmd->add_option("--note", a->note, "recorded in the recovery point, e.g. \"before upgrade to 1.4\"");
  cmd->add_option("--secrets-passphrase-file", a->secrets_file,
                  "file holding the config secrets passphrase (else $AILEE_SECRETS_PASSPHRASE or a prompt)");
  cmd->callback([&session, a] {
    auto s = RepoSession::Open(session, a->repo);
    if (!s.ok()) return EndCommand(session, s.status());
    if (!s->config()) return EndCommand(session, InvalidArgument("backup all needs the node's config (--config)"));
    const auto& cfg = *s->config();
    audit::ScopedAuditOp op(s->audit(), "backup.all", {{"repository", s->url()}, {"node_id", cfg.node.id}, {"note", a->note}});
    auto pass = SecretsPassphrase(a->secrets_file, false);
    if (!pass.ok()) return EndCommand(session, pass.status(), op);
    ops::BackupAllOptions o;
    o.node_id = cfg.node.id;
    o.state.resolve_source = StateSourceOf(cfg, "", "", a->offline);
    o.state.zstd_level = cfg.backup.compression_level;
    o.state.audit_head = s->AuditHead();
    o.config = ops::ConfigBackupOptionsFor(s->config(), session.global().config_path);
    o.config.audit_head = s->AuditHead();
    if (*pass) o.config.secrets_passphrase = &**pass;
    o.logs = ops::LogArchiveOptionsFor(s->config(), "");
    o.logs_optional = cfg.logging.log_file.empty();
    o.logs.audit_head = s->AuditHead();
    o.tags = a->tags;
    o.note = a->note;
    ProgressLine progress(session.global(), "backup all");
    o.state.progress = [&](const repo::BackupProgress& p) { progress.Update("state", p.bytes_done, p.bytes_total); };
    o.on_part = [&](const std::string&, const std::string& id) { op.Touch(id); };
    auto r = ops::BackupAll(s->repo(), o);
    progress.Done();
    if (!r.ok()) return EndCommand(session, r.status(), op);
    op.Touch("state_root:" + crypto::HashToHex(r->state.checkpoint.state_root));
    // Every snapshot goes to the secondaries, the recovery point last.
    std::vector<ReplicationOutcome> replicated, state_copies;
    Status copies = Status::Ok();
    for (const auto& id : r->snapshot_ids) {
      auto outcomes = ReplicateToSecondaries(session.global(), *s, id);
      if (id == r->snapshot_ids.front()) state_copies = outcomes;
      if (Status st = ReplicationStatus(outcomes, id); !st.ok() && copies.ok()) copies = st;
      replicated.insert(replicated.end(), outcomes.begin(), outcomes.end());
    }
    session.AddMetrics(ops::metrics::StateBackupSamples(r->state, state_copies, cfg.backup.min_copies));
    AuditRecord record([&](const Status& verdict) {
      Status audited = op.Finish(Status::Ok());
      return audited.ok() ? verdict : audited;
    });
    EndWithVerdict(session, copies, record, [&] { return BackupAllJson(*r, ReplicationJson(replicated)); },
                   [&] { return BackupAllText(*r, cfg.node.id); });
  });
}

void SetUpBackup(CLI::App& app, Session& session) {
  auto* backup = app.add_subcommand("backup", "Back up node state (and with `all`, config and logs too) into the repository");
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
  cmd->callback([&session, args, full, offline, tags, url, data_dir, compression] {
    const GlobalOptions& g = session.global();
    auto s = RepoSession::Open(session, *args);
    if (!s.ok()) return EndCommand(session, s.status());
    if (!s->config()) return EndCommand(session, InvalidArgument("backup state needs the node's config (--config) for its data dir and admin token"));
    const auto& cfg = *s->config();
    int zstd_level = cfg.backup.compression_level;
    if (!compression->empty()) {
      auto level = config::ParseCompression(*compression);
      if (!level) return EndCommand(session, InvalidArgument("--compression " + *compression + ": expected auto, fast, max, off, or a zstd level 1-19"));
      zstd_level = *level;
    }
    audit::ScopedAuditOp op(s->audit(), "backup.state", {{"repository", s->url()}, {"full", *full}, {"node_id", cfg.node.id}});
    ops::StateBackupOptions o;
    o.resolve_source = StateSourceOf(cfg, *url, *data_dir, *offline);
    o.full = *full;
    o.zstd_level = zstd_level;
    o.tags = *tags;
    o.audit_head = s->AuditHead();
    ProgressLine progress(g, "backup");
    o.progress = [&](const repo::BackupProgress& p) { progress.Update(*full ? "full" : "incremental", p.bytes_done, p.bytes_total); };
    auto r = ops::BackupState(s->repo(), o);
    progress.Done();
    if (!r.ok()) return EndCommand(session, r.status(), op);
    const std::string id = repo::IdHex(r->backup.snapshot_id);
    op.Touch(id);
    op.Touch("state_root:" + crypto::HashToHex(r->checkpoint.state_root));
    // The snapshot is safe in the primary; the summary first, then the
    // copies (backup.secondary_repositories), each its own audited
    // operation printing its own line.
    PrintLine(g, BackupText(*r, cfg.node.id, *full));
    auto replicated = ReplicateToSecondaries(g, *s, id);
    session.AddMetrics(ops::metrics::StateBackupSamples(*r, replicated, cfg.backup.min_copies));
    // The backup's own record says ok (it is in the primary); the verdict
    // (the exit code) says whether every copy got it too.
    AuditRecord record([&](const Status& verdict) {
      Status audited = op.Finish(Status::Ok());
      return audited.ok() ? verdict : audited;
    });
    EndWithVerdict(session, ReplicationStatus(replicated, id), record,
                   [&] { return BackupJson(*r, ReplicationJson(replicated)); }, [] { return std::string(); });
  });  SetUpBackupAll(backup, session);
}

nlohmann::ordered_json KeptAsideJson(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(text);
}

// The unproven state a restore replaced without keeping it (null otherwise).
nlohmann::ordered_json DiscardedJson(const ops::KeptAside& k) {
  if (!k.stale) return nullptr;
  nlohmann::ordered_json j = {{"unproven", true}};
  j["source"] = KeptAsideJson(k.discarded_source);
  j["height"] = k.discarded_source.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(k.discarded_height);
  return j;
}

nlohmann::ordered_json RestoreJson(const ops::StateRestoreResult& r, const std::string& target) {
  return {{"snapshot", r.snapshot_id}, {"snapshot_height", r.snapshot_height}, {"blocks_replayed", r.blocks_replayed},
          {"transactions_replayed", r.transactions_replayed}, {"target", target}, {"height", r.height},
          {"state_root", crypto::HashToHex(r.state_root)}, {"verified", r.verified}, {"files", r.stats.files},
          {"bytes", r.stats.bytes}, {"files_reused", r.stats.files_reused}, {"bytes_fetched", r.stats.bytes_fetched},
          {"seconds", static_cast<double>(r.stats.duration_ms) / 1000}, {"proof_pending", r.proof_pending},
          {"kept_aside", KeptAsideJson(r.kept_aside.dir)},
          {"stale_kept_aside", r.kept_aside.stale},
          {"kept_aside_since", r.kept_aside.since_unix ? KeptAsideJson(FormatUtc(r.kept_aside.since_unix))
                                                       : nlohmann::ordered_json()},
          {"discarded", DiscardedJson(r.kept_aside)}};
}

// Which data dir the node falls back to if the proof fails, and, when the
// target was itself unproven, that its state is gone and the fallback older.
std::string KeptAsideText(const ops::KeptAside& k) {
  if (k.dir.empty()) return "";
  const std::string since = k.since_unix ? " since " + FormatUtc(k.since_unix) : std::string();
  if (!k.stale) return "; the replaced data dir is kept at " + k.dir + " until then";
  const std::string what = k.discarded_source.empty()
                               ? std::string("its proof-pending marker is unreadable")
                               : k.discarded_source + ", height " + std::to_string(k.discarded_height);
  return "; the data dir replaced held an unproven state (" + what + "), which is discarded, not kept; the fallback "
         "if this proof fails stays the OLDER data dir kept at " + k.dir + since + " by an earlier restore";
}

std::string ProofText(const ops::StateRestoreResult& r) {
  if (r.verified) return "proven: height " + std::to_string(r.height) + ", state root " + crypto::HashToHex(r.state_root);
  if (!r.proof_pending) return "NOT verified (--no-verify)";
  return "NOT proven yet: ailee-node proves it in the background when it starts (height " + std::to_string(r.height) +
         ") and signs and serves nothing until it passes" + KeptAsideText(r.kept_aside);
}

std::string RestoreText(const ops::StateRestoreResult& r, const std::string& target) {
  const std::string replayed =
      r.blocks_replayed == 0 ? std::string()
                             : " at height " + std::to_string(r.snapshot_height) + ", rolled forward with " +
                                   std::to_string(r.blocks_replayed) + " archived blocks (" +
                                   std::to_string(r.snapshot_height + 1) + ".." + std::to_string(r.height) + ", " +
                                   std::to_string(r.transactions_replayed) + " transactions)";
  return "restored snapshot " + r.snapshot_id.substr(0, 12) + replayed + " to " + target + ": " +
         std::to_string(r.stats.files) + " files, " + HumanBytes(r.stats.bytes) + " (" +
         std::to_string(r.stats.files_reused) + " reused) in " + HumanSeconds(r.stats.duration_ms) + "; " +
         ProofText(r);
}

struct RestoreArgs {
  RepoArgs repo;
  std::string ref, target, kind, host, to_time;
  bool force = false, no_verify = false, no_replay = false, prove_in_background = false;
  std::optional<uint64_t> to_height, to_anchor;
};

// --to-time: RFC 3339 (2026-12-02T21:30:00Z, fractions and +hh:mm offsets
// allowed) or unix milliseconds.
Result<int64_t> ParseTimeArg(const std::string& text) {
  if (!text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos) {
    return static_cast<int64_t>(std::stoll(text));
  }
  const auto bad = [&] {
    return InvalidArgument("--to-time " + text + ": expected RFC 3339 (2026-12-02T21:30:00Z, 2026-12-02T22:30:00.250+01:00) "
                           "or unix milliseconds");
  };
  if (text.size() < 20 || text[10] != 'T') return bad();
  int64_t secs = 0;
  if (!ParseUtc(text.substr(0, 19) + "Z", &secs)) return bad();
  size_t i = 19;
  int64_t ms = 0;
  if (i < text.size() && text[i] == '.') {
    int64_t scale = 100;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, scale /= 10) ms += (text[i] - '0') * scale;
  }
  const std::string zone = text.substr(i);
  if (zone == "Z" || zone == "z") return secs * 1000 + ms;
  int hh = 0, mm = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || std::sscanf(zone.c_str() + 1, "%2d:%2d", &hh, &mm) != 2) return bad();
  const int64_t offset = (hh * 3600 + mm * 60) * (zone[0] == '+' ? 1 : -1);
  return (secs - offset) * 1000 + ms;
}

// The point-in-time flags as a replay target; nullopt when none is given.
Result<std::optional<ops::ReplayTarget>> TargetOf(const RestoreArgs& a) {
  if (!a.to_height && !a.to_anchor && a.to_time.empty()) return std::optional<ops::ReplayTarget>();
  ops::ReplayTarget t;
  t.height = a.to_height;
  t.anchor = a.to_anchor;
  if (!a.to_time.empty()) {
    ASSIGN_OR_RETURN(t.time_ms, ParseTimeArg(a.to_time));
  }
  return std::optional<ops::ReplayTarget>(t);
}

Result<ops::StateRestoreResult> RestoreStateTo(Session& session, RepoSession& s, const repo::Snapshot* snap,
                                               const RestoreArgs& a, const std::string& node_id) {
  const GlobalOptions& g = session.global();
  ASSIGN_OR_RETURN(auto target, TargetOf(a));
  ProgressLine progress(g, "restore");
  auto on_fetch = [&](const repo::RestoreProgress& p) { progress.Update("restore", p.bytes_done, p.bytes_total); };
  std::string why_no_federation;
  if (snap != nullptr) {  // a snapshot named by id: restored as it is
    ops::StateRestoreOptions o;
    o.force = a.force;
    o.verify = !a.no_verify;
    o.prove_in_background = a.prove_in_background;
    o.federation = session.FederationIfConfigured(&why_no_federation);
    o.progress = on_fetch;
    auto r = ops::RestoreStateSnapshot(s.repo(), *snap, a.target, o);
    progress.Done();
    return r;
  }
  ops::PointInTimeOptions o;
  o.node_id = node_id;
  o.target = target;
  o.replay = !a.no_replay;
  o.federation = session.FederationIfConfigured(&why_no_federation);
  if (const auto* cfg = session.config_if_loaded()) o.commitment_interval = static_cast<uint64_t>(cfg->node.commitment_interval);
  o.force = a.force;
  o.verify = !a.no_verify;
  o.prove_in_background = a.prove_in_background;
  o.progress = on_fetch;
  o.replay_progress = [&](uint64_t h, uint64_t to) { progress.Update("replay", h, to); };
  auto r = ops::RestoreToPoint(s.repo(), a.target, o);
  progress.Done();
  return r;
}

Status CheckRestoreArgs(const RestoreArgs& a, bool point_in_time) {
  if (a.target.empty()) return InvalidArgument("restore: --target DIR is required");
  if (!point_in_time && a.ref.empty()) {
    return InvalidArgument("restore: SNAPSHOT is required (an id, a unique prefix, or 'latest'), or --to-height, "
                           "--to-time or --to-anchor");
  }
  if (point_in_time && !a.ref.empty() && a.ref != "latest") {
    return InvalidArgument("restore " + a.ref + ": --to-height, --to-time and --to-anchor choose the snapshot "
                           "themselves (the newest at or below the height); leave SNAPSHOT out");
  }
  if (point_in_time && a.no_replay) return InvalidArgument("--no-replay cannot reach a height: leave out --to-*");
  if (point_in_time && !a.kind.empty() && a.kind != "state") return InvalidArgument("--to-* restores node state only");
  if (a.prove_in_background && !a.kind.empty() && a.kind != "state")
    return InvalidArgument("--prove-in-background: only node state is proven (by the node that starts on it)");
  return Status::Ok();
}

void SetUpRestore(CLI::App& app, Session& session) {
  auto* cmd = app.add_subcommand(
      "restore",
      "Restore a node state snapshot into DIR: built beside DIR, proven there (its state root recomputed from\n"
      "scratch must equal the snapshot's), and only then swapped in atomically, reusing files already in DIR. A\n"
      "snapshot that fails its proof leaves DIR untouched. 'latest' is the newest state of this node (node.id from\n"
      "the config, or --host): with a block archive, its newest state snapshot rolled forward to the last archived\n"
      "block; --to-height/--to-time/--to-anchor: the newest snapshot at or below that block, rolled forward to it\n"
      "(each block verified: chain, signatures, state root) before the proof. Config and logs snapshots: `restore\n"
      "config`, `logs restore`, or --kind to write their tree as is. Refuses a non-empty DIR without --force, and a\n"
      "DIR a running node holds.");
  auto a = std::make_shared<RestoreArgs>();
  AddRepoOptions(cmd, a->repo);
  // Not marked required: `restore config SNAPSHOT ...` (a subcommand added by
  // cmd_config_backup.cc) takes over the line instead.
  cmd->add_option("SNAPSHOT", a->ref, "snapshot id, unique prefix, or 'latest'");
  cmd->add_option("--target,-t", a->target, "directory to restore into");
  cmd->add_flag("--force", a->force, "replace a non-empty target");
  cmd->add_flag("--no-verify", a->no_verify, "skip the state-root proof (not recommended)");
  cmd->add_flag("--prove-in-background", a->prove_in_background,
                "swap in without the proof and mark DIR proof-pending: ailee-node proves it when it starts and signs\n"
                "and serves nothing until it passes (docs/recovery.md); a replaced DIR is kept at DIR.before-restore\n"
                "until then")
      ->excludes("--no-verify");
  cmd->add_option("--kind", a->kind, "state (default), or config / logs to write such a snapshot's tree into DIR as is");
  cmd->add_option("--host", a->host, "whose snapshot 'latest' means: a node id (default: node.id from the config)");
  auto* h = cmd->add_option("--to-height", a->to_height, "point in time: the state right after this block");
  auto* t = cmd->add_option("--to-time", a->to_time,
                            "point in time: after the last block at or before T (RFC 3339, or unix milliseconds)");
  auto* n = cmd->add_option("--to-anchor", a->to_anchor, "point in time: at the block of the Nth anchor commitment");
  h->excludes(t)->excludes(n);
  t->excludes(n);
  cmd->add_flag("--no-replay", a->no_replay, "'latest' is the newest state snapshot as it is, no archived blocks replayed");
  cmd->callback([&session, cmd, a] {
    for (auto* sub : cmd->get_subcommands()) {
      if (sub->parsed()) return;  // `restore config ...` ran instead
    }
    const bool point_in_time = a->to_height || a->to_anchor || !a->to_time.empty();
    if (Status bad = CheckRestoreArgs(*a, point_in_time); !bad.ok()) return EndCommand(session, bad);
    auto s = RepoSession::Open(session, a->repo);
    if (!s.ok()) return EndCommand(session, s.status());
    const std::string ref = a->ref.empty() ? "latest" : a->ref;
    audit::ScopedAuditOp op(s->audit(), "restore", {{"repository", s->url()}, {"snapshot", ref}, {"target", a->target},
                                                    {"force", a->force}, {"to_height", a->to_height ? json(*a->to_height) : json()},
                                                    {"to_time", a->to_time}, {"to_anchor", a->to_anchor ? json(*a->to_anchor) : json()}});
    // This node's state by default; config and logs of any host unless --host.
    const bool state_kind = a->kind.empty() || a->kind == "state";
    const auto* cfg = session.config_if_loaded();
    const std::string node_id = !a->host.empty() ? a->host : state_kind && cfg ? cfg->node.id : std::string();
    if (state_kind && ref == "latest") {
      auto r = RestoreStateTo(session, *s, nullptr, *a, node_id);
      if (r.ok()) op.Touch(r->snapshot_id);
      return EndCommand(session, r, op, [&](const auto& x) { return RestoreJson(x, a->target); },
                        [&](const auto& x) { return RestoreText(x, a->target); });
    }
    auto snap = ops::ChooseRestoreSnapshot(s->repo(), ref, ops::RestoreChoice{a->kind, node_id});
    if (!snap.ok()) return EndCommand(session, snap.status(), op);
    op.Touch(snap->id_hex());
    if (snap->kind == "state") {
      auto r = RestoreStateTo(session, *s, &*snap, *a, node_id);
      return EndCommand(session, r, op, [&](const auto& x) { return RestoreJson(x, a->target); },
                        [&](const auto& x) { return RestoreText(x, a->target); });
    }
    ProgressLine progress(session.global(), "restore");
    repo::RestoreOptions ro;
    ro.force = a->force;
    ro.progress = [&](const repo::RestoreProgress& p) { progress.Update("restore", p.bytes_done, p.bytes_total); };
    auto r = repo::RestoreSnapshot(s->repo(), *snap, a->target, ro);
    progress.Done();
    EndCommand(
        session, r, op,
        [&](const repo::RestoreStats& st) {
          return json{{"snapshot", snap->id_hex()}, {"target", a->target}, {"files", st.files}, {"bytes", st.bytes}};
        },
        [&](const repo::RestoreStats& st) {
          return "restored " + snap->kind + " snapshot " + snap->id_hex().substr(0, 12) + " to " + a->target + ": " +
                 std::to_string(st.files) + " files, " + HumanBytes(st.bytes) + " (every file checked against its SHA-256)";
        });
  });
}

nlohmann::ordered_json ApplyJson(const state::ApplyReport& r, const std::string& src, const std::string& target) {
  return {{"source", src}, {"target", target}, {"height", r.manifest.height},
          {"state_root", crypto::HashToHex(r.manifest.state_root)}, {"files", r.files}, {"files_reused", r.files_reused},
          {"bytes_written", r.bytes_written}, {"bytes_reused", r.bytes_reused}};
}

std::string ApplyText(const state::ApplyReport& r, const std::string& src, const std::string& target) {
  return "applied checkpoint " + src + " (height " + std::to_string(r.manifest.height) + ") to " + target + ": " +
         std::to_string(r.files) + " files, " + std::to_string(r.files_reused) + " unchanged, " +
         HumanBytes(r.bytes_written) + " written";
}

std::string ApplySnapshotText(const ops::StateRestoreResult& r, const std::string& target) {
  return "applied snapshot " + r.snapshot_id.substr(0, 12) + " (height " + std::to_string(r.height) + ") to " + target +
         ": " + std::to_string(r.stats.files_reused) + " of " + std::to_string(r.stats.files) + " files unchanged, " +
         HumanBytes(r.stats.bytes_fetched) + " fetched; state root proven";
}

struct ApplyArgs {
  RepoArgs repo;
  std::string src, target;
  bool allow_rollback = false;
};

// SRC a directory or a checkpoint URL: no repository involved.
void ApplyCheckpointFrom(Session& session, const ApplyArgs& a) {
  auto log = session.audit_log();  // audited with or without a config
  if (!log.ok()) return EndCommand(session, log.status());
  audit::ScopedAuditOp op(*log, "apply-checkpoint", {{"source", a.src}, {"target", a.target}});
  ProgressLine progress(session.global(), "apply-checkpoint");
  ops::CheckpointApplyOptions o;
  o.source = a.src;
  o.target = a.target;
  std::string why;
  o.federation = session.FederationIfConfigured(&why);
  o.allow_rollback = a.allow_rollback;
  o.progress = [&](const std::string& p, uint64_t d, uint64_t t) { progress.Update(p, d, t); };
  auto r = ops::ApplyCheckpoint(o);
  progress.Done();
  if (r.ok()) op.Touch("state_root:" + crypto::HashToHex(r->manifest.state_root));
  EndCommand(session, r, op, [&](const auto& x) { return ApplyJson(x, a.src, a.target); },
             [&](const auto& x) { return ApplyText(x, a.src, a.target); });
}

// SRC a snapshot reference: a restore over the target.
void ApplySnapshot(Session& session, const ApplyArgs& a) {
  auto s = RepoSession::Open(session, a.repo);
  if (!s.ok()) {
    return EndCommand(session, s.status().WithContext(a.src + " is not a directory, so it was taken as a snapshot reference"));
  }
  audit::ScopedAuditOp op(s->audit(), "apply-checkpoint", {{"repository", s->url()}, {"snapshot", a.src}, {"target", a.target}});
  ProgressLine progress(session.global(), "apply-checkpoint");
  ops::StateRestoreOptions o;
  o.force = true;  // applying replaces the target's state by definition
  o.refuse_rollback = !a.allow_rollback;
  std::string why;
  o.federation = session.FederationIfConfigured(&why);
  if (const auto* cfg = session.config_if_loaded()) o.node_id = cfg->node.id;  // whose state 'latest' is
  o.progress = [&](const repo::RestoreProgress& p) { progress.Update("apply", p.bytes_done, p.bytes_total); };
  auto r = ops::RestoreState(s->repo(), a.src, a.target, o);
  progress.Done();
  if (r.ok()) op.Touch(r->snapshot_id);
  EndCommand(session, r, op, [&](const auto& x) { return RestoreJson(x, a.target); },
             [&](const auto& x) { return ApplySnapshotText(x, a.target); });
}

void SetUpApplyCheckpoint(CLI::App& app, Session& session) {
  auto* cmd = app.add_subcommand(
      "apply-checkpoint",
      "Make DIR the state of SRC, writing only files that differ. SRC is a checkpoint directory, or a state\n"
      "snapshot of the repository (id, prefix or 'latest'), or a checkpoint uploaded by `create-checkpoint --output\n"
      "s3://...` (downloaded beside DIR). SRC is verified first, as verify-checkpoint does; the new state is built\n"
      "beside DIR, proven, and swapped in atomically: a crash leaves the old or the new state, never a mix. The node\n"
      "using DIR must be stopped. A SRC older than DIR's tip, or of another chain, needs --allow-rollback.");
  auto a = std::make_shared<ApplyArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_option("SRC", a->src, "checkpoint directory, checkpoint URL (s3://bucket/prefix), or snapshot reference")->required();
  cmd->add_option("--target,-t", a->target, "node data dir to update")->required();
  cmd->add_flag("--allow-rollback", a->allow_rollback,
                "replace a target whose tip is higher than SRC's, or on another chain (refused otherwise)");
  cmd->callback([&session, a] {
    if (fs::IsDirectory(a->src) || ops::IsRemoteCheckpointUrl(a->src)) return ApplyCheckpointFrom(session, *a);
    ApplySnapshot(session, *a);
  });
}

}  // namespace

void SetUpBackupCommand(CLI::App& app, Session& s) { SetUpBackup(app, s); }
void SetUpRestoreCommand(CLI::App& app, Session& s) { SetUpRestore(app, s); }
void SetUpApplyCheckpointCommand(CLI::App& app, Session& s) { SetUpApplyCheckpoint(app, s); }

}  // namespace ailee::cli
