// The repository on a real S3-compatible server (Swift with s3api, started by
// the ctest fixture): backups replicated to a second bucket, checkpoints
// uploaded and applied by URL, the first bucket lost and everything restored
// from the second; bad credentials and a missing bucket named clearly; the
// server failing in the middle of a backup (through a fault-injecting proxy)
// leaves the repository valid and the rerun completes; packs uploaded
// several at once (each a multipart upload) and read back with merged
// ranged GETs restore byte-identically.
#include <cstdlib>
#include <random>
#include <thread>

#include "base/fs.h"
#include "repo/backup.h"
#include "repo/restore.h"
#include "repo/verify.h"
#include "repo_fixture.h"
#include "s3_fault_proxy.h"
#include "s3_store_testing.h"
#include "s3_test_env.h"
#include "storage/s3/s3_object_store.h"

namespace ailee::it {
namespace {

using storage::s3::testing::FaultProxy;

class RepoS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = s3test::S3TestEnv::Load("swift");
    ASSERT_TRUE(env) << "no Swift server (reason on stderr)";
    env_ = *env;
    // Credentials only through the standard AWS environment (never argv).
    ::setenv("AWS_ACCESS_KEY_ID", env_.access_key_id.c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", env_.secret_access_key.c_str(), 1);
    ::setenv("AWS_REGION", env_.region.c_str(), 1);
    ::unsetenv("AWS_PROFILE");
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    for (auto* b : {&bucket_a_, &bucket_b_}) {
      *b = s3test::UniqueBucketName("it-repo");
      ASSERT_OK(s3test::CreateBucket(env_, *b, false));
    }
  }
  void TearDown() override {
    for (const auto& b : {bucket_a_, bucket_b_}) (void)s3test::DeleteBucket(env_, b);
  }
  std::string S3Yaml(const std::string& endpoint) const {
    return "  s3:\n    endpoint: " + endpoint + "\n    path_style: true\n    retry: {max_attempts: 4, budget_s: 5}\n";
  }
  int Port() const { return std::atoi(env_.endpoint.substr(env_.endpoint.rfind(':') + 1).c_str()); }

  s3test::S3TestEnv env_;
  std::string bucket_a_, bucket_b_;
};

TEST_F(RepoS3, BackupReplicatedToASecondBucketSurvivesLosingTheFirst) {
  RepoWorld w("repo-s3");
  w.UseRepository("s3://" + bucket_a_ + "/repo");
  const std::string copy_url = "s3://" + bucket_b_ + "/repo";
  TestNode& n = w.AddNode("node-1", "  min_copies: 2\n  secondary_repositories: [" + copy_url + "]\n" + S3Yaml(env_.endpoint));
  ASSERT_OK(w.BulkLoad(n, "40MiB"));
  ASSERT_OK(w.InitRepo());

  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"backup", "state", "--offline"}));
  EXPECT_EQ(first["replicated"][0]["ok"], true) << first.dump(2);
  ASSERT_OK(w.BulkLoad(n, "", 300, 2));
  ASSIGN_OR_FAIL(auto second, w.JsonOk(n, {"backup", "state", "--offline"}));
  EXPECT_EQ(second["replicated"][0]["bytes_copied"], second["bytes_stored"]) << second.dump(2);
  ASSIGN_OR_FAIL(auto status, w.JsonOk(n, {"repo", "status"}));
  EXPECT_EQ(status["short_of_copies"], 0) << status.dump(2);

  // The runbook's checkpoint commands, by URL, into the second bucket.
  const std::string ckpt = "s3://" + bucket_b_ + "/checkpoints/c1";
  ASSIGN_OR_FAIL(auto created, w.JsonOk(n, {"create-checkpoint", "--offline", "--output", ckpt}));
  EXPECT_EQ(created["height"], second["height"]) << created.dump(2);
  ASSIGN_OR_FAIL(auto checked, w.JsonOk(n, {"verify-checkpoint", ckpt}));
  EXPECT_EQ(checked["ok"], true) << checked.dump(2);
  CommandResult again = w.Cli(n, {"create-checkpoint", "--offline", "--output", ckpt});
  EXPECT_EQ(again.exit_code, 7) << "a checkpoint is never overwritten: " << again;

  // The first site is lost: bucket and everything in it.
  ASSERT_OK(s3test::DeleteBucket(env_, bucket_a_));
  CommandResult lost = w.Cli(n, {"snapshots"});
  EXPECT_EQ(lost.exit_code, 4) << lost;
  EXPECT_NE(lost.err.find(bucket_a_), std::string::npos) << "the message names the bucket: " << lost;

  // The copy alone restores the newest state, proven, and verifies deeply.
  const std::string target = w.scenario().dir().Join("restored/node-1");
  ASSIGN_OR_FAIL(auto restored, w.JsonOk(n, {"restore", "latest", "--repo", copy_url, "--target", target}));
  EXPECT_EQ(restored["verified"], true) << restored.dump(2);
  EXPECT_EQ(restored["state_root"], second["state_root"]);
  StateProof proof = ProveState(w, n, target);
  EXPECT_TRUE(proof.ok) << proof.result;
  CommandResult verify = w.Cli(n, {"verify", "--read-data", "--repo", copy_url});
  EXPECT_EQ(verify.exit_code, 0) << verify;

  // And the checkpoint applies by URL onto another dir (delta, atomic, proven).
  const std::string target2 = w.scenario().dir().Join("restored/from-checkpoint");
  ASSIGN_OR_FAIL(auto applied, w.JsonOk(n, {"apply-checkpoint", ckpt, "--target", target2}));
  EXPECT_EQ(applied["state_root"], second["state_root"]) << applied.dump(2);
  StateProof proof2 = ProveState(w, n, target2);
  EXPECT_TRUE(proof2.ok) << proof2.result;
  EXPECT_EQ(applied["bytes_written"], created["bytes"]) << "every file linked from the download: " << applied.dump(2);
  auto left = fs::ListDir(w.scenario().dir().Join("restored"));
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, (std::vector<std::string>{"from-checkpoint", "node-1"})) << "no download or staging left beside the target";
}

