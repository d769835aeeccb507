// A restore must never cost the operator the data dir it was pointed at:
// a snapshot that fails its proof leaves the target as it was; a killed
// restore or backup leaves nothing that the next run does not remove; and
// `restore latest` means this node's newest state, not whatever was
// archived last. With --prove-in-background (issue 16) the node proves the
// restored state itself: it signs, applies and serves nothing until the
// proof passes (a kill -9 meanwhile proves again), a failed proof stops it
// for good, and the data dir the restore replaced stays as it was.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "base/fs.h"
#include "repo_fixture.h"
#include "state/proof_pending.h"
#include "state/records.h"
#include "state/state_db.h"
#include "state_tamper.h"

namespace ailee::it {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Every entry below `dir`: relative path -> type, mode and (for files) the
// whole content. Equal maps mean the trees are the same byte for byte.
std::map<std::string, std::string> TreeBytes(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = std::filesystem::relative(it->path(), dir).string();
    struct stat sb {};
    if (::lstat(it->path().c_str(), &sb) != 0) continue;
    std::string v = std::to_string(sb.st_mode) + ":";
    if (S_ISREG(sb.st_mode)) {
      auto data = fs::ReadFile(it->path().string());
      v += data.ok() ? *data : "<unreadable>";
    }
    out[rel] = std::move(v);
  }
  return out;
}

// A config for node `id` like the world's, but whose federation holds only
// `outsider`: every block of the world's signer fails signature checks.
std::string ForeignFederationConfig(RepoWorld& w, const std::string& id, const SignerKey& outsider) {
  const std::string dir = w.scenario().dir().Join("foreign-" + id);
  NodeSpec spec = NodeSpec::Leader(id);
  spec.extra_yaml = "backup:\n  repository: " + w.repo_url() + "\n  passphrase_file: " + w.pass_file() + "\n";
  const std::string path = dir + "/config.yaml";
  Status st = WriteFile(path, RenderConfig(spec, PickFreePort(), {outsider}, &outsider));
  EXPECT_TRUE(st.ok()) << st.ToString();
  return path;
}

// Entries of `parent` that are scratch of a restore into `name` (".<name>.restore-...").
std::vector<std::string> RestoreScratch(const std::string& parent, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& e : Entries(parent)) {
    if (e.rfind("." + name + ".", 0) == 0) out.push_back(e);
  }
  return out;
}

TEST(RepoRestoreSafety, FailedProofLeavesTheTargetUntouchedForRestoreAndApply) {
  RepoWorld w("restore-proof");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "6MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto a, w.JsonOk(n, {"backup", "state", "--offline"}));
  const std::string a_id = a["snapshot"];
  // The node moves on; its data dir (copied as the target) is good, provable
  // and different from snapshot A.
  ASSERT_OK(w.BulkLoad(n, "", 400));
  const std::string parent = w.scenario().dir().Join("restore");
  const std::string target = parent + "/node";
  ASSERT_OK(fs::MakeDirs(parent));
  ASSERT_OK(CopyTree(n.data_dir(), target));
  StateProof before = ProveState(w, n, target);
  ASSERT_EQ(before.result.exit_code, 0) << before.result;
  ASSERT_NE(before.state_root, a["state_root"].get<std::string>());
  const auto bytes = TreeBytes(target);

  ASSIGN_OR_FAIL(SignerKey outsider, MakeSignerKey(w.scenario().dir().Join("outsider"), "outsider"));
  const std::string foreign = ForeignFederationConfig(w, "node-1", outsider);
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"restore", a_id, "--force", "--target", target},
        // --allow-rollback: the target has moved past the snapshot, and
        // the proof (not the rollback refusal) is what is under test.
        std::vector<std::string>{"apply-checkpoint", a_id, "--allow-rollback", "--target", target}}) {
    SCOPED_TRACE(cmd[0]);
    std::vector<std::string> args{"--config", foreign};
    args.insert(args.end(), cmd.begin(), cmd.end());
    CommandResult r = w.scenario().CliRaw(args, kRepoCliTimeout);
    EXPECT_EQ(r.exit_code, 3) << "a snapshot signed outside the federation must fail its proof:\n" << r;
    EXPECT_NE(r.err.find("untouched"), std::string::npos) << r;
    EXPECT_TRUE(TreeBytes(target) == bytes) << "the failed " << cmd[0] << " changed the target";
    StateProof after = ProveState(w, n, target);
    EXPECT_EQ(after.result.exit_code, 0) << after.result;
    EXPECT_EQ(after.state_root, before.state_root);
    EXPECT_EQ(Entries(parent), std::vector<std::string>{"node"}) << "staging left beside the target";
  }
}

