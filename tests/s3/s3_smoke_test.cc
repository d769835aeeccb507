// The S3 servers the tests use are real and configured as documented:
// buckets, objects, multipart uploads through the aws CLI against Swift and
// Ceph, and Object Lock enforced by Ceph but ignored by Swift (which is what
// AILEE_TEST_S3_OBJECT_LOCK says, and what our tool must tell its users).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "s3_test_env.h"

namespace ailee::s3test {
namespace {

#define ASSERT_STATUS_OK(expr)                         \
  do {                                                 \
    const ::ailee::Status _st = (expr);                \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString(); \
  } while (0)

// An ISO 8601 UTC time `seconds` from now, as S3 retention dates are given.
std::string UtcIn(int64_t seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A test with a server of one kind, a fresh bucket and a scratch directory.
class S3ServerTest : public ::testing::Test {
 protected:
  void StartOn(const std::string& kind, bool object_lock_bucket = false) {
    env_ = S3TestEnv::Load(kind);
    ASSERT_TRUE(env_) << "no " << kind << " S3 server; the reason is on stderr";
    bucket_ = UniqueBucketName("smoke-" + kind);
    ASSERT_STATUS_OK(CreateBucket(*env_, bucket_, object_lock_bucket));
    bucket_created_ = true;
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ailee-s3-smoke-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr) << pattern;
    scratch_ = buf.data();
  }

  void TearDown() override {
    if (bucket_created_ && keep_bucket_reason_.empty()) {
      Status st = DeleteBucket(*env_, bucket_);
      EXPECT_TRUE(st.ok()) << "cleaning up " << bucket_ << ": " << st.ToString();
    }
    if (!scratch_.empty()) (void)fs::RemoveAll(scratch_);
  }

  CliResult Aws(const std::vector<std::string>& args) { return RunAws(*env_, args); }

  // Runs an s3api command that must succeed and print JSON.
  nlohmann::json AwsJson(std::vector<std::string> args) {
    args.insert(args.end(), {"--output", "json"});
    CliResult r = Aws(args);
    EXPECT_TRUE(r.ok()) << r.Describe();
    if (!r.ok() || r.out.empty()) return nlohmann::json::object();
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  std::string WriteRandomFile(const std::string& name, size_t size) {
    std::string data(size, '\0');
    std::mt19937_64 rng(size);
    for (size_t i = 0; i + 8 <= size; i += 8) {
      uint64_t v = rng();
      std::memcpy(&data[i], &v, 8);
    }
    std::string path = fs::JoinPath(scratch_, name);
    EXPECT_TRUE(fs::WriteFileAtomic(path, data).ok());
    return path;
  }

  std::optional<S3TestEnv> env_;
  std::string bucket_;
  bool bucket_created_ = false;
  std::string keep_bucket_reason_;  // set when the bucket cannot be deleted
  std::string scratch_;
};

// ------------------------------------------------------------- every kind

class S3SmokeTest : public S3ServerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(S3SmokeTest, EnvFileDescribesALoopbackServer) {
  env_ = S3TestEnv::Load(GetParam());
  ASSERT_TRUE(env_) << "no " << GetParam() << " S3 server; the reason is on stderr";
  EXPECT_EQ(env_->kind, GetParam());
  EXPECT_EQ(env_->endpoint.rfind("http://127.0.0.1:", 0), 0u) << env_->endpoint;
  EXPECT_EQ(env_->region, "us-east-1");
  EXPECT_EQ(env_->object_lock, GetParam() == "ceph");
  EXPECT_FALSE(env_->pid_files.empty());
  if (GetParam() == "swift") {
    EXPECT_NE(env_->access_key_id.find(':'), std::string::npos) << "tempauth keys are account:user";
  }
}

// One object through its whole life, uploaded by `aws s3 cp`, which splits
// 20 MiB into 8 MiB parts: a real multipart upload. Every aws run costs
// about a second of CPU, so this is one test, not five.
TEST_P(S3SmokeTest, MultipartUploadListDownloadDelete) {
  StartOn(GetParam());
  std::string in = WriteRandomFile("big", 20 << 20);
  std::string out = fs::JoinPath(scratch_, "big.back");

  CliResult up = Aws({"s3", "cp", "--only-show-errors", in, "s3://" + bucket_ + "/dir/big"});
  ASSERT_TRUE(up.ok()) << up.Describe();

  nlohmann::json listing = AwsJson({"s3api", "list-objects-v2", "--bucket", bucket_, "--prefix", "dir/"});
  ASSERT_EQ(listing.value("Contents", nlohmann::json::array()).size(), 1u) << listing.dump();
  EXPECT_EQ(listing["Contents"][0]["Key"], "dir/big");
  EXPECT_EQ(listing["Contents"][0]["Size"], 20 << 20);
  // A multipart object's ETag is "<md5 of the part md5s>-<part count>".
  EXPECT_NE(listing["Contents"][0].value("ETag", "").find("-3"), std::string::npos) << listing.dump();

  CliResult down = Aws({"s3", "cp", "--only-show-errors", "s3://" + bucket_ + "/dir/big", out});
  ASSERT_TRUE(down.ok()) << down.Describe();
  EXPECT_TRUE(fs::ReadFile(out).value() == fs::ReadFile(in).value()) << "downloaded bytes differ";

  CliResult del = Aws({"s3api", "delete-object", "--bucket", bucket_, "--key", "dir/big"});
  ASSERT_TRUE(del.ok()) << del.Describe();
  CliResult head = Aws({"s3api", "head-object", "--bucket", bucket_, "--key", "dir/big"});
  EXPECT_FALSE(head.ok());
  EXPECT_NE(head.err.find("404"), std::string::npos) << head.Describe();
}

INSTANTIATE_TEST_SUITE_P(Kinds, S3SmokeTest, ::testing::Values("swift", "ceph"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// ------------------------------------------------------------------- ceph

class CephObjectLock : public S3ServerTest {
 protected:
  // Puts a small object under retention; returns its version id.
  std::string PutRetained(const std::string& key, const std::string& mode, int64_t seconds) {
    std::string body = WriteRandomFile(key, 1024);
    nlohmann::json put = AwsJson({"s3api", "put-object", "--bucket", bucket_, "--key", key, "--body", body,
                                  "--object-lock-mode", mode, "--object-lock-retain-until-date", UtcIn(seconds)});
    EXPECT_TRUE(put.contains("VersionId")) << put.dump();
    return put.value("VersionId", "");
  }
  // --version-id=V: version ids may start with '-'.
  CliResult DeleteVersion(const std::string& key, const std::string& version, bool bypass) {
    std::vector<std::string> args = {"s3api", "delete-object", "--bucket", bucket_, "--key", key,
                                     "--version-id=" + version};
    if (bypass) args.push_back("--bypass-governance-retention");
    return Aws(args);
  }
};

// GOVERNANCE retention refuses a plain delete of the version; DeleteBucket
// then removes it anyway (bypass), through its thorough path: `s3 rb
// --force` only adds a delete marker in a versioned bucket.
TEST_F(CephObjectLock, GovernanceBlocksDeleteAndDeleteBucketBypassesIt) {
  StartOn("ceph", /*object_lock_bucket=*/true);
  std::string version = PutRetained("gov", "GOVERNANCE", 3600);
  ASSERT_FALSE(version.empty());

  CliResult denied = DeleteVersion("gov", version, /*bypass=*/false);
  EXPECT_FALSE(denied.ok());
  EXPECT_NE(denied.err.find("AccessDenied"), std::string::npos) << denied.Describe();

  ASSERT_STATUS_OK(DeleteBucket(*env_, bucket_));
  bucket_created_ = false;
}

TEST_F(CephObjectLock, ComplianceBlocksDeleteEvenWithBypass) {
  StartOn("ceph", /*object_lock_bucket=*/true);
  std::string version = PutRetained("comp", "COMPLIANCE", 86400);
  ASSERT_FALSE(version.empty());
  // Nobody can remove this version for a day: the bucket stays behind in the
  // throwaway cluster (every s3-server.sh start makes a fresh one).
  keep_bucket_reason_ = "COMPLIANCE retention";

  CliResult denied = DeleteVersion("comp", version, /*bypass=*/true);
  EXPECT_FALSE(denied.ok());
  EXPECT_NE(denied.err.find("AccessDenied"), std::string::npos) << denied.Describe();
}

// ------------------------------------------------------------------ swift

// Swift's s3api accepts every Object Lock parameter and enforces none. Our
// tool must not promise immutability on such a server; if a Swift upgrade
// starts enforcing, this test fails and swift.sh's OBJECT_LOCK=0 must change.
TEST(SwiftObjectLock, IsAcceptedButNotEnforced) {
  std::optional<S3TestEnv> env = S3TestEnv::Load("swift");
  ASSERT_TRUE(env) << "no swift S3 server; the reason is on stderr";
  EXPECT_FALSE(env->object_lock);
  std::string bucket = UniqueBucketName("smoke-swift-lock");
  ASSERT_STATUS_OK(CreateBucket(*env, bucket, /*object_lock=*/true));

  CliResult put = RunAws(*env, {"s3api", "put-object", "--bucket", bucket, "--key", "k", "--object-lock-mode",
                                "COMPLIANCE", "--object-lock-retain-until-date", UtcIn(86400)});
  EXPECT_TRUE(put.ok()) << put.Describe();
  CliResult del = RunAws(*env, {"s3api", "delete-object", "--bucket", bucket, "--key", "k"});
  EXPECT_TRUE(del.ok()) << del.Describe();
  CliResult head = RunAws(*env, {"s3api", "head-object", "--bucket", bucket, "--key", "k"});
  EXPECT_FALSE(head.ok()) << "a COMPLIANCE-retained object was deleted, yet it is still there?";
  EXPECT_NE(head.err.find("404"), std::string::npos) << head.Describe();

  ASSERT_STATUS_OK(DeleteBucket(*env, bucket));
}

}  // namespace
}  // namespace ailee::s3test
