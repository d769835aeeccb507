// SIGKILL at arbitrary moments during backup, restore and prune: the
// repository stays valid (`verify` exits 0), a restore target is the old
// tree or the new one and never a mix, and the next run completes, reusing
// what the killed runs already stored. Kill points are random (the seed is
// printed; AILEE_IT_SEED repeats a run) plus one deterministic point: right
// after a killed backup's first pack becomes durable.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `args` in the background and SIGKILLs it once `kill_when` says so
// (polled every 5 ms) or after `delay`. True when the kill landed while the
// command still ran; false when it had already finished (exit code checked).
bool KillDuring(RepoWorld& w, const TestNode& n, const std::vector<std::string>& args, const std::string& log,
                Millis delay, const std::function<bool()>& kill_when = nullptr) {
  auto p = w.Background(n, args, log);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return false;
  const auto deadline = Clock::now() + delay;
  WaitUntil([&] { return !p->Running() || Clock::now() >= deadline || (kill_when && kill_when()); },
            delay + Millis(100), Millis(5));
  // Kill() reaps; it reports the exit code when the command won the race.
  const int code = p->Kill();
  if (code == 128 + SIGKILL) return true;
  EXPECT_EQ(code, 0) << "finished before the kill, but failed; log:\n" << FileTail(log);
  return false;
}

Millis Elapsed(Clock::time_point since) { return std::chrono::duration_cast<Millis>(Clock::now() - since); }

