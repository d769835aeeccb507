// The real S3-compatible servers the tests run against (tests/s3/s3-server.sh:
// Swift with s3api, Ceph radosgw), and aws CLI helpers to prepare buckets.
//
// Typical use (see s3_smoke_test.cc):
//
//   std::optional<s3test::S3TestEnv> env = s3test::S3TestEnv::Load("swift");
//   ASSERT_TRUE(env) << "no S3 server (the reason is on stderr)";
//   std::string bucket = s3test::UniqueBucketName("conformance");
//   ASSERT_OK(s3test::CreateBucket(*env, bucket, /*object_lock=*/false));
//   ... point the S3 store at env->endpoint with env->access_key_id ...
//   EXPECT_OK(s3test::DeleteBucket(*env, bucket));
//
// Where the server comes from: under ctest, the fixture test s3_<kind>_start
// has started it once for the whole run and set AILEE_S3_TEST_DIR (see
// tests/s3/CMakeLists.txt, ailee_s3_tests). A test binary run by hand starts
// the server itself, into ${TMPDIR:-/tmp}/ailee-s3-<kind>-<uid>, and leaves
// it running for the next run (stop it with
// `tests/s3/s3-server.sh stop <kind> <dir>`).
//
// Secrets: the keys go to the aws CLI through its environment, never argv.
// The CLI gets a scrubbed environment: no AWS_* variable of the caller, and
// no ~/.aws files (AWS_CONFIG_FILE is the server's, credentials /dev/null).
//
// Thread safety: the functions keep no state except the bucket-name counter
// (atomic); they may run from several threads. Every command has a timeout.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::s3test {

// One running server, as its DIR/env file describes it.
struct S3TestEnv {
  std::string kind;               // "swift" or "ceph"
  std::string endpoint;           // http://127.0.0.1:PORT (path-style addressing)
  std::string access_key_id;      // swift: "account:user"
  std::string secret_access_key;  // test-only key, generated per server start
  std::string region;             // what the server signs with (us-east-1)
  bool object_lock = false;       // the server enforces S3 Object Lock (ceph: yes, swift: no)
  std::string dir;                // the server's directory (logs under dir/log)
  std::string aws_config_file;    // dir/aws-config: region, path-style
  std::vector<std::string> pid_files;  // one per server process

  // The server of `kind`: reads <dir>/env if the server's processes are
  // alive, otherwise runs `s3-server.sh start <kind> <dir>` (idempotent,
  // serialized by a lock, up to a few minutes for Ceph) and then reads it.
  // <dir> is $AILEE_S3_TEST_DIR/<kind>, else ${TMPDIR:-/tmp}/ailee-s3-<kind>-<uid>.
  // The script is the one in this source tree, or $AILEE_S3_SERVER_SCRIPT.
  static Result<S3TestEnv> Get(std::string_view kind);

  // Get(), with the error printed to stderr and nullopt returned. A test
  // that gets nullopt should fail, not skip: CI must not lose S3 coverage
  // silently.
  static std::optional<S3TestEnv> Load(std::string_view kind);

  // Parses the text of an env file (KEY='value' lines, as s3-server.sh
  // writes them). Exposed for tests.
  static Result<S3TestEnv> Parse(std::string_view text, std::string_view expected_kind);
};

// How a command (the aws CLI, s3-server.sh) ended.
struct CliResult {
  int exit_code = -1;      // 128+signal when killed; -1 when it could not run
  bool timed_out = false;
  std::string out;         // stdout (JSON or text, as the command prints it)
  std::string err;         // stderr
  bool ok() const { return exit_code == 0 && !timed_out; }
  std::string Describe() const;  // exit code and both streams, for messages
};

// Runs `aws --endpoint-url <env.endpoint> <args...>` with env's credentials
// in the environment. The aws binary: $AILEE_AWS_CLI, else /usr/bin/aws
// (Debian's awscli), else `aws` on PATH.
CliResult RunAws(const S3TestEnv& env, const std::vector<std::string>& args,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

// Creates `bucket`; with object_lock, with Object Lock enabled (and so
// versioning). Swift accepts the flag and ignores it (env.object_lock false).
Status CreateBucket(const S3TestEnv& env, const std::string& bucket, bool object_lock);

// Deletes `bucket` with everything in it: every object version and delete
// marker (bypassing GOVERNANCE retention), unfinished multipart uploads,
// then the bucket. A missing bucket is OK. Fails (kFailedPrecondition) while
// a COMPLIANCE retention holds a version. One aws run when only current
// objects are left (`aws s3 rb --force`), a few more otherwise.
Status DeleteBucket(const S3TestEnv& env, const std::string& bucket);

// A bucket name no other test (thread, process, earlier run) uses:
// "<prefix>-<pid>-<counter>-<random>", lowercase, DNS-compatible, at most
// 63 characters. `prefix` is lowercased; characters S3 does not allow in
// bucket names become '-'.
std::string UniqueBucketName(std::string_view prefix);

}  // namespace ailee::s3test