TEST(RepoRestoreSafety, KilledRestoresStagingIsRemovedByTheNextRestore) {
  RepoWorld w("restore-kill");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "24MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto a, w.JsonOk(n, {"backup", "state", "--offline"}));
  const std::string a_id = a["snapshot"];
  const std::string parent = w.scenario().dir().Join("restore");
  const std::string target = parent + "/node";
  ASSERT_OK(fs::MakeDirs(parent));

  // Killed once the staging directory holds data.
  auto p = w.Background(n, {"-q", "restore", a_id, "--target", target}, w.scenario().dir().Join("restore-killed.log"));
  ASSERT_OK(p.status());
  WaitUntil([&] {
    if (!p->Running()) return true;
    for (const auto& e : RestoreScratch(parent, "node")) {
      if (!FilesUnder(parent + "/" + e).empty()) return true;
    }
    return false;
  }, Millis(120000), Millis(2));
  ASSERT_EQ(p->Kill(), 128 + SIGKILL) << "the restore finished before it could be killed";
  const auto leftovers = RestoreScratch(parent, "node");
  ASSERT_EQ(leftovers.size(), 1u) << "the killed restore left no staging to clean up";
  ASSERT_FALSE(Exists(target));

  // The next restore (any target in that directory) removes it.
  ASSIGN_OR_FAIL(auto r, w.JsonOk(n, {"restore", a_id, "--target", target}));
  EXPECT_EQ(r["verified"], true);
  EXPECT_EQ(Entries(parent), std::vector<std::string>{"node"}) << "the killed restore's staging is still there";
}

TEST(RepoRestoreSafety, KilledBackupsLockIsRemovedByTheNextJobAndALiveHoldersIsNot) {
  RepoWorld w("restore-lock");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "12MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"backup", "state", "--offline"}));
  const std::string locks = w.repo_dir() + "/locks";
  auto lock_names = [&] {
    std::vector<std::string> out;
    for (const auto& e : Entries(locks)) {
      if (e.find(".tmp.") == std::string::npos) out.push_back(e);
    }
    return out;
  };
  ASSERT_TRUE(lock_names().empty());

  // A backup SIGKILLed while it holds its lock.
  {
    auto p = w.Background(n, {"-q", "backup", "state", "--offline", "--full"}, w.scenario().dir().Join("killed.log"));
    ASSERT_OK(p.status());
    WaitUntil([&] { return !p->Running() || !lock_names().empty(); }, Millis(120000), Millis(1));
    ASSERT_EQ(p->Kill(), 128 + SIGKILL) << "the backup finished before it could be killed";
  }
  const auto dead = lock_names();
  ASSERT_EQ(dead.size(), 1u) << "the killed backup left no lock";

  // A live holder: another backup, stopped while it holds its lock.
  auto live = w.Background(n, {"-q", "backup", "state", "--offline", "--full"}, w.scenario().dir().Join("live.log"));
  ASSERT_OK(live.status());
  std::string live_lock;
  WaitUntil([&] {
    for (const auto& l : lock_names()) {
      if (l != dead[0]) live_lock = l;
    }
    return !live_lock.empty() || !live->Running();
  }, Millis(120000), Millis(1));
  ASSERT_FALSE(live_lock.empty()) << "the second backup never took its lock";
  live->Signal(SIGSTOP);

  // The next job that takes a lock (a restore: shared, like a backup).
  ASSIGN_OR_FAIL(auto r, w.JsonOk(n, {"restore", first["snapshot"].get<std::string>(), "--target", w.scenario().dir().Join("out")}));
  EXPECT_EQ(r["verified"], true);
  EXPECT_EQ(lock_names(), std::vector<std::string>{live_lock})
      << "the dead backup's lock must go, the stopped (live) backup's must stay";

  live->Signal(SIGCONT);
  EXPECT_EQ(live->Wait(Millis(300000)), std::optional<int>(0)) << FileTail(w.scenario().dir().Join("live.log"));
  EXPECT_TRUE(lock_names().empty());
}

