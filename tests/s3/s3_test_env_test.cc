// S3TestEnv's parts that need no server: the env file format s3-server.sh
// writes, and bucket names S3 accepts.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "s3_test_env.h"

namespace ailee::s3test {
namespace {

// What s3-server.sh's write_env produces (values single-quoted).
constexpr char kSwiftEnv[] =
    "AILEE_TEST_S3_KIND='swift'\n"
    "AILEE_TEST_S3_ENDPOINT='http://127.0.0.1:42315'\n"
    "AWS_ACCESS_KEY_ID='test:tester'\n"
    "AWS_SECRET_ACCESS_KEY='5bfa887e7848c0ac50ca14efa47450256fff'\n"
    "AWS_REGION='us-east-1'\n"
    "AWS_DEFAULT_REGION='us-east-1'\n"
    "AWS_ENDPOINT_URL='http://127.0.0.1:42315'\n"
    "AWS_CONFIG_FILE='/tmp/s3/swift/aws-config'\n"
    "AWS_SHARED_CREDENTIALS_FILE='/dev/null'\n"
    "AWS_PAGER=''\n"
    "AWS_PROFILE='default'\n"
    "AILEE_TEST_S3_OBJECT_LOCK='0'\n"
    "AILEE_TEST_S3_DIR='/tmp/s3/swift'\n"
    "AILEE_TEST_S3_PID_FILES='/tmp/s3/swift/run/memcached.pid /tmp/s3/swift/run/proxy.pid'\n";

TEST(S3TestEnvParse, ReadsWhatTheScriptWrites) {
  Result<S3TestEnv> env = S3TestEnv::Parse(kSwiftEnv, "swift");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->kind, "swift");
  EXPECT_EQ(env->endpoint, "http://127.0.0.1:42315");
  EXPECT_EQ(env->access_key_id, "test:tester");
  EXPECT_EQ(env->secret_access_key, "5bfa887e7848c0ac50ca14efa47450256fff");
  EXPECT_EQ(env->region, "us-east-1");
  EXPECT_FALSE(env->object_lock);
  EXPECT_EQ(env->dir, "/tmp/s3/swift");
  EXPECT_EQ(env->aws_config_file, "/tmp/s3/swift/aws-config");
  EXPECT_EQ(env->pid_files,
            (std::vector<std::string>{"/tmp/s3/swift/run/memcached.pid", "/tmp/s3/swift/run/proxy.pid"}));
}

TEST(S3TestEnvParse, RefusesAnotherKindMissingFieldsAndBadFlags) {
  EXPECT_EQ(S3TestEnv::Parse(kSwiftEnv, "ceph").status().code(), StatusCode::kInvalidArgument);

  Result<S3TestEnv> missing = S3TestEnv::Parse("AILEE_TEST_S3_KIND='swift'\nAWS_REGION='us-east-1'\n", "swift");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos)
      << missing.status().ToString();

  std::string bad_flag = kSwiftEnv;
  bad_flag.replace(bad_flag.find("OBJECT_LOCK='0'"), 15, "OBJECT_LOCK='y'");
  EXPECT_EQ(S3TestEnv::Parse(bad_flag, "swift").status().code(), StatusCode::kInvalidArgument);
}

TEST(UniqueBucketName, IsDistinctAndValidForS3) {
  std::set<std::string> seen;
  const std::vector<std::string> prefixes = {"conformance", "Mixed_Case.And Spaces", "-leading", "",
                                             std::string(100, 'x')};
  for (const std::string& prefix : prefixes) {
    for (int i = 0; i < 3; ++i) {
      std::string name = UniqueBucketName(prefix);
      EXPECT_TRUE(seen.insert(name).second) << name;
      EXPECT_GE(name.size(), 3u);
      EXPECT_LE(name.size(), 63u) << name;
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(name.front()))) << name;
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(name.back()))) << name;
      for (char c : name) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << name;
      }
    }
  }
}

}  // namespace
}  // namespace ailee::s3test