TEST_F(RepoS3, WrongCredentialsAndAMissingBucketAreNamed) {
  RepoWorld w("repo-s3-bad");
  w.UseRepository("s3://" + bucket_a_ + "/repo");
  TestNode& n = w.AddNode("node-1", S3Yaml(env_.endpoint));
  ASSERT_OK(w.InitRepo());

  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  CommandResult denied = w.Cli(n, {"snapshots"});
  ::setenv("AWS_SECRET_ACCESS_KEY", env_.secret_access_key.c_str(), 1);
  EXPECT_EQ(denied.exit_code, 5) << denied;
  EXPECT_NE(denied.err.find(bucket_a_), std::string::npos) << denied;
  EXPECT_EQ(denied.err.find("not-the-secret"), std::string::npos) << "a secret in a message: " << denied;

  CommandResult missing = w.Cli(n, {"snapshots", "--repo", "s3://no-such-bucket-ailee/repo"});
  EXPECT_EQ(missing.exit_code, 4) << missing;
  EXPECT_NE(missing.err.find("no-such-bucket-ailee"), std::string::npos) << missing;

  CommandResult bad_url = w.Cli(n, {"snapshots", "--repo", "s3://" + bucket_a_ + "/repo?colour=blue"});
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url;
}

TEST_F(RepoS3, ServerFailingMidBackupLeavesAValidRepositoryAndTheRerunCompletes) {
  FaultProxy proxy(Port());
  RepoWorld w("repo-s3-fault");
  w.UseRepository("s3://" + bucket_a_ + "/repo");
  TestNode& n = w.AddNode("node-1", S3Yaml(proxy.endpoint()));
  ASSERT_OK(w.BulkLoad(n, "24MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto base, w.JsonOk(n, {"backup", "state", "--offline"}));

  // Transient trouble (503, a reset) is retried through.
  proxy.Add({FaultProxy::Action::kStatus, 503, "SlowDown", 0, "PUT ", 2});
  proxy.Add({FaultProxy::Action::kReset, 0, "", 0, "GET ", 1});
  ASSERT_OK(w.BulkLoad(n, "", 300, 2));
  ASSIGN_OR_FAIL(auto retried, w.JsonOk(n, {"backup", "state", "--offline", "--full"}));
  EXPECT_EQ(proxy.faults_fired(), 3);

  // The server goes away in the middle of the next backup: once the first
  // pack upload has been seen, every request is refused.
  ASSERT_OK(w.BulkLoad(n, "", 300, 3));
  proxy.ClearRecorded();
  ASSIGN_OR_FAIL(Process bg, w.Background(n, {"--json", "backup", "state", "--offline", "--full"},
                                          w.scenario().dir().Join("bg.log")));
  for (int i = 0; i < 600; ++i) {
    bool pack_seen = false;
    for (const auto& h : proxy.request_heads()) pack_seen |= h.rfind("PUT ", 0) == 0 && h.find("/data/") != std::string::npos;
    if (pack_seen) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  proxy.Add({FaultProxy::Action::kReset, 0, "", 0, "", 100000});
  auto exit_code = bg.Wait(Millis(60000));
  ASSERT_TRUE(exit_code.has_value()) << "the backup must give up within its retry budget";
  EXPECT_EQ(*exit_code, 6) << FileTail(w.scenario().dir().Join("bg.log"));

  // The server is back: nothing half-written is visible, verify passes, the
  // rerun completes and reuses what the failed run stored.
  proxy.ClearFaults();
  ASSIGN_OR_FAIL(auto snaps, w.JsonOk(n, {"snapshots"}));
  EXPECT_EQ(snaps["snapshots"].size(), 2u) << snaps.dump(2);
  CommandResult verify = w.Cli(n, {"verify", "--read-data"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
  ASSIGN_OR_FAIL(auto rerun, w.JsonOk(n, {"backup", "state", "--offline"}));
  CommandResult verify2 = w.Cli(n, {"verify", "--read-data"});
  EXPECT_EQ(verify2.exit_code, 0) << verify2;
  const std::string target = w.scenario().dir().Join("restored");
  ASSIGN_OR_FAIL(auto restored, w.JsonOk(n, {"restore", "latest", "--target", target}));
  EXPECT_EQ(restored["state_root"], rerun["state_root"]);
  (void)base;
  (void)retried;
}

// In process (no node needed): the repository library on the S3 store.
TEST_F(RepoS3, PacksStoredSeveralAtOnceAndReadInMergedRangesRestoreByteIdentically) {
  namespace s3 = storage::s3;
  RepoWorld w("repo-s3-parallel");
  FaultProxy proxy(Port());
  s3::S3Options o = s3::testing::TestOptions(env_);
  o.endpoint = proxy.endpoint();
  o.multipart_threshold = 5 << 20;  // each 6 MiB pack is a multipart upload of 2 parts
  o.part_size = 5 << 20;
  o.parallel_uploads = 3;
  auto store = s3::S3ObjectStore::Open(s3::testing::StoreUrl(bucket_a_, "repo"), o, s3::testing::StoreEnv(env_));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Features().puts_in_flight, 3);
  repo::InitOptions init;
  init.kdf = crypto::Argon2Params::ForTests();
  init.chunk_size = 1 << 20;
  auto repo = repo::Repository::Init(*store, "correct horse", init);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();

  const std::string src = w.scenario().dir().Join("src");
  ASSERT_OK(fs::MakeDirs(src));
  std::mt19937_64 rng(42);
  for (int f = 0; f < 4; ++f) {
    std::string data((4 << 20) + 12345 * f, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    ASSERT_OK(fs::WriteFileAtomic(src + "/f" + std::to_string(f), data));
  }
  repo::BackupOptions bo;
  bo.pack_size = 6 << 20;
  bo.host = "node-1";  // uploads: 0, so the store's 3
  auto backup = repo::BackupTree(**repo, src, bo);
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_GE(backup->stats.packs_written, 3u);

  proxy.ClearRecorded();
  const std::string target = w.scenario().dir().Join("restored");
  auto restored = repo::RestoreSnapshot(**repo, repo::IdHex(backup->snapshot_id), target, {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  int pack_reads = 0;
  for (const auto& h : proxy.request_heads()) pack_reads += h.rfind("GET ", 0) == 0 && h.find("/data/") != std::string::npos;
  EXPECT_LT(pack_reads, 17) << "16+ chunks of 1 MiB, read in merged ranges";
  for (int f = 0; f < 4; ++f) {
    const std::string name = "/f" + std::to_string(f);
    EXPECT_TRUE(*fs::ReadFile(target + name) == *fs::ReadFile(src + name)) << name;
  }
  repo::VerifyOptions vo;
  vo.read_data = true;
  auto report = repo::Verify(**repo, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().ToString();
}

}  // namespace
}  // namespace ailee::it
