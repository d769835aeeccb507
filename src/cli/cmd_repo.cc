// Repository commands: repo init, repo key add/list/remove, snapshots,
// forget, prune, verify. (`repo status` is cmd_copy.cc's, added to the
// group by main.cc's table.)
#include "audit/scoped_op.h"
#include "base/clock.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/repo_session.h"
#include "ops/metrics/job_samples.h"
#include "ops/repository/forget.h"
#include "ops/repository/verify.h"
#include "ops/state/point_in_time.h"
#include "ops/state/restore.h"
#include "repo/key_file.h"
#include "repo/prune.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "repo/verify.h"

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

// ------------------------------------------------------------------ repo init
void SetUpInit(CLI::App* repo, Session& s) {
  auto* cmd = repo->add_subcommand("init", "Create an encrypted repository (file:///path by default).\n"
                                           "The passphrase comes from --passphrase-file, $AILEE_REPO_PASSPHRASE or a prompt.");
  auto args = std::make_shared<RepoArgs>();
  auto kdf = std::make_shared<KdfArgs>();
  AddRepoOptions(cmd, *args);
  AddKdfOptions(cmd, *kdf);
  cmd->callback([&s, args, kdf] {
    auto rs = RepoSession::Prepare(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    audit::ScopedAuditOp op(rs->audit(), "repo.init", {{"repository", rs->url()}});
    repo::InitOptions io;
    io.kdf = kdf->params();
    auto id = rs->InitRepository(io);
    if (id.ok()) op.Touch(*id);
    EndCommand(
        s, id, op, [&](const std::string& i) { return json{{"ok", true}, {"repository", rs->url()}, {"id", i}}; },
        [&](const std::string& i) { return "created repository " + i.substr(0, 12) + " at " + rs->url(); });
  });
}

// ------------------------------------------------------------------ repo key
Result<std::string> AddPassphraseSlot(repo::Repository& repo, const std::string& new_passphrase_file,
                                      const crypto::Argon2Params& params) {
  ASSIGN_OR_RETURN(auto pass, ReadNewPassphrase(new_passphrase_file));
  return repo.AddKey(pass.view(), params);
}

void SetUpKeyAdd(CLI::App* key, Session& s) {
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
  cmd->callback([&s, args, kdf, new_file, key_file] {
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    const bool is_key_file = !key_file->empty();
    const std::string kind = is_key_file ? "key-file" : "passphrase";
    audit::ScopedAuditOp op(rs->audit(), "repo.key.add", {{"repository", rs->url()}, {"kind", kind}});
    auto id = is_key_file ? repo::AddKeyFileSlot(rs->repo(), *key_file)
                          : AddPassphraseSlot(rs->repo(), *new_file, kdf->params());
    if (id.ok()) op.Touch(*id);
    EndCommand(
        s, id, op, [&](const std::string& i) { return json{{"ok", true}, {"key_id", i}, {"kind", kind}}; },
        [&](const std::string& i) { return "added key slot " + i + (is_key_file ? " opened by key file " + *key_file : ""); });
  });
}

Status KeyListVerdict(const std::vector<repo::KeyInfo>& keys, const std::string& url) {
  std::vector<std::string> damaged;
  for (const auto& k : keys)
    if (k.damaged) damaged.push_back(k.id);
  if (damaged.empty()) return Status::Ok();
  return DataLoss(std::to_string(damaged.size()) + " key slot(s) damaged: " +
                  repo::DamagedKeySlotMessage(damaged.front(), url) +
                  "; open with another passphrase or key file, `repo key add` a new one, then `repo key remove " +
                  damaged.front() + "`");
}

json KeyListJson(const std::vector<repo::KeyInfo>& keys, const std::string& current) {
  json arr = json::array();
  for (const auto& k : keys) {
    arr.push_back({{"id", k.id}, {"created", FormatUtc(k.created_ms / 1000)}, {"host", k.host}, {"user", k.user},
                   {"kind", std::string(repo::KeySlotKindName(k.kind))}, {"current", k.id == current},
                   {"damaged", k.damaged}});
  }
  return arr;
}

std::string KeyListText(const std::vector<repo::KeyInfo>& keys, const std::string& current) {
  std::vector<std::string> lines;
  for (const auto& k : keys) {
    // A damaged slot's metadata is not trustworthy: only its id is shown.
    lines.push_back(std::string(k.id == current ? "* " : "  ") + k.id + "  " +
                    (k.damaged ? std::string("DAMAGED (content does not match its name; replace it: repo key add, then repo key remove)")
                               : FormatUtc(k.created_ms / 1000) + "  " + k.user + "@" + k.host + "  " +
                                     std::string(repo::KeySlotKindName(k.kind))));
  }
  return Lines(lines);
}

void SetUpKeyList(CLI::App* key, Session& s) {
  auto* cmd = key->add_subcommand("list", "List key slots");
  auto args = std::make_shared<RepoArgs>();
  AddRepoOptions(cmd, *args);
  cmd->callback([&s, args] {
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    auto keys = rs->repo().ListKeys();
    if (!keys.ok()) return EndCommand(s, keys.status());
    const std::string current = rs->repo().current_key_id();
    EndWithVerdict(s, KeyListVerdict(*keys, rs->url()), {}, [&] { return KeyListJson(*keys, current); },
                   [&] { return KeyListText(*keys, current); });
  });
}

void SetUpKeyRemove(CLI::App* key, Session& s) {
  auto* cmd = key->add_subcommand("remove", "Remove a key slot (never the last one)");
  auto args = std::make_shared<RepoArgs>();
  auto id = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("ID", *id, "key slot id or unique prefix")->required();
  cmd->callback([&s, args, id] {
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    audit::ScopedAuditOp op(rs->audit(), "repo.key.remove", {{"repository", rs->url()}, {"key_id", *id}});
    EndCommand(s, rs->repo().RemoveKey(*id), op, [&] { return json{{"ok", true}, {"removed", *id}}; },
               [&] { return "removed key slot " + *id; });
  });
}

// ------------------------------------------------------------------ snapshots
json SnapshotJson(const repo::Snapshot& s) {
  return {{"id", s.id_hex()}, {"time", FormatUtc(s.time_ms / 1000)}, {"time_ms", s.time_ms}, {"host", s.host},
          {"kind", s.kind}, {"tags", s.tags}, {"parent", s.parent}, {"files", s.files.size()},
          {"bytes", s.total_bytes}, {"meta", s.meta}};
}

json SnapshotListJson(const repo::SnapshotListing& list, const std::string& kind) {
  json arr = json::array();
  for (const auto& snap : list.snapshots)
    if (kind.empty() || snap.kind == kind) arr.push_back(SnapshotJson(snap));
  json damaged = json::array();
  for (const auto& [id, st] : list.damaged) damaged.push_back({{"id", repo::IdHex(id)}, {"error", st.message()}});
  return {{"snapshots", arr}, {"damaged", damaged}};
}

std::string SnapshotListText(const repo::SnapshotListing& list, const std::string& kind) {
  std::vector<std::string> lines;
  for (const auto& snap : list.snapshots) {
    if (!kind.empty() && snap.kind != kind) continue;
    std::string detail;
    if (snap.kind == "state") {
      detail = "height " + std::to_string(snap.meta.value("height", 0ull)) + " root " + snap.meta.value("state_root", "").substr(0, 16);
    }
    lines.push_back(snap.id_hex().substr(0, 12) + "  " + FormatUtc(snap.time_ms / 1000) + "  " + snap.kind + "  " +
                    HumanBytes(snap.total_bytes) + "  " + detail);
  }
  for (const auto& [id, st] : list.damaged) lines.push_back("DAMAGED snapshot " + repo::IdHex(id) + ": " + st.message());
  return Lines(lines);
}

// ------------------------------------------------------------------ forget
using ForgetReport = ops::ForgetJobResult;

json ForgetJson(const ForgetReport& r, bool dry) {
  json arr = json::array();
  size_t removed = 0;
  for (const auto& d : r.decisions) {
    json entry = {{"id", repo::IdHex(d.snapshot_id)}, {"time", FormatUtc(d.time_ms / 1000)}, {"kind", d.kind}, {"keep", d.keep}, {"reasons", d.reasons}};
    if (d.locked_until_ms > 0) entry["locked_until"] = FormatUtc(d.locked_until_ms / 1000);
    arr.push_back(std::move(entry));
    removed += d.keep ? 0 : 1;
  }
  json out = {{"decisions", arr}, {"removed", removed}, {"dry_run", dry}};
  if (r.pruned) out["prune"] = {{"packs_deleted", r.pruned->packs_deleted}, {"bytes_deleted", r.pruned->bytes_deleted}};
  return out;
}

std::string ForgetText(const ForgetReport& r, bool dry) {
  std::vector<std::string> lines;
  for (const auto& d : r.decisions) {
    std::string reasons;
    for (const auto& why : d.reasons) reasons += (reasons.empty() ? "" : ",") + why;
    if (d.locked_until_ms > 0) reasons += " until " + FormatUtc(d.locked_until_ms / 1000) + " by Object Lock";
    lines.push_back(std::string(d.keep ? "keep   " : (dry ? "would remove " : "remove ")) + repo::IdHex(d.snapshot_id).substr(0, 12) +
                    "  " + FormatUtc(d.time_ms / 1000) + "  " + d.kind + (reasons.empty() ? "" : "  (" + reasons + ")"));
  }
  if (r.pruned) {
    lines.push_back("pruned " + std::to_string(r.pruned->packs_deleted) + " packs, " + HumanBytes(r.pruned->bytes_deleted) + " freed");
  }
  return Lines(lines);
}

// ------------------------------------------------------------------ prune
json PruneJson(const repo::PruneStats& st, bool dry) {
  return {{"snapshots", st.snapshots}, {"packs_total", st.packs_total}, {"packs_deleted", st.packs_deleted},
          {"bytes_deleted", st.bytes_deleted}, {"packs_partly_used", st.packs_partly_used},
          {"bytes_unused_kept", st.bytes_unused_kept}, {"packs_retained", st.packs_retained},
          {"index_files_retained", st.index_files_retained},
          {"retained_until", st.retained_until_ms > 0 ? FormatUtc(st.retained_until_ms / 1000) : ""}, {"dry_run", dry}};
}

std::string PruneText(const repo::PruneStats& st, bool dry) {
  std::vector<std::string> lines;
  if (st.packs_retained > 0 || st.index_files_retained > 0) {
    lines.push_back("kept " + std::to_string(st.packs_retained) + " unreferenced packs and " +
                    std::to_string(st.index_files_retained) + " index files under Object Lock retention (until " +
                    FormatUtc(st.retained_until_ms / 1000) + "); a prune after that reclaims them");
  }
  lines.push_back(std::string(dry ? "would delete " : "deleted ") + std::to_string(st.packs_deleted) + " of " +
                  std::to_string(st.packs_total) + " packs (" + HumanBytes(st.bytes_deleted) + "); " +
                  std::to_string(st.packs_partly_used) + " partly used packs kept (" + HumanBytes(st.bytes_unused_kept) + " unused)");
  return Lines(lines);
}

// ------------------------------------------------------------------ verify
struct VerifyArgs {
  RepoArgs repo;
  bool read_data = false;
  bool restore_test = false;
  std::string scratch;  // where the restore test restores
};

using RepoVerification = ops::RepositoryVerification;

// The config's federation, for the restore test's signature checks.
std::optional<state::Federation> FederationIfAny(const RepoSession& rs) {
  if (!rs.config()) return std::nullopt;
  auto f = FederationOf(*rs.config());
  if (!f.ok()) return std::nullopt;
  return std::move(*f);
}
using ops::VerdictOf;

json VerificationJson(const RepoVerification& v) {
  const repo::VerifyReport& r = v.report;
  json out = {{"snapshots", r.snapshots}, {"index_files", r.index_files}, {"packs", r.packs}, {"blobs", r.blobs},
              {"files_checked", r.files_checked}, {"snapshots_checked", r.snapshots_checked}, {"bytes_read", r.bytes_read}, {"unreferenced_packs", r.unreferenced_packs}};
  json problems = json::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"object", p.object}, {"snapshot", p.snapshot_id}, {"path", p.path}, {"pack", p.pack_id},
                        {"blob", p.blob_id}, {"message", p.message}});
  }
  out["problems"] = problems;
  if (v.restore_test && !v.restore_test->ok()) {
    out["restore_test"] = {{"ok", false}, {"error", v.restore_test->status().message()}};
  } else if (v.restore_test) {
    const ops::StateRestoreResult& rt = **v.restore_test;
    out["restore_test"] = {{"ok", true}, {"snapshot", rt.snapshot_id}, {"height", rt.height},
                           {"state_root", crypto::HashToHex(rt.state_root)}, {"bytes", rt.stats.bytes},
                           {"seconds", static_cast<double>(rt.stats.duration_ms) / 1000}};
  }
  out["ok"] = VerdictOf(v).ok();
  return out;
}