TEST(RepoRestoreSafety, RestoreLatestIsThisNodesNewestStateNotTheNewestSnapshot) {
  RepoWorld w("restore-latest");
  TestNode& n1 = w.AddNode("node-1");
  TestNode& n2 = w.AddNode("node-2");
  ASSERT_OK(w.BulkLoad(n1, "", 300, 1));
  ASSERT_OK(w.BulkLoad(n2, "", 500, 2));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto s1, w.JsonOk(n1, {"backup", "state", "--offline"}));
  ASSIGN_OR_FAIL(auto s2, w.JsonOk(n2, {"backup", "state", "--offline"}));  // newer, other node
  ASSERT_NE(s1["state_root"], s2["state_root"]);
  // Hourly log archiving: the newest snapshot of all is a logs snapshot.
  const std::string logdir = w.scenario().dir().Join("logs");
  ASSERT_OK(WriteFile(logdir + "/node.log.1", "rotated log line\n"));
  ASSIGN_OR_FAIL(auto logs, w.JsonOk(n1, {"logs", "archive", "--dir", logdir, "--older-than", "never"}));
  ASSIGN_OR_FAIL(auto list, w.JsonOk(n1, {"snapshots"}));
  ASSERT_EQ(list["snapshots"].back().value("kind", ""), "logs") << list.dump(2);
  const std::string logs_id = list["snapshots"].back()["id"];
  (void)logs;

  const std::string out = w.scenario().dir().Join("out");
  ASSIGN_OR_FAIL(auto r1, w.JsonOk(n1, {"restore", "latest", "--target", out + "/t1"}));
  EXPECT_EQ(r1["snapshot"], s1["snapshot"]);
  EXPECT_EQ(r1["state_root"], s1["state_root"]);
  EXPECT_EQ(r1["verified"], true);

  ASSIGN_OR_FAIL(auto r2, w.JsonOk(n1, {"restore", "latest", "--host", "node-2", "--target", out + "/t2"}));
  EXPECT_EQ(r2["snapshot"], s2["snapshot"]);
  EXPECT_EQ(r2["state_root"], s2["state_root"]);

  ASSIGN_OR_FAIL(auto a1, w.JsonOk(n1, {"apply-checkpoint", "latest", "--target", out + "/t3"}));
  EXPECT_EQ(a1["snapshot"], s1["snapshot"]);
  EXPECT_EQ(a1["state_root"], s1["state_root"]);

  // A logs snapshot into a target: refused, naming the command to use.
  CommandResult refused = w.Cli(n1, {"restore", logs_id, "--target", out + "/t4"});
  EXPECT_EQ(refused.exit_code, 2) << refused;
  EXPECT_NE(refused.err.find("logs restore"), std::string::npos) << refused;
  EXPECT_FALSE(Exists(out + "/t4"));
  // ... unless asked for explicitly.
  ASSIGN_OR_FAIL(auto r5, w.JsonOk(n1, {"restore", "latest", "--kind", "logs", "--target", out + "/t5"}));
  EXPECT_EQ(r5["snapshot"], logs_id);
  EXPECT_TRUE(Exists(out + "/t5"));
  // A node with no state snapshot of its own gets none of the others'.
  CommandResult none = w.Cli(n1, {"restore", "latest", "--host", "node-3", "--target", out + "/t6"});
  EXPECT_EQ(none.exit_code, 4) << none;
  EXPECT_NE(none.err.find("node-3"), std::string::npos) << none;
  EXPECT_FALSE(Exists(out + "/t6"));
}

// ----------------------------------------------- restore --prove-in-background

