// The S3 store's pieces that need no server: URL and option resolution,
// credentials, retry policy, XML, error mapping.
#include <gtest/gtest.h>

#include <map>

#include "base/fs.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_credentials.h"
#include "storage/s3/s3_errors.h"
#include "storage/s3/s3_options.h"
#include "storage/s3/s3_time.h"
#include "storage/s3/s3_xml.h"

namespace ailee::storage::s3 {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const std::map<std::string, std::string> kKeys = {
    {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "s3cr3t-v4lue"}, {"HOME", "/nonexistent"}};

TEST(S3Options, UrlGivesBucketPrefixAndOverridesDefaults) {
  S3Options defaults;
  defaults.endpoint = "http://config-endpoint:9000";
  defaults.region = "eu-west-1";
  auto c = ResolveS3Config("s3://bkt/some/prefix/?endpoint=http://127.0.0.1:9000/&region=us-east-2", defaults,
                           FakeEnv(kKeys));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bucket, "bkt");
  EXPECT_EQ(c->prefix, "some/prefix");
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c->region, "us-east-2");
  EXPECT_TRUE(c->path_style) << "custom endpoints default to path-style";
  EXPECT_EQ(c->credentials.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c->credentials.secret_access_key.reveal(), "s3cr3t-v4lue");
}

TEST(S3Options, PrecedenceIsUrlThenOptionsThenEnvironmentThenDefault) {
  auto env = kKeys;
  env["AWS_REGION"] = "ap-south-1";
  env["AWS_ENDPOINT_URL"] = "http://env-endpoint:1";
  auto from_env = ResolveS3Config("s3://bkt", {}, FakeEnv(env));
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->region, "ap-south-1");
  EXPECT_EQ(from_env->endpoint, "http://env-endpoint:1");
  env["AWS_ENDPOINT_URL_S3"] = "http://env-s3-endpoint:2";
  EXPECT_EQ(ResolveS3Config("s3://bkt", {}, FakeEnv(env))->endpoint, "http://env-s3-endpoint:2");
  S3Options o;
  o.region = "eu-central-1";
  EXPECT_EQ(ResolveS3Config("s3://bkt", o, FakeEnv(env))->region, "eu-central-1");

  auto aws = ResolveS3Config("s3://bkt", {}, FakeEnv(kKeys));
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->region, "us-east-1");
  EXPECT_EQ(aws->endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(aws->path_style) << "AWS defaults to virtual-hosted style";
  EXPECT_TRUE(ResolveS3Config("s3://my.dotted.bucket", {}, FakeEnv(kKeys))->path_style);
  EXPECT_FALSE(ResolveS3Config("s3://bkt?endpoint=http://h:1&path_style=0", {}, FakeEnv(kKeys))->path_style);
}

TEST(S3Options, StorageClassesFromUrlAndPrefixMatching) {
  S3Options o;
  o.storage_classes["snapshots/"] = "STANDARD";
  auto c = ResolveS3Config("s3://bkt?storage_class=STANDARD_IA&storage_class.data=GLACIER", o, FakeEnv(kKeys));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->options.storage_class, "STANDARD_IA");
  const auto& table = c->options.storage_classes;
  EXPECT_EQ(MatchPrefixTable(table, "data/ab/abcdef"), "GLACIER");
  EXPECT_EQ(MatchPrefixTable(table, "data"), "GLACIER");
  EXPECT_EQ(MatchPrefixTable(table, "database"), "") << "a name matches whole components only";
  EXPECT_EQ(MatchPrefixTable(table, "snapshots/x"), "STANDARD");
  EXPECT_EQ(MatchPrefixTable(table, "config"), "");
  std::map<std::string, std::string> nested = {{"data/", "A"}, {"data/ab/", "B"}};
  EXPECT_EQ(MatchPrefixTable(nested, "data/ab/1"), "B") << "longest prefix wins";
  EXPECT_EQ(MatchPrefixTable(nested, "data/cd/1"), "A");
  EXPECT_TRUE(MatchesAnyPrefix({}, "anything"));
  EXPECT_TRUE(MatchesAnyPrefix({"snapshots/", "config"}, "config"));
  EXPECT_FALSE(MatchesAnyPrefix({"snapshots/", "config"}, "data/x"));
}

