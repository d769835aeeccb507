// Two processes at once on one repository: two nodes backing up together
// both succeed (or one is told to retry, exit 6, and its retry succeeds) and
// the repository verifies; a prune while a backup holds its lock refuses
// with exit 6 and the backup completes with nothing lost.
#include <signal.h>

#include <set>
#include <tuple>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

constexpr int kExitUnavailable = 6;

// Lock objects in the repository (a store's temporary files are not locks yet).
size_t Locks(const RepoWorld& w) {
  size_t n = 0;
  for (const auto& e : Entries(w.repo_dir() + "/locks")) n += e.find(".tmp.") == std::string::npos;
  return n;
}

TEST(RepoConcurrency, TwoBackupsAtOnceBothLandAndVerify) {
  RepoWorld w("repo-conc");
  TestNode& a = w.AddNode("node-1");
  TestNode& b = w.AddNode("node-2");
  ASSERT_OK(w.BulkLoad(a, "8MiB", 0, 1));
  ASSERT_OK(w.BulkLoad(b, "8MiB", 0, 2));
  ASSERT_OK(w.InitRepo());
  const std::string logs = w.scenario().dir().Join("logs/");

  ASSIGN_OR_FAIL(Process pa, w.Background(a, {"--json", "backup", "state", "--offline"}, logs + "a.log"));
  ASSIGN_OR_FAIL(Process pb, w.Background(b, {"--json", "backup", "state", "--offline"}, logs + "b.log"));
  auto ca = pa.Wait(kRepoCliTimeout), cb = pb.Wait(kRepoCliTimeout);
  ASSERT_TRUE(ca && cb) << "a concurrent backup hung";
  for (auto [node, code, log] : {std::tuple{&a, *ca, logs + "a.log"}, std::tuple{&b, *cb, logs + "b.log"}}) {
    SCOPED_TRACE(node->spec().id);
    EXPECT_TRUE(code == 0 || code == kExitUnavailable) << "exit " << code << "\n" << FileTail(log);
    if (code == kExitUnavailable) {  // told to retry: the retry must land
      ASSERT_OK(w.JsonOk(*node, {"backup", "state", "--offline"}).status());
    }
  }

  ASSIGN_OR_FAIL(auto list, w.JsonOk(a, {"snapshots"}));
  std::set<std::string> node_ids;
  for (const auto& s : list["snapshots"]) node_ids.insert(s["meta"].value("node_id", ""));
  EXPECT_EQ(node_ids, (std::set<std::string>{"node-1", "node-2"})) << list.dump(2);
  ASSIGN_OR_FAIL(auto v, w.JsonOk(a, {"verify", "--read-data"}));
  EXPECT_EQ(v["ok"], true) << v.dump(2);
  // Both restore and prove (the restore recomputes the state root).
  for (const auto& s : list["snapshots"]) {
    const std::string id = s["id"];
    ASSIGN_OR_FAIL(auto r, w.JsonOk(a, {"restore", id, "--target", w.scenario().dir().Join("restored-" + id.substr(0, 8))}));
    EXPECT_EQ(r["verified"], true);
    EXPECT_EQ(r["state_root"], s["meta"]["state_root"]);
  }
}

TEST(RepoConcurrency, PruneRefusesWhileABackupHoldsItsLock) {
  RepoWorld w("repo-lock");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "8MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"backup", "state", "--offline"}));
  ASSERT_OK(w.BulkLoad(n, "", 300));

  // Start a backup and freeze it (SIGSTOP) as soon as its lock is visible:
  // it holds the lock for as long as the test needs, without racing.
  const std::string log = w.scenario().dir().Join("logs/backup.log");
  ASSIGN_OR_FAIL(Process backup, w.Background(n, {"--json", "backup", "state", "--offline", "--full"}, log));
  ASSERT_TRUE(WaitUntil([&] { return Locks(w) > 0 || !backup.Running(); }, Millis(60000), Millis(2)));
  backup.Signal(SIGSTOP);
  if (!backup.Running() || Locks(w) == 0) {
    GTEST_SKIP() << "the backup finished before it could be frozen holding its lock";
  }

  CommandResult prune = w.Cli(n, {"prune"});
  EXPECT_EQ(prune.exit_code, kExitUnavailable) << prune;
  EXPECT_NE(prune.err.find("retry"), std::string::npos) << "the refusal should tell the operator to retry: " << prune;
  CommandResult dry = w.Cli(n, {"prune", "--dry-run"});
  EXPECT_TRUE(dry.exit_code == 0 || dry.exit_code == kExitUnavailable) << dry;

  backup.Signal(SIGCONT);
  auto code = backup.Wait(kRepoCliTimeout);
  ASSERT_TRUE(code.has_value()) << "backup hung after SIGCONT";
  EXPECT_EQ(*code, 0) << FileTail(log);

  // Nothing lost: both snapshots there, all data reads back, prune now runs.
  ASSIGN_OR_FAIL(auto list, w.JsonOk(n, {"snapshots"}));
  EXPECT_EQ(list["snapshots"].size(), 2u) << list.dump(2);
  ASSERT_OK(w.JsonOk(n, {"prune"}).status());
  ASSIGN_OR_FAIL(auto v, w.JsonOk(n, {"verify", "--read-data", "--restore-test", "--scratch-dir", w.scenario().dir().path()}));
  EXPECT_EQ(v["ok"], true) << v.dump(2);
  EXPECT_NE(v["restore_test"]["state_root"], first["state_root"]) << "restore test did not pick the newest snapshot";
}

}  // namespace
}  // namespace ailee::it