TEST(RepoCrash, SigkillDuringBackupAndRestoreLeavesValidRepositoryAndWholeTargets) {
  auto rng = KillPointRng();
  RepoWorld w("repo-kill");
  TestNode& n = w.AddNode("node-1");
  // Large enough that a backup stores more than one 32 MiB pack.
  ASSERT_OK(w.BulkLoad(n, "48MiB"));
  ASSERT_OK(w.InitRepo());
  const std::string logs = w.scenario().dir().Join("logs/");

  // --- backup, killed: first right after its first pack is stored, then at
  // random moments spread over the time that first pack took (the machine's
  // speed sets the scale).
  int killed = 0;
  Millis first_pack{0};
  {
    SCOPED_TRACE("kill after the first pack");
    auto t0 = Clock::now();
    killed += KillDuring(w, n, {"-q", "backup", "state", "--offline"}, logs + "backup-first-pack.log", Millis(90000),
                         [&] { return !PackFiles(w.repo_dir()).empty(); });
    first_pack = Elapsed(t0);
    CommandResult v = w.Cli(n, {"verify"});
    EXPECT_EQ(v.exit_code, 0) << v;
  }
  // Later runs reuse that pack and finish sooner: spread the kills over the
  // first half of that time. --full keeps a run that escapes its kill from
  // turning the following ones into quick incrementals.
  std::vector<Millis> delays;
  const int64_t slot = std::max<int64_t>(first_pack.count() / 12, 20);
  for (int i = 0; i < 6; ++i) {
    delays.push_back(Millis(std::uniform_int_distribution<int64_t>(10 + slot * i, slot * (i + 1))(rng)));
  }
  ASSERT_FALSE(PackFiles(w.repo_dir()).empty()) << "the first backup ended without storing a pack";
  for (size_t i = 0; i < delays.size(); ++i) {
    SCOPED_TRACE("backup kill point " + std::to_string(i) + " after " + std::to_string(delays[i].count()) + " ms");
    killed += KillDuring(w, n, {"-q", "backup", "state", "--offline", "--full"},
                         logs + "backup-" + std::to_string(i) + ".log", delays[i]);
    CommandResult v = w.Cli(n, {"verify"});
    EXPECT_EQ(v.exit_code, 0) << "repository invalid after a SIGKILL during backup:\n" << v;
  }
  // How many kills land mid-run depends on the machine's speed; one is enough for
  // the property under test (verify passes after each), more make it stronger.
  EXPECT_GE(killed, 1) << "no kill landed during a backup";

  // The rerun completes and reuses the data the killed runs stored.
  ASSIGN_OR_FAIL(auto a, w.JsonOk(n, {"backup", "state", "--offline"}));
  EXPECT_LT(a["bytes_new"].get<uint64_t>(), a["bytes_total"].get<uint64_t>())
      << "the rerun stored everything again instead of reusing the killed runs' packs: " << a.dump(2);
  ASSIGN_OR_FAIL(auto read_all, w.JsonOk(n, {"verify", "--read-data"}));
  EXPECT_EQ(read_all["ok"], true) << read_all.dump(2);
  // Killed offline backups may leave their checkpoint directory in the node
  // dir; report it (hard links, so no space is lost, but an operator sees it).
  for (const auto& e : Entries(n.dir())) {
    if (e != "data" && e != "config.yaml" && e.rfind("audit.log", 0) != 0 && e != "node.log") {
      std::fprintf(stderr, "[repo_crash] left beside the data dir after killed backups: %s\n", e.c_str());
    }
  }
  size_t temp_files = 0;
  for (const auto& [rel, size] : FilesUnder(w.repo_dir())) temp_files += rel.find(".tmp.") != std::string::npos;
  std::fprintf(stderr, "[repo_crash] %d of %zu backup runs killed mid-way; %zu temporary files left in the repository\n",
               killed, delays.size() + 1, temp_files);

  // --- restore, killed. Snapshot A (above), churn, snapshot B.
  ASSERT_OK(w.BulkLoad(n, "", 600));
  ASSIGN_OR_FAIL(auto b, w.JsonOk(n, {"backup", "state", "--offline"}));
  const std::string a_id = a["snapshot"], b_id = b["snapshot"];
  const std::string a_root = a["state_root"], b_root = b["state_root"];
  ASSERT_NE(a_root, b_root);

  const std::string target = w.scenario().dir().Join("restore/node");
  auto t0 = Clock::now();
  ASSERT_OK(w.JsonOk(n, {"restore", a_id, "--target", target}).status());
  const Millis restore_time = Elapsed(t0);
  const auto a_files = FilesUnder(target);

  killed = 0;
  // A --force restore over A reuses A's unchanged files, so it is faster
  // than the first restore: kill within its first half.
  for (int i = 0; i < 4; ++i) {
    Millis d(std::uniform_int_distribution<int64_t>(10, std::max<int64_t>(60, restore_time.count() / 2))(rng));
    SCOPED_TRACE("restore --force kill point " + std::to_string(i) + " after " + std::to_string(d.count()) + " ms");
    killed += KillDuring(w, n, {"-q", "restore", b_id, "--target", target, "--force"},
                         logs + "restore-" + std::to_string(i) + ".log", d);
    // Old or new, whole: the recomputed state root is one of the two snapshots'.
    StateProof p = ProveState(w, n, target);
    ASSERT_EQ(p.result.exit_code, 0) << "restore target is not a whole state after SIGKILL:\n" << p.result;
    EXPECT_TRUE(p.state_root == a_root || p.state_root == b_root) << p.state_root;
    if (p.state_root == a_root) {
      EXPECT_EQ(FilesUnder(target), a_files) << "old target modified in place";
    }
    // Restore back to A for the next round when the kill came too late.
    if (p.state_root == b_root) ASSERT_OK(w.JsonOk(n, {"restore", a_id, "--target", target, "--force"}).status());
  }
  {
    SCOPED_TRACE("restore into a new dir, killed");
    const std::string fresh = w.scenario().dir().Join("restore/fresh");
    Millis d(std::uniform_int_distribution<int64_t>(10, std::max<int64_t>(60, restore_time.count() / 2))(rng));
    killed += KillDuring(w, n, {"-q", "restore", b_id, "--target", fresh}, logs + "restore-fresh.log", d);
    if (Exists(fresh) && !Entries(fresh).empty()) {
      StateProof p = ProveState(w, n, fresh);
      EXPECT_EQ(p.result.exit_code, 0) << "half-restored new target:\n" << p.result;
      EXPECT_EQ(p.state_root, b_root);
    }
    // The rerun completes (it may replace whatever the kill left).
    ASSIGN_OR_FAIL(auto r, w.JsonOk(n, {"restore", b_id, "--target", fresh, "--force"}));
    EXPECT_EQ(r["state_root"], b_root);
  }
  EXPECT_GE(killed, 1) << "no kill landed during a restore";

  ASSIGN_OR_FAIL(auto rerun, w.JsonOk(n, {"restore", b_id, "--target", target, "--force"}));
  EXPECT_EQ(rerun["verified"], true);
  StateProof p = ProveState(w, n, target);
  ASSERT_EQ(p.result.exit_code, 0) << p.result;
  EXPECT_EQ(p.state_root, b_root);

  // Locks left by the killed processes are stale (dead pids on this host): prune runs.
  CommandResult prune = w.Cli(n, {"prune"});
  EXPECT_EQ(prune.exit_code, 0) << "stale locks of killed processes block prune:\n" << prune;
  CommandResult v = w.Cli(n, {"verify"});
  EXPECT_EQ(v.exit_code, 0) << v;
}