TEST(S3Options, RejectsBadUrlsAndOptions) {
  auto code = [](const std::string& url, S3Options o = {}) {
    return ResolveS3Config(url, o, FakeEnv(kKeys)).status().code();
  };
  EXPECT_EQ(code("s3://"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt/a/../b"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt?color=red"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt?endpoint=ftp://x"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt?endpoint=http://x/path"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt?path_style=maybe"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s3://bkt?storage_class=STANDARD%0d%0aX-Evil:%201"), StatusCode::kInvalidArgument);
  S3Options lock;
  lock.object_lock_mode = "FOREVER";
  lock.retention_days = 1;
  EXPECT_EQ(code("s3://bkt", lock), StatusCode::kInvalidArgument);
  lock.object_lock_mode = "COMPLIANCE";
  lock.retention_days = 0;
  EXPECT_EQ(code("s3://bkt", lock), StatusCode::kInvalidArgument);
  lock.retention_days = 30;
  EXPECT_TRUE(ResolveS3Config("s3://bkt", lock, FakeEnv(kKeys)).ok());
  // Secrets in the URL are not a thing: there is no parameter for them.
  Status st = ResolveS3Config("s3://bkt?secret_access_key=x", {}, FakeEnv(kKeys)).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

class S3CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-s3creds-XXXXXX";
    dir_ = mkdtemp(tmpl);
    file_ = dir_ + "/credentials";
    ASSERT_TRUE(fs::WriteFileAtomic(file_,
                                    "# comment\n[default]\naws_access_key_id = DEFAULTID\n"
                                    "aws_secret_access_key = defaultsecret\n\n"
                                    "[backup]\r\naws_access_key_id=BACKUPID\r\naws_secret_access_key=backupsecret\r\n"
                                    "aws_session_token = tok\r\n[half]\naws_access_key_id = HALF\n",
                                    0600)
                    .ok());
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_, file_;
};

TEST_F(S3CredentialsTest, EnvironmentFirstThenFileProfile) {
  auto env = ResolveCredentials({}, FakeEnv({{"AWS_ACCESS_KEY_ID", "ENVID"},
                                             {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                             {"AWS_SESSION_TOKEN", "envtoken"},
                                             {"AWS_SHARED_CREDENTIALS_FILE", file_}}));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->access_key_id, "ENVID");
  EXPECT_EQ(env->session_token.reveal(), "envtoken");
  EXPECT_NE(env->source.find("environment"), std::string::npos);

  auto def = ResolveCredentials({}, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file_}}));
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->access_key_id, "DEFAULTID");
  EXPECT_EQ(def->secret_access_key.reveal(), "defaultsecret");

  auto prof = ResolveCredentials({}, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file_}, {"AWS_PROFILE", "backup"}}));
  ASSERT_TRUE(prof.ok()) << prof.status().ToString();
  EXPECT_EQ(prof->access_key_id, "BACKUPID");
  EXPECT_EQ(prof->session_token.reveal(), "tok");
  EXPECT_NE(prof->source.find("backup"), std::string::npos);
}