// A short chain of many small blocks: the paced background proof (25 blocks
// a second) leaves a window of about 2 s to watch the gate in.
Status SmallChain(RepoWorld& w, const TestNode& n, uint64_t max_tx, uint64_t seed) {
  CommandResult r = w.Cli(n, {"-q", "load", "--mode", "bulk", "--duration", "0", "--memo-bytes", "64", "--accounts",
                              "20", "--block-tx", "8", "--max-tx", std::to_string(max_tx), "--seed",
                              std::to_string(seed)});
  if (r.exit_code != 0) return Internal("bulk load: " + r.Describe());
  return Status::Ok();
}

// The node as recover-node starts it, with the proof paced.
Status StartPaced(TestNode& n) {
  NodeSpec spec = n.spec();
  spec.node_args = {"--allow-lone-start", "--background-proof-pace", "25"};
  RETURN_IF_ERROR(n.Reconfigure(spec));
  return n.Start();
}

uint64_t DataDirHeight(const std::string& dir) {
  auto db = state::StateDb::Open(dir, state::OpenOptions{true, false});
  return db.ok() ? (*db)->Tip().height : 0;
}

std::string Metric(const TestNode& n, const std::string& name) {
  auto text = n.Client().GetText("/metrics");
  if (!text.ok()) return "";
  const auto at = text->find("\n" + name + " ");
  if (at == std::string::npos) return "";
  const auto begin = at + name.size() + 2;
  return text->substr(begin, text->find('\n', begin) - begin);
}

// What a client asking for a checkpoint gets: the HTTP status in the message.
Status AskCheckpoint(const TestNode& n, const std::string& path) {
  auto token = fs::ReadFile(n.admin_token_path());
  if (!token.ok()) return token.status();
  std::string t = *token;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return node::NodeClient(n.url(), t, 10000).PostJson("/v1/admin/checkpoint", {{"path", path}}, true).status();
}

TEST(RepoRestoreSafety, BackgroundProofGatesALeaderUntilItPassesAndAKillProvesAgain) {
  RepoWorld w("restore-bg");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(SmallChain(w, n, 360, 1));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));
  const uint64_t height = snap["height"];
  // The host is lost: its data dir is gone.
  ASSERT_OK(fs::RenameDurable(n.data_dir(), w.scenario().dir().Join("lost-data")));
  const std::string id = snap["snapshot"];
  ASSIGN_OR_FAIL(auto r, w.JsonOk(n, {"restore", id, "--prove-in-background", "--target", n.data_dir()}));
  EXPECT_EQ(r["verified"], false);
  EXPECT_EQ(r["proof_pending"], true);
  EXPECT_TRUE(r["kept_aside"].is_null()) << "nothing was there to keep";
  ASSERT_TRUE(Exists(n.data_dir() + "/" + state::kProofPendingName));

  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run == 0 ? "first start" : "restart after kill -9 during the proof");
    ASSERT_OK(StartPaced(n));
    // Watched while the proof runs: it is visible, and nothing is signed or served.
    bool saw_progress = false, produced = false;
    int checks = 0;
    WaitUntil([&] {
      auto st = n.StatusJson();
      if (!st.ok() || (*st)["proof"].value("state", "") != "running") return true;
      ++checks;
      const uint64_t done = (*st)["proof"].value("done", uint64_t{0});
      const uint64_t total = (*st)["proof"].value("total", uint64_t{0});
      saw_progress = saw_progress || (done > 0 && done < total);
      EXPECT_EQ((*st)["sync"]["state"], "proof_running") << st->dump();
      EXPECT_NE((*st)["proof"].value("started_at", ""), "");
      produced = produced || (*st)["height"].get<uint64_t>() != height;
      return saw_progress && checks >= 5;
    }, Millis(20000), Millis(100));
    ASSERT_TRUE(saw_progress) << "no progress seen while the proof ran; log:\n" << FileTail(n.log_path());
    EXPECT_FALSE(produced) << "a block was produced before the proof passed";
    EXPECT_EQ(Metric(n, "ailee_node_proof_pending"), "1");
    Status ckpt = AskCheckpoint(n, w.scenario().dir().Join("ckpt-early"));
    EXPECT_NE(ckpt.message().find("HTTP 503"), std::string::npos) << ckpt.ToString();
    EXPECT_NE(ckpt.message().find("proof running"), std::string::npos) << ckpt.ToString();
    EXPECT_FALSE(Exists(w.scenario().dir().Join("ckpt-early")));
    auto blocks = n.Client().GetJson("/v1/blocks/1");
    EXPECT_FALSE(blocks.ok()) << "blocks of an unproven state were served";
    if (run == 1) {  // not before the kill: it would shorten the window to kill in
      // Online, `backup state` gets no checkpoint either, and says why
      // (judged only if the proof was still running after it).
      CommandResult backup = w.Cli(n, {"backup", "state"});
      auto after = n.StatusJson();
      if (after.ok() && (*after)["proof"].value("state", "") == "running") {
        EXPECT_EQ(backup.exit_code, 6) << backup;
        EXPECT_NE(backup.err.find("proof running"), std::string::npos) << backup;
      }
    }
    if (run == 0) {
      ASSERT_EQ(n.Kill(), 128 + SIGKILL);
    }
  }
  // The restart proved it again from the start, and now it leads.
  ASSERT_TRUE(WaitUntil([&] {
    auto st = n.StatusJson();
    return st.ok() && (*st)["proof"].value("state", "") == "proven";
  }, Millis(60000), Millis(100))) << FileTail(n.log_path());
  ASSERT_OK(n.WaitForHeight(height + 1, Millis(20000)));
  EXPECT_OK(AskCheckpoint(n, w.scenario().dir().Join("ckpt-late")));
  EXPECT_EQ(Metric(n, "ailee_node_proof_pending"), "0");
  EXPECT_FALSE(Exists(n.data_dir() + "/" + state::kProofPendingName));
  for (const auto& e : Entries(fs::Dirname(n.data_dir())))
    EXPECT_EQ(e.find(".data.proof-"), std::string::npos) << "the proof's checkpoint was left: " << e;
  EXPECT_EQ(n.Terminate(), 0);
}

