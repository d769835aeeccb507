// A restore must never cost the operator the data dir it was pointed at:
// a snapshot that fails its proof leaves the target as it was; a killed
// restore or backup leaves nothing that the next run does not remove; and
// `restore latest` means this node's newest state, not whatever was
// archived last.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "base/fs.h"
#include "repo_fixture.h"

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

}  // namespace
}  // namespace ailee::it
