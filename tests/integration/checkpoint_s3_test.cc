// Checkpoints by URL on a real S3-compatible server (Swift with s3api,
// started by the ctest fixture), through a fault-injecting proxy:
// create-checkpoint killed in the middle of its upload leaves a scratch
// directory of hard links beside the data dir, and the next run removes it;
// apply-checkpoint of an older checkpoint by URL is refused before anything
// is downloaded.
#include <cstdlib>

#include "base/fs.h"
#include "repo_fixture.h"
#include "s3_fault_proxy.h"
#include "s3_test_env.h"

namespace ailee::it {
namespace {

using storage::s3::testing::FaultProxy;

// Names beside `data_dir` that are its scratch directories ("data.tmp.*").
std::vector<std::string> Scratch(const std::string& data_dir) {
  std::vector<std::string> out;
  for (const auto& n : Entries(fs::Dirname(data_dir))) {
    if (n.rfind(fs::Basename(data_dir) + ".tmp.", 0) == 0) out.push_back(n);
  }
  return out;
}

class CheckpointS3 : public ::testing::Test {
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
    bucket_ = s3test::UniqueBucketName("it-ckpt");
    ASSERT_OK(s3test::CreateBucket(env_, bucket_, false));
  }
  void TearDown() override { (void)s3test::DeleteBucket(env_, bucket_); }
  int Port() const { return std::atoi(env_.endpoint.substr(env_.endpoint.rfind(':') + 1).c_str()); }

  s3test::S3TestEnv env_;
  std::string bucket_;
};

TEST_F(CheckpointS3, UploadKilledMidwayLeavesScratchThatTheNextRunRemoves) {
  FaultProxy proxy(Port());
  RepoWorld w("ckpt-s3");
  TestNode& n = w.AddNode("node-1", "  s3:\n    endpoint: " + proxy.endpoint() +
                                        "\n    path_style: true\n    retry: {max_attempts: 4, budget_s: 5}\n");
  ASSERT_OK(w.BulkLoad(n, "", 300));
  const std::string url = "s3://" + bucket_ + "/checkpoints/c1";

  // Every upload request is held: the run is stuck in its upload, with its
  // checkpoint (hard links to the node's SST files) beside the data dir.
  FaultProxy::Fault hold;
  hold.action = FaultProxy::Action::kDelay;
  hold.delay_ms = 600000;
  hold.match = "PUT ";
  hold.count = 1000000;
  proxy.Add(hold);
  ASSIGN_OR_FAIL(Process run, w.Background(n, {"create-checkpoint", "--offline", "--output", url},
                                           w.scenario().dir().Join("killed.log")));
  auto uploading = [&] {
    for (const auto& h : proxy.request_heads()) {
      if (h.rfind("PUT ", 0) == 0) return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil(uploading, Millis(120000))) << FileTail(w.scenario().dir().Join("killed.log"));
  EXPECT_EQ(run.Kill(), 137);
  const auto left = Scratch(n.data_dir());
  ASSERT_FALSE(left.empty()) << "the killed run left no scratch directory: nothing to test";

  // The next run removes what the killed one left, and its own on success.
  proxy.ClearFaults();
  ASSIGN_OR_FAIL(auto made, w.JsonOk(n, {"create-checkpoint", "--offline", "--output", url}));
  EXPECT_EQ(Scratch(n.data_dir()), std::vector<std::string>{}) << "left beside the data dir";

  // The node moves on; its data dir is now ahead of the checkpoint. Applying
  // the checkpoint by URL is a rollback: refused before any download.
  ASSERT_OK(w.BulkLoad(n, "", 300));
  const std::string target = w.scenario().dir().Join("ahead/node-1");
  ASSERT_OK(fs::MakeDirs(fs::Dirname(target)));
  ASSERT_OK(CopyTree(n.data_dir(), target));
  proxy.ClearRecorded();
  CommandResult refused = w.Cli(n, {"apply-checkpoint", url, "--target", target});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_NE(refused.err.find("height " + std::to_string(made["height"].get<uint64_t>())), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("--allow-rollback"), std::string::npos) << refused;
  for (const auto& h : proxy.request_heads()) EXPECT_EQ(h.find(".sst"), std::string::npos) << "downloaded: " << h;
  EXPECT_EQ(Entries(fs::Dirname(target)), std::vector<std::string>{"node-1"});

  CommandResult allowed = w.Cli(n, {"apply-checkpoint", url, "--target", target, "--allow-rollback"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed;
  StateProof proof = ProveState(w, n, target);
  EXPECT_TRUE(proof.ok) << proof.result;
  EXPECT_EQ(proof.height, made["height"].get<uint64_t>());
  EXPECT_EQ(Entries(fs::Dirname(target)), std::vector<std::string>{"node-1"});
}

// create-checkpoint --output s3:// must leave nothing beside the data dir,
// whichever way it ends: a refused upload (the server answers 403 to every
// PUT), and an online run (the running node writes the checkpoint's hard
// links into the scratch dir, so it is not this process's own files).
TEST_F(CheckpointS3, FailedUploadAndOnlineRunLeaveNothingBesideTheDataDir) {
  FaultProxy proxy(Port());
  RepoWorld w("ckpt-s3-clean");
  TestNode& n = w.AddNode("node-1", "  s3:\n    endpoint: " + proxy.endpoint() +
                                        "\n    path_style: true\n    retry: {max_attempts: 2, budget_s: 2}\n");
  ASSERT_OK(w.BulkLoad(n, "", 200));
  // The data dir's parent, less the logs the cli and the node write there.
  const std::string parent = fs::Dirname(n.data_dir());
  auto beside = [&] {
    std::vector<std::string> out;
    for (const auto& e : Entries(parent)) {
      // The audit log and its .lock/.head files are the audit log's.
      if (e.rfind("audit.log", 0) != 0 && e != "node.log") out.push_back(e);
    }
    return out;
  };
  const auto before = beside();

  FaultProxy::Fault refuse;
  refuse.action = FaultProxy::Action::kStatus;
  refuse.status = 403;
  refuse.code = "AccessDenied";
  refuse.match = "PUT ";
  refuse.count = 1000000;
  proxy.Add(refuse);
  CommandResult failed = w.Cli(n, {"create-checkpoint", "--offline", "--output", "s3://" + bucket_ + "/refused"});
  EXPECT_NE(failed.exit_code, 0) << failed;
  EXPECT_EQ(beside(), before) << "left beside the data dir after a failed upload";
  proxy.ClearFaults();

  ASSERT_OK(n.Start());
  ASSIGN_OR_FAIL(auto made, w.JsonOk(n, {"create-checkpoint", "--output", "s3://" + bucket_ + "/online"}));
  EXPECT_EQ(made["source"].get<std::string>().rfind("online:", 0), 0u) << made.dump();
  EXPECT_EQ(beside(), before) << "left beside the data dir after an online run";
  EXPECT_EQ(n.Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