TEST(RepoRestoreSafety, FailedBackgroundProofStopsTheNodeEveryTimeAndTheOldDataDirIsKept) {
  RepoWorld w("restore-bg-bad");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(SmallChain(w, n, 200, 1));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));
  const uint64_t height = snap["height"];
  ASSERT_OK(SmallChain(w, n, 80, 1));  // the data dir moves on: good, and not the snapshot
  const auto before = TreeBytes(n.data_dir());
  const std::string id = snap["snapshot"];
  ASSIGN_OR_FAIL(auto r, w.JsonOk(n, {"restore", id, "--force", "--prove-in-background", "--target", n.data_dir()}));
  const std::string aside = n.data_dir() + ".before-restore";
  ASSERT_EQ(r["kept_aside"], aside);
  EXPECT_TRUE(TreeBytes(aside) == before) << "the kept-aside copy differs from the data dir it replaced";
  // The restored state is damaged behind its back (a value no block wrote).
  ASSERT_OK(state::tamper::OverwriteRawValue(n.data_dir(), state::kCfAccounts, std::string(32, '\x42'), "tampered"));

  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run == 0 ? "first start" : "restart");
    Status started = StartPaced(n);
    if (started.ok()) {
      // 503 while it proves, or no answer once it has stopped: never a checkpoint.
      EXPECT_FALSE(AskCheckpoint(n, w.scenario().dir().Join("ckpt")).ok());
      EXPECT_EQ(n.process().Wait(Millis(60000)), std::optional<int>(3)) << FileTail(n.log_path());
    } else {
      EXPECT_NE(started.message().find("exited with code 3"), std::string::npos) << started.ToString();
    }
    const std::string log = FileTail(n.log_path());
    EXPECT_NE(log.find("does not prove out"), std::string::npos) << log;
    EXPECT_NE(log.find(aside), std::string::npos) << "the log must say where the previous data dir is:\n" << log;
    EXPECT_FALSE(Exists(w.scenario().dir().Join("ckpt")));
    EXPECT_EQ(DataDirHeight(n.data_dir()), height) << "a block was produced on the unproven state";
    auto marker = state::ReadProofPending(n.data_dir());
    ASSERT_TRUE(marker.ok() && *marker) << "the marker must stay: a restart proves again";
    EXPECT_NE((*marker)->last_failure.find("account 4242"), std::string::npos) << (*marker)->last_failure;
    EXPECT_EQ((*marker)->previous_dir, aside);
    EXPECT_TRUE(TreeBytes(aside) == before) << "the kept-aside data dir changed";
  }
}

