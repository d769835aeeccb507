// Backup, churn, incremental backup, restore, proof: the runbook's cycle on
// a real node's state. The incremental reads only what changed; the restore
// recomputes the state root and it equals the snapshot's; applying an older
// snapshot onto the restored newer dir writes only the files that differ.
#include "repo_fixture.h"

namespace ailee::it {
namespace {

TEST(RepoRoundtrip, IncrementalBackupRestoreAndDeltaApplyProveTheStateRoot) {
  RepoWorld w("repo-rt");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "24MiB"));
  ASSERT_OK(w.InitRepo());

  // Full backup of the stopped node: everything is read.
  ASSIGN_OR_FAIL(auto full, w.JsonOk(n, {"backup", "state", "--offline", "--tag", "daily"}));
  const std::string full_id = full["snapshot"];
  EXPECT_EQ(full["files_unchanged"], 0) << full.dump(2);
  EXPECT_EQ(full["bytes_read"], full["bytes_total"]) << full.dump(2);
  EXPECT_GT(full["bytes_total"].get<uint64_t>(), 16u << 20) << full.dump(2);

  // Churn: about 5% more data through the node's block code.
  ASSERT_OK(w.BulkLoad(n, "", 600));

  // Incremental: parent is the full one, unchanged SSTs are not read again.
  ASSIGN_OR_FAIL(auto inc, w.JsonOk(n, {"backup", "state", "--offline", "--tag", "15min"}));
  const std::string inc_id = inc["snapshot"];
  EXPECT_EQ(inc["parent"], full_id) << inc.dump(2);
  EXPECT_GT(inc["files_unchanged"].get<uint64_t>(), 0u) << inc.dump(2);
  EXPECT_GT(inc["height"].get<uint64_t>(), full["height"].get<uint64_t>());
  EXPECT_NE(inc["state_root"], full["state_root"]);
  const uint64_t inc_read = inc["bytes_read"], inc_total = inc["bytes_total"];
  EXPECT_LT(inc_read * 4, inc_total) << "an incremental must read far less than the state: " << inc.dump(2);
  EXPECT_LT(inc["bytes_stored"].get<uint64_t>() * 4, full["bytes_stored"].get<uint64_t>()) << inc.dump(2);

  // --full re-reads everything but stores (almost) nothing new: each object once.
  ASSIGN_OR_FAIL(auto refull, w.JsonOk(n, {"backup", "state", "--offline", "--full"}));
  EXPECT_EQ(refull["files_unchanged"], 0) << refull.dump(2);
  EXPECT_EQ(refull["bytes_read"], refull["bytes_total"]) << refull.dump(2);
  EXPECT_LT(refull["bytes_stored"].get<uint64_t>() * 20, refull["bytes_total"].get<uint64_t>()) << refull.dump(2);

  // The snapshot list records the state roots the backups reported.
  ASSIGN_OR_FAIL(std::string inc_root, SnapshotStateRoot(w, n, inc_id));
  ASSIGN_OR_FAIL(std::string full_root, SnapshotStateRoot(w, n, full_id));
  EXPECT_EQ(inc_root, inc["state_root"]);
  EXPECT_EQ(full_root, full["state_root"]);

  // Restore the incremental into a new dir: proven on the way, and again by verify-state.
  const std::string target = w.scenario().dir().Join("restored/node-1");
  ASSIGN_OR_FAIL(auto restored, w.JsonOk(n, {"restore", inc_id, "--target", target}));
  EXPECT_EQ(restored["verified"], true) << restored.dump(2);
  EXPECT_EQ(restored["state_root"], inc_root);
  StateProof proof = ProveState(w, n, target);
  ASSERT_EQ(proof.result.exit_code, 0) << proof.result;
  EXPECT_TRUE(proof.ok) << proof.result;
  EXPECT_EQ(proof.state_root, inc_root) << "restored state root differs from the snapshot's";
  EXPECT_EQ(proof.height, inc["height"].get<uint64_t>());

  // A second restore into the now non-empty target is refused without --force.
  CommandResult again = w.Cli(n, {"restore", inc_id, "--target", target});
  EXPECT_EQ(again.exit_code, 7) << again;

  // Delta: apply the older (full) snapshot onto the restored newer dir (a
  // deliberate rollback: refused without --allow-rollback).
  ASSIGN_OR_FAIL(auto applied, w.JsonOk(n, {"apply-checkpoint", full_id, "--target", target, "--allow-rollback"}));
  EXPECT_EQ(applied["state_root"], full_root) << applied.dump(2);
  EXPECT_GT(applied["files_reused"].get<uint64_t>(), 0u) << "delta apply rewrote every file: " << applied.dump(2);
  EXPECT_LT(applied["bytes_fetched"].get<uint64_t>() * 4, applied["bytes"].get<uint64_t>()) << applied.dump(2);
  StateProof older = ProveState(w, n, target);
  ASSERT_EQ(older.result.exit_code, 0) << older.result;
  EXPECT_EQ(older.state_root, full_root);
  EXPECT_EQ(older.height, full["height"].get<uint64_t>());
  // Nothing of the staging work is left beside the target.
  EXPECT_EQ(Entries(w.scenario().dir().Join("restored")), std::vector<std::string>{"node-1"});

  // And the repository holds up to a full read.
  CommandResult verify = w.Cli(n, {"verify", "--read-data"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
}

}  // namespace
}  // namespace ailee::it