TEST(RepoCrash, SigkillDuringPruneLeavesValidRepositoryAndRerunCompletes) {
  auto rng = KillPointRng();
  RepoWorld w("repo-prunekill");
  TestNode& n = w.AddNode("node-1");
  TestNode& other = w.AddNode("node-2");
  ASSERT_OK(w.BulkLoad(other, "6MiB", 0, 2));
  ASSERT_OK(w.BulkLoad(n, "12MiB"));
  ASSERT_OK(w.InitRepo());
  const std::string logs = w.scenario().dir().Join("logs/");

  // Garbage: node-2's snapshot and node-1's first one, forgotten. node-2 is
  // backed up second, so its pack holds only its own data (files equal in
  // both dirs, such as OPTIONS, were stored by node-1's backup): a whole
  // pack to delete, since prune does not repack.
  ASSERT_OK(w.JsonOk(n, {"backup", "state", "--offline"}).status());
  ASSERT_OK(w.JsonOk(other, {"backup", "state", "--offline"}).status());
  ASSERT_OK(w.BulkLoad(n, "", 400));
  ASSIGN_OR_FAIL(auto kept, w.JsonOk(n, {"backup", "state", "--offline"}));
  ASSIGN_OR_FAIL(auto forget, w.JsonOk(n, {"forget", "--kind", "all", "--keep-last", "1"}));
  ASSERT_EQ(forget["removed"], 2) << forget.dump(2);

  auto t0 = Clock::now();
  ASSIGN_OR_FAIL(auto dry, w.JsonOk(n, {"prune", "--dry-run"}));
  const Millis prune_time = Elapsed(t0);
  ASSERT_GE(dry["packs_deleted"].get<uint64_t>(), 1u) << "no garbage to prune: " << dry.dump(2);

  int killed = 0;
  for (int i = 0; i < 6; ++i) {
    Millis d(std::uniform_int_distribution<int64_t>(5, prune_time.count() + 50)(rng));
    SCOPED_TRACE("prune kill point " + std::to_string(i) + " after " + std::to_string(d.count()) + " ms");
    killed += KillDuring(w, n, {"-q", "prune"}, logs + "prune-" + std::to_string(i) + ".log", d);
    CommandResult v = w.Cli(n, {"verify"});
    EXPECT_EQ(v.exit_code, 0) << "repository invalid after a SIGKILL during prune:\n" << v;
  }
  std::fprintf(stderr, "[repo_crash] %d of 6 prune runs were killed mid-way (dry run took %lld ms)\n", killed,
               static_cast<long long>(prune_time.count()));

  // The rerun completes; after it nothing is left to delete; all kept data reads back.
  ASSERT_OK(w.JsonOk(n, {"prune"}).status());
  ASSIGN_OR_FAIL(auto after, w.JsonOk(n, {"prune", "--dry-run"}));
  EXPECT_EQ(after["packs_deleted"], 0) << after.dump(2);
  ASSIGN_OR_FAIL(auto verified, w.JsonOk(n, {"verify", "--read-data", "--restore-test", "--scratch-dir",
                                             w.scenario().dir().path()}));
  EXPECT_EQ(verified["ok"], true) << verified.dump(2);
  EXPECT_EQ(verified["restore_test"]["state_root"], kept["state_root"]);
}

}  // namespace
}  // namespace ailee::it