// A second background-proof restore over a data dir that is still unproven:
// the fallback stays the older, proven data dir kept aside by the first, and
// both outputs say so, and that the unproven state is discarded. Meanwhile
// the unproven data dir is neither backed up nor checkpointed offline.
TEST(RepoRestoreSafety, RestoreOverAnUnprovenDataDirSaysTheFallbackIsTheOlderKeptAsideDir) {
  RepoWorld w("restore-bg-twice");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(SmallChain(w, n, 120, 1));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));
  const std::string id = snap["snapshot"];
  const uint64_t height = snap["height"];
  ASSERT_OK(SmallChain(w, n, 40, 1));  // the data dir moves on: good, and not the snapshot
  const auto proven = TreeBytes(n.data_dir());
  const std::string aside = n.data_dir() + ".before-restore";

  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"restore", id, "--force", "--prove-in-background", "--target", n.data_dir()}));
  ASSERT_EQ(first["kept_aside"], aside);
  EXPECT_EQ(first["stale_kept_aside"], false);
  EXPECT_TRUE(first["discarded"].is_null()) << first.dump();
  ASSERT_TRUE(first["kept_aside_since"].is_string()) << first.dump();
  const std::string marker = n.data_dir() + "/" + state::kProofPendingName;

  // Unproven: offline copies are refused (a copy would carry no marker).
  CommandResult backup = w.Cli(n, {"backup", "state", "--offline"});
  EXPECT_EQ(backup.exit_code, 1) << backup;
  EXPECT_NE(backup.err.find("not proven yet"), std::string::npos) << backup;
  EXPECT_NE(backup.err.find(marker), std::string::npos) << backup;
  EXPECT_NE(backup.err.find("background proof"), std::string::npos) << backup;
  const std::string ckpt = w.scenario().dir().Join("ckpt");
  CommandResult checkpoint = w.Cli(n, {"create-checkpoint", "--output", ckpt});  // no node answers: offline
  EXPECT_EQ(checkpoint.exit_code, 1) << checkpoint;
  EXPECT_NE(checkpoint.err.find(marker), std::string::npos) << checkpoint;
  EXPECT_FALSE(Exists(ckpt));
  ASSIGN_OR_FAIL(auto list, w.JsonOk(n, {"snapshots", "--kind", "state"}));
  EXPECT_EQ(list["snapshots"].size(), 1u) << list.dump(2);

  // Restored again before the proof ran: the older dir stays the fallback.
  ASSIGN_OR_FAIL(auto second, w.JsonOk(n, {"restore", id, "--force", "--prove-in-background", "--target", n.data_dir()}));
  EXPECT_EQ(second["kept_aside"], aside);
  EXPECT_EQ(second["stale_kept_aside"], true) << second.dump();
  EXPECT_EQ(second["kept_aside_since"], first["kept_aside_since"]) << "the older dir's time, not this restore's";
  ASSERT_TRUE(second["discarded"].is_object()) << second.dump();
  EXPECT_EQ(second["discarded"]["source"], "snapshot:" + id);
  EXPECT_EQ(second["discarded"]["height"], height);
  EXPECT_TRUE(TreeBytes(aside) == proven) << "the proven data dir kept aside changed";
  auto m = state::ReadProofPending(n.data_dir());
  ASSERT_TRUE(m.ok() && *m) << "the new state must carry its marker";
  EXPECT_EQ((*m)->previous_dir, aside);

  // The text says it too.
  CommandResult text = w.Cli(n, {"restore", id, "--force", "--prove-in-background", "--target", n.data_dir()});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_NE(text.out.find("discarded"), std::string::npos) << text;
  EXPECT_NE(text.out.find("OLDER data dir kept at " + aside), std::string::npos) << text;
  EXPECT_TRUE(TreeBytes(aside) == proven);
}

}  // namespace
}  // namespace ailee::it