TEST_F(S3CredentialsTest, ExplicitProfileAndFileWinOverEnvironment) {
  auto env = FakeEnv({{"AWS_ACCESS_KEY_ID", "ENVID"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  auto c = ResolveCredentials({"backup", file_}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "BACKUPID");
  Status missing = ResolveCredentials({"nope", file_}, env).status();
  EXPECT_EQ(missing.code(), StatusCode::kPermissionDenied) << missing.ToString();
  EXPECT_NE(missing.message().find("nope"), std::string::npos);
  Status half = ResolveCredentials({"half", file_}, env).status();
  EXPECT_EQ(half.code(), StatusCode::kPermissionDenied) << half.ToString();
}

TEST_F(S3CredentialsTest, NothingConfiguredOrHalfConfiguredIsAClearError) {
  Status none = ResolveCredentials({}, FakeEnv({{"HOME", dir_ + "/nohome"}})).status();
  EXPECT_EQ(none.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(none.message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << none.message();
  EXPECT_NE(none.message().find(dir_ + "/nohome/.aws/credentials"), std::string::npos) << none.message();
  Status half = ResolveCredentials({}, FakeEnv({{"AWS_SECRET_ACCESS_KEY", "x"}})).status();
  EXPECT_EQ(half.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(half.message().find("x "), std::string::npos);
}

TEST(S3Credentials, SecretStringWipesOnMove) {
  SecretString a(std::string(64, 'k'));
  SecretString b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(b.reveal(), std::string(64, 'k'));
  SecretString c;
  c = b;
  EXPECT_EQ(c.reveal(), b.reveal());
}

TEST(S3Retry, FullJitterWithinCapsAndGivesUp) {
  RetryPolicy p;
  p.max_attempts = 5;
  p.base_delay_ms = 100;
  p.max_delay_ms = 300;
  p.budget_ms = 1000000;
  Backoff b(p, 0);
  int64_t caps[] = {100, 200, 300, 300};
  for (int64_t cap : caps) {
    int64_t d = b.NextDelayMs(0);
    EXPECT_GE(d, 0);
    EXPECT_LE(d, cap);
  }
  EXPECT_EQ(b.NextDelayMs(0), -1) << "5 attempts failed: give up";

  RetryPolicy tight = p;
  tight.max_attempts = 100;
  tight.budget_ms = 1000;
  Backoff budget(tight, 0);
  EXPECT_GE(budget.NextDelayMs(500), 0);
  EXPECT_EQ(budget.NextDelayMs(1001), -1) << "past the time budget: give up";
}

TEST(S3Xml, ParsesListingsUploadsAndErrors) {
  auto page = ParseListObjectsV2(
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>"
      "<Contents><Key>p/a&amp;b</Key><Size>12</Size><LastModified>2026-11-26T13:32:11.500Z</LastModified></Contents>"
      "<Contents><Key>p/c</Key><Size>0</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a&b");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].last_modified_ms % 1000, 500);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok&1");
  EXPECT_EQ(ParseListObjectsV2("<html>proxy error</html>").status().code(), StatusCode::kInternal);

  auto err = ParseErrorBody("<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "SlowDown");
  EXPECT_FALSE(ParseErrorBody("<ListBucketResult/>"));
  EXPECT_FALSE(ParseErrorBody(""));

  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u-1</UploadId>"
      "</InitiateMultipartUploadResult>");
  EXPECT_EQ(*id, "u-1");
  auto uploads = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>p/k</Key><UploadId>x</UploadId>"
      "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>");
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].initiated_ms, *ParseIso8601Millis("2026-01-01T00:00:00Z"));

  EXPECT_TRUE(ParseObjectLockEnabled(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"));
  EXPECT_FALSE(ParseObjectLockEnabled("<ListBucketResult><Name>b</Name></ListBucketResult>"));
  EXPECT_EQ(BuildCompleteMultipartUpload({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1"
            "</PartNumber><ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;"
            "</ETag></Part></CompleteMultipartUpload>");
}

TEST(S3Time, ParsesIsoAndHttpDates) {
  EXPECT_EQ(*ParseIso8601Millis("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseIso8601Millis("1970-01-01T00:00:01.25Z"), 1250);
  EXPECT_FALSE(ParseIso8601Millis("yesterday"));
  EXPECT_EQ(*ParseHttpDateMillis("Thu, 01 Jan 1970 00:00:02 GMT"), 2000);
  EXPECT_EQ(FormatIso8601(1250), "1970-01-01T00:00:01Z");
}

TEST(S3Client, UriEncodingIsAwsCanonical) {
  EXPECT_EQ(UriEncode("data/ab/x y+z~_.-", true), "data/ab/x%20y%2Bz~_.-");
  EXPECT_EQ(UriEncode("a/b=c", false), "a%2Fb%3Dc");
}

TEST(S3Client, RetryWaitsGoThroughTheInjectedClockAndSleep) {
  // Nothing listens on port 1: every attempt is refused at once, so the
  // retry loop runs on the fake clock alone.
  FakeClock clock(1000000);
  std::vector<int64_t> sleeps;
  S3Options o;
  o.endpoint = "http://127.0.0.1:1";
  o.retry = {1000, 5000, 400, 2000};
  o.clock = &clock;
  o.sleep = [&](int64_t ms) {
    sleeps.push_back(ms);
    clock.Advance(ms);
  };
  auto config = ResolveS3Config("s3://bkt/p", o, FakeEnv(kKeys));
  ASSERT_TRUE(config.ok());
  S3Client client(std::move(*config));
  S3Request req;
  req.object = client.ObjectName("config");
  Status st = client.Send(req, "get object config").status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  int64_t slept = 0;
  for (int64_t ms : sleeps) slept += ms;
  EXPECT_LE(slept, 5000) << "the time budget bounds the waits";
  EXPECT_LT(sleeps.size(), 999u) << "the budget, not the attempt limit, ended it";
  for (const char* part : {"get object config", "s3://bkt/p", "127.0.0.1:1", "gave up after"}) {
    EXPECT_NE(st.message().find(part), std::string::npos) << part << " missing in " << st.message();
  }

  sleeps.clear();
  o.retry = {3, 1000000, 400, 2000};
  S3Client three(std::move(*ResolveS3Config("s3://bkt/p", o, FakeEnv(kKeys))));
  st = three.Send(req, "get object config").status();
  EXPECT_EQ(sleeps.size(), 2u) << "3 attempts, 2 waits";
  EXPECT_NE(st.message().find("gave up after 3 attempts"), std::string::npos) << st.message();
}

TEST(S3Errors, MapsCodesToStatusesWithHints) {
  ErrorContext ctx{"get object k", "s3://bkt/p (endpoint http://h:1)", "bkt", "http://h:1", "us-east-1",
                   "AKIDEXAMPLE",  "environment (AWS_ACCESS_KEY_ID)"};
  auto resp = [](long status, const std::string& code) {
    HttpResponse r;
    r.status = status;
    if (!code.empty()) r.body = "<Error><Code>" + code + "</Code><Message>msg</Message></Error>";
    return r;
  };
  Status nb = MapS3Error(ctx, resp(404, "NoSuchBucket"));
  EXPECT_EQ(nb.code(), StatusCode::kNotFound);
  EXPECT_NE(nb.message().find("bucket bkt does not exist at http://h:1"), std::string::npos) << nb.message();
  Status sig = MapS3Error(ctx, resp(403, "SignatureDoesNotMatch"));
  EXPECT_EQ(sig.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(sig.message().find("secret access key"), std::string::npos) << sig.message();
  EXPECT_NE(sig.message().find("AKIDEXAMPLE"), std::string::npos);
  EXPECT_NE(sig.message().find("s3://bkt/p"), std::string::npos);
  Status glacier = MapS3Error(ctx, resp(403, "InvalidObjectState"));
  EXPECT_EQ(glacier.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(glacier.message().find("restore"), std::string::npos) << glacier.message();
  Status head403 = MapS3Error(ctx, resp(403, ""));
  EXPECT_EQ(head403.code(), StatusCode::kPermissionDenied);
  HttpResponse moved = resp(301, "PermanentRedirect");
  moved.headers["x-amz-bucket-region"] = "eu-west-1";
  Status region = MapS3Error(ctx, moved);
  EXPECT_EQ(region.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(region.message().find("eu-west-1"), std::string::npos) << region.message();
  EXPECT_EQ(MapS3Error(ctx, resp(416, "InvalidRange")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MapS3Error(ctx, resp(501, "NotImplemented")).code(), StatusCode::kFailedPrecondition);

  EXPECT_TRUE(IsRetryable(503, "SlowDown"));
  EXPECT_TRUE(IsRetryable(500, ""));
  EXPECT_TRUE(IsRetryable(429, ""));
  EXPECT_TRUE(IsRetryable(400, "RequestTimeout"));
  EXPECT_FALSE(IsRetryable(501, "NotImplemented"));
  EXPECT_FALSE(IsRetryable(403, "AccessDenied"));
  EXPECT_FALSE(IsRetryable(404, "NoSuchKey"));
}

}  // namespace
}  // namespace ailee::storage::s3
