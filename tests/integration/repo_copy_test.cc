// Several locations: every backup is replicated to the configured secondary
// repositories, `copy` fills another location with what it lacks, `repo
// status` counts copies per snapshot against backup.min_copies, and after
// the primary is lost a copy alone restores a state that verify-state
// proves. An unreachable secondary fails the backup's exit code but never
// the snapshot already stored in the primary.
#include "base/fs.h"
#include "repo_fixture.h"

namespace ailee::it {
namespace {

TEST(RepoCopy, SecondaryReplicationCopyStatusAndRestoreFromACopyAfterLosingThePrimary) {
  RepoWorld w("repo-copy");
  const std::string site_b = w.scenario().dir().Join("site-b/repo");
  const std::string site_c = w.scenario().dir().Join("site-c/repo");
  TestNode& n = w.AddNode("node-1", "  min_copies: 2\n  secondary_repositories: [file://" + site_b + "]\n");
  ASSERT_OK(w.BulkLoad(n, "12MiB"));
  ASSERT_OK(w.InitRepo());

  // The backup lands in the primary and is replicated to site B.
  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"backup", "state", "--offline"}));
  ASSERT_EQ(first["replicated"].size(), 1u) << first.dump(2);
  EXPECT_EQ(first["replicated"][0]["ok"], true) << first.dump(2);
  EXPECT_EQ(first["replicated"][0]["bytes_copied"], first["bytes_stored"]) << first.dump(2);

  ASSERT_OK(w.BulkLoad(n, "", 300, 2));
  ASSIGN_OR_FAIL(auto second, w.JsonOk(n, {"backup", "state", "--offline"}));
  EXPECT_EQ(second["replicated"][0]["bytes_copied"], second["bytes_stored"])
      << "replicating an incremental moves only what it stored: " << second.dump(2);

  // Two copies of each snapshot: the 2 of min_copies is met.
  ASSIGN_OR_FAIL(auto status, w.JsonOk(n, {"repo", "status"}));
  EXPECT_EQ(status["ok"], true) << status.dump(2);
  ASSERT_EQ(status["snapshots"].size(), 2u);
  for (const auto& s : status["snapshots"]) EXPECT_EQ(s["copies"], 2) << status.dump(2);

  // Asking for three flags every snapshot and fails the exit code.
  CommandResult short_of = w.Cli(n, {"--json", "repo", "status", "--min-copies", "3"});
  EXPECT_EQ(short_of.exit_code, 1) << short_of;
  EXPECT_EQ(JsonOut(short_of)["short_of_copies"], 2) << short_of;

  // A third location by hand: `copy` sends everything, then nothing.
  ASSIGN_OR_FAIL(auto copied, w.JsonOk(n, {"copy", "--to", "file://" + site_c}));
  EXPECT_EQ(copied["created_replica"], true) << copied.dump(2);
  EXPECT_EQ(copied["snapshots_copied"], 2) << copied.dump(2);
  ASSIGN_OR_FAIL(auto again, w.JsonOk(n, {"copy", "--to", "file://" + site_c}));
  EXPECT_EQ(again["snapshots_copied"], 0) << again.dump(2);
  EXPECT_EQ(again["bytes_copied"], 0) << again.dump(2);
  ASSIGN_OR_FAIL(auto three, w.JsonOk(n, {"repo", "status", "--location", "file://" + site_c, "--min-copies", "3"}));
  for (const auto& s : three["snapshots"]) EXPECT_EQ(s["copies"], 3) << three.dump(2);

  // The primary is lost. Site B alone restores the newest state, proven.
  ASSERT_OK(fs::RemoveAll(w.repo_dir()));
  const std::string target = w.scenario().dir().Join("restored/node-1");
  ASSIGN_OR_FAIL(auto restored, w.JsonOk(n, {"restore", "latest", "--repo", "file://" + site_b, "--target", target}));
  EXPECT_EQ(restored["verified"], true) << restored.dump(2);
  EXPECT_EQ(restored["state_root"], second["state_root"]);
  StateProof proof = ProveState(w, n, target);
  EXPECT_TRUE(proof.ok) << proof.result;
  EXPECT_EQ(proof.state_root, second["state_root"]);
  CommandResult verify = w.Cli(n, {"verify", "--read-data", "--repo", "file://" + site_b});
  EXPECT_EQ(verify.exit_code, 0) << verify;
}

TEST(RepoCopy, UnreachableSecondaryFailsTheExitCodeButKeepsTheSnapshotAndCopyCompletesLater) {
  RepoWorld w("repo-copy-down");
  const std::string site_b = w.scenario().dir().Join("site-b");
  TestNode& n = w.AddNode("node-1", "  min_copies: 2\n  secondary_repositories: [file://" + site_b + "/repo]\n");
  ASSERT_OK(w.BulkLoad(n, "4MiB"));
  ASSERT_OK(w.InitRepo());
  // Site B's "mount" is a plain file: nothing can be written below it.
  ASSERT_OK(WriteFile(site_b, "not a directory\n"));

  CommandResult backup = w.Cli(n, {"--json", "backup", "state", "--offline"});
  EXPECT_EQ(backup.exit_code, 6) << backup;
  auto doc = JsonOut(backup);
  ASSERT_TRUE(doc.contains("snapshot")) << backup;
  EXPECT_EQ(doc["replicated"][0]["ok"], false) << backup;
  EXPECT_NE(backup.err.find(site_b), std::string::npos) << "the message names the location: " << backup;

  // The snapshot is in the primary and verifies; status flags it.
  CommandResult verify = w.Cli(n, {"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
  CommandResult status = w.Cli(n, {"--json", "repo", "status"});
  EXPECT_NE(status.exit_code, 0) << status;

  // The site comes back; copy completes the second copy.
  ASSERT_OK(fs::RemoveAll(site_b));
  ASSIGN_OR_FAIL(auto copied, w.JsonOk(n, {"copy", "--to", "file://" + site_b + "/repo"}));
  EXPECT_EQ(copied["snapshots_copied"], 1) << copied.dump(2);
  ASSIGN_OR_FAIL(auto ok, w.JsonOk(n, {"repo", "status"}));
  EXPECT_EQ(ok["snapshots"][0]["copies"], 2) << ok.dump(2);
}

}  // namespace
}  // namespace ailee::it