std::string VerificationText(const RepoVerification& v, bool read_data) {
  const repo::VerifyReport& r = v.report;
  std::vector<std::string> lines;
  for (const auto& p : r.problems) lines.push_back("BAD: " + p.ToString());
  lines.push_back(std::string(r.ok() ? "OK" : "FAILED") + ": " + std::to_string(r.snapshots) + " snapshots, " +
                  std::to_string(r.packs) + " packs, " + std::to_string(r.blobs) + " blobs" +
                  (read_data ? ", " + HumanBytes(r.bytes_read) + " read and authenticated" : ""));
  if (v.restore_test && !v.restore_test->ok()) {
    lines.push_back("FAILED restore test: " + v.restore_test->status().message());
  } else if (v.restore_test) {
    const ops::StateRestoreResult& rt = **v.restore_test;
    lines.push_back("OK restore test: snapshot " + rt.snapshot_id.substr(0, 12) + " restored (" + HumanBytes(rt.stats.bytes) +
                    ") and proven: height " + std::to_string(rt.height) + ", state root " + crypto::HashToHex(rt.state_root) +
                    " recomputed from scratch");
  }
  return Lines(lines);
}

}  // namespace

void SetUpRepoCommand(CLI::App& app, Session& s) {
  auto* repo = app.add_subcommand("repo", "Create a repository and manage its key slots");
  repo->require_subcommand(1);
  SetUpInit(repo, s);
  auto* key = repo->add_subcommand("key", "Manage the passphrases and key files (key slots) that open the repository");
  key->require_subcommand(1);
  SetUpKeyAdd(key, s);
  SetUpKeyList(key, s);
  SetUpKeyRemove(key, s);
}

void SetUpSnapshotsCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand("snapshots", "List snapshots in the repository (oldest first)");
  auto args = std::make_shared<RepoArgs>();
  auto kind = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--kind", *kind, "only snapshots of this kind (state, config, logs)");
  cmd->callback([&s, args, kind] {
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    auto list = repo::ListSnapshots(rs->repo());
    if (!list.ok()) return EndCommand(s, list.status());
    auto windows = ops::ListRecoveryWindows(rs->repo());  // per node: oldest snapshot .. last archived block
    if (!windows.ok()) return EndCommand(s, windows.status());
    Status verdict = list->damaged.empty() ? Status::Ok() : DataLoss(std::to_string(list->damaged.size()) + " snapshot(s) are damaged");
    EndWithVerdict(
        s, verdict, {}, [&] {
          json out = SnapshotListJson(*list, *kind);
          out["recovery_windows"] = ops::RecoveryWindowsJson(*windows);
          return out;
        },
        [&] {
          std::vector<std::string> lines;
          if (std::string text = SnapshotListText(*list, *kind); !text.empty()) lines.push_back(text);
          for (const auto& w : *windows) lines.push_back("recovery window of node " + w.node_id + ": " + ops::DescribeRecoveryWindow(w));
          return Lines(lines);
        });
  });
}

void SetUpForgetCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "forget",
      "Remove snapshots of one kind by retention policy (then run prune to free space). Each kind keeps its own\n"
      "retention, so --kind is required: the runbook keeps state --keep-daily 30 --keep-monthly 12, while logs\n"
      "stay 7 years (`logs archive --keep-archive 7y` forgets them). --kind all applies one policy to every kind.");
  auto args = std::make_shared<RepoArgs>();
  auto fo = std::make_shared<repo::ForgetOptions>();
  auto prune = std::make_shared<bool>(false);
  AddRepoOptions(cmd, *args);
  cmd->add_option("--keep-last", fo->policy.keep_last, "keep the N most recent");
  cmd->add_option("--keep-hourly", fo->policy.keep_hourly, "keep the last snapshot of each of the N latest hours");
  cmd->add_option("--keep-daily", fo->policy.keep_daily, "... days");
  cmd->add_option("--keep-weekly", fo->policy.keep_weekly, "... weeks");
  cmd->add_option("--keep-monthly", fo->policy.keep_monthly, "... months");
  cmd->add_option("--keep-yearly", fo->policy.keep_yearly, "... years");
  cmd->add_option("--kind", fo->filter.kind, "state, config, logs, recovery-point, drill-report, or all")->required();
  cmd->add_flag("--dry-run,-n", fo->dry_run, "show what would be removed, change nothing");
  cmd->add_flag("--prune", *prune, "prune unreferenced data afterwards");
  cmd->callback([&s, args, fo, prune] {
    if (fo->policy.empty()) return EndCommand(s, InvalidArgument("no --keep-* option given: refusing to forget every snapshot"));
    if (fo->filter.kind == "all") fo->filter.kind.clear();  // every kind, each (kind, host) group judged on its own
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    audit::ScopedAuditOp op(rs->audit(), "forget", {{"repository", rs->url()}, {"dry_run", fo->dry_run}});
    ops::ForgetJobOptions o{*fo, *prune, [&op](const repo::Id& id) { op.Touch(repo::IdHex(id)); }};
    auto r = ops::ForgetAndPrune(rs->repo(), o);
    if (r.ok()) s.AddMetrics(ops::metrics::ForgetSamples(*r));
    EndCommand(s, r, op, [&](const ForgetReport& f) { return ForgetJson(f, fo->dry_run); },
               [&](const ForgetReport& f) { return ForgetText(f, fo->dry_run); });
  });
}

void SetUpPruneCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand("prune", "Delete data no snapshot references. Never runs while a backup holds its lock.");
  auto args = std::make_shared<RepoArgs>();
  auto po = std::make_shared<repo::PruneOptions>();
  AddRepoOptions(cmd, *args);
  cmd->add_flag("--dry-run,-n", po->dry_run, "show what would be deleted");
  cmd->callback([&s, args, po] {
    auto rs = RepoSession::Open(s, *args);
    if (!rs.ok()) return EndCommand(s, rs.status());
    audit::ScopedAuditOp op(rs->audit(), "prune", {{"repository", rs->url()}, {"dry_run", po->dry_run}});
    auto pruned = repo::Prune(rs->repo(), *po);
    if (pruned.ok()) s.AddMetrics(ops::metrics::PruneSamples(*pruned));
    EndCommand(s, pruned, op, [&](const repo::PruneStats& st) { return PruneJson(st, po->dry_run); },
               [&](const repo::PruneStats& st) { return PruneText(st, po->dry_run); });
  });
}

void SetUpVerifyCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Verify the repository. Default: structure (every referenced object exists, every manifest is authentic).\n"
      "--read-data: decrypt and hash every object and file, and open every state snapshot's database read-only\n"
      "(its MANIFEST and table file identities; no data blocks). --restore-test: restore the latest state snapshot\n"
      "into a scratch dir and prove it with the state-root check against the snapshot.");
  auto a = std::make_shared<VerifyArgs>();
  AddRepoOptions(cmd, a->repo);
  cmd->add_flag("--read-data", a->read_data, "decrypt and re-hash all data");
  cmd->add_flag("--restore-test", a->restore_test, "restore the latest state snapshot and prove it");
  cmd->add_option("--scratch-dir", a->scratch, "where the restore test restores (default: $TMPDIR or /tmp)");
  cmd->callback([&s, a] {
    auto rs = RepoSession::Open(s, a->repo);
    if (!rs.ok()) return EndCommand(s, rs.status());
    audit::ScopedAuditOp op(rs->audit(), "verify", {{"repository", rs->url()}, {"read_data", a->read_data}, {"restore_test", a->restore_test}});
    ProgressLine progress(s.global(), "verify");
    ops::RepositoryVerifyOptions o{a->read_data, a->restore_test, a->scratch, FederationIfAny(*rs),
                                   [&](uint64_t d, uint64_t t) { progress.Update(a->read_data ? "read-data" : "structure", d, t); }};
    auto v = ops::VerifyRepository(rs->repo(), o);
    progress.Done();
    if (!v.ok()) return EndCommand(s, v.status(), op);
    s.AddMetrics(ops::metrics::VerifySamples(*v));
    EndWithVerdict(s, VerdictOf(*v), op, [&] { return VerificationJson(*v); },
                   [&] { return VerificationText(*v, a->read_data); });
  });
}

}  // namespace ailee::cli
