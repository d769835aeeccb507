// Immutability on a real server with S3 Object Lock (Ceph radosgw, started
// by the ctest fixture): snapshots and the objects they reference are
// written with a retention date; forget and prune keep what is locked and
// say so; deleting a locked object with the repository's own (stolen)
// credentials fails. On Swift, which ignores Object Lock, asking for
// immutability is refused instead of pretended.
#include <cstdlib>

#include "repo_fixture.h"
#include "s3_test_env.h"

namespace ailee::it {
namespace {

void UseCredentials(const s3test::S3TestEnv& env) {
  ::setenv("AWS_ACCESS_KEY_ID", env.access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", env.secret_access_key.c_str(), 1);
  ::setenv("AWS_REGION", env.region.c_str(), 1);
  ::unsetenv("AWS_PROFILE");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
}

std::string LockYaml(const s3test::S3TestEnv& env) {
  return "  s3:\n    endpoint: " + env.endpoint +
         "\n    path_style: true\n    object_lock: {mode: GOVERNANCE, retention_days: 1}\n";
}

TEST(RepoS3Lock, LockedObjectsSurviveForgetPruneAndDeletionWithTheRepositorysCredentials) {
  auto env = s3test::S3TestEnv::Load("ceph");
  ASSERT_TRUE(env) << "no Ceph server (reason on stderr)";
  ASSERT_TRUE(env->object_lock);
  UseCredentials(*env);
  const std::string bucket = s3test::UniqueBucketName("it-lock");
  ASSERT_OK(s3test::CreateBucket(*env, bucket, /*object_lock=*/true));

  RepoWorld w("repo-s3-lock");
  w.UseRepository("s3://" + bucket + "/repo");
  TestNode& n = w.AddNode("node-1", LockYaml(*env));
  ASSERT_OK(w.BulkLoad(n, "6MiB"));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto first, w.JsonOk(n, {"backup", "state", "--offline"}));
  ASSERT_OK(w.BulkLoad(n, "", 200, 2));
  ASSIGN_OR_FAIL(auto second, w.JsonOk(n, {"backup", "state", "--offline", "--full"}));

  // forget keeps the locked snapshot and says until when; prune deletes nothing.
  ASSIGN_OR_FAIL(auto forgot, w.JsonOk(n, {"forget", "--kind", "all", "--keep-last", "1"}));
  EXPECT_EQ(forgot["removed"], 0) << forgot.dump(2);
  bool saw_locked = false;
  for (const auto& d : forgot["decisions"]) saw_locked |= d.contains("locked_until");
  EXPECT_TRUE(saw_locked) << forgot.dump(2);
  ASSIGN_OR_FAIL(auto pruned, w.JsonOk(n, {"prune"}));
  EXPECT_EQ(pruned["packs_deleted"], 0) << pruned.dump(2);

  // Someone with the repository's credentials tries to destroy the backups.
  s3test::CliResult listed = s3test::RunAws(*env, {"s3api", "list-object-versions", "--bucket", bucket,
                                                   "--prefix", "repo/snapshots/", "--output", "json"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  auto versions = nlohmann::json::parse(listed.out)["Versions"];
  ASSERT_EQ(versions.size(), 2u) << listed.out;
  for (const auto& v : versions) {
    s3test::CliResult del = s3test::RunAws(*env, {"s3api", "delete-object", "--bucket", bucket, "--key",
                                                  v["Key"].get<std::string>(),
                                                  "--version-id=" + v["VersionId"].get<std::string>()});
    EXPECT_FALSE(del.ok()) << "a locked snapshot version was deleted: " << del.Describe();
    EXPECT_NE(del.err.find("AccessDenied"), std::string::npos) << del.Describe();
  }

  // Everything is still there and restores, proven.
  CommandResult verify = w.Cli(n, {"verify", "--read-data"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
  const std::string target = w.scenario().dir().Join("restored");
  ASSIGN_OR_FAIL(auto restored, w.JsonOk(n, {"restore", first["snapshot"].get<std::string>(), "--target", target}));
  EXPECT_EQ(restored["state_root"], first["state_root"]);
  (void)second;
  (void)s3test::DeleteBucket(*env, bucket);  // GOVERNANCE: the test harness may bypass
}

TEST(RepoS3Lock, ImmutabilityOnAServerWithoutObjectLockIsRefused) {
  auto env = s3test::S3TestEnv::Load("swift");
  ASSERT_TRUE(env) << "no Swift server (reason on stderr)";
  ASSERT_FALSE(env->object_lock);
  UseCredentials(*env);
  const std::string bucket = s3test::UniqueBucketName("it-nolock");
  ASSERT_OK(s3test::CreateBucket(*env, bucket, /*object_lock=*/true));

  RepoWorld w("repo-s3-nolock");
  w.UseRepository("s3://" + bucket + "/repo");
  TestNode& n = w.AddNode("node-1", LockYaml(*env));
  CommandResult init = w.Cli(n, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  EXPECT_NE(init.exit_code, 0) << init;
  EXPECT_NE(init.err.find("Object Lock"), std::string::npos) << init;
  EXPECT_NE(init.err.find(bucket), std::string::npos) << init;
  s3test::CliResult listed = s3test::RunAws(*env, {"s3api", "list-objects-v2", "--bucket", bucket, "--output", "json"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  EXPECT_EQ(listed.out.find("repo/"), std::string::npos) << "nothing may be written: " << listed.out;
  (void)s3test::DeleteBucket(*env, bucket);
}

}  // namespace
}  // namespace ailee::it
