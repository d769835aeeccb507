// S3ObjectStore against a real server (AILEE_S3_KIND: swift or ceph),
// through a fault-injecting proxy where the test needs the network to fail.
// Behaviour every store shares is in storage_conformance_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "s3_fault_proxy.h"
#include "s3_store_testing.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_hash.h"
#include "storage/s3/s3_object_store.h"
#include "storage/s3/s3_scheme.h"

namespace ailee::storage::s3 {
namespace {

using testing::FaultProxy;
using s3test::S3TestEnv;
using testing::Port;
using testing::StoreEnv;
using testing::StoreUrl;
using testing::TestOptions;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// AILEE_S3_SUITE (S3SwiftStoreTest, S3CephStoreTest): one suite name per
// server kind, since the binaries' tests share one ctest namespace.
class AILEE_S3_SUITE : public ::testing::Test {
 protected:
  void SetUp() override {
    // No server is a failure, not a skip: S3 coverage must not vanish
    // silently (S3TestEnv starts one when run outside ctest).
    auto server = S3TestEnv::Load(AILEE_S3_KIND);
    ASSERT_TRUE(server) << "no " AILEE_S3_KIND " server (the reason is on stderr)";
    server_ = *server;
    auto bucket = testing::SharedBucket(server_);
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    prefix_ = testing::UniquePrefix("t");
  }

  std::shared_ptr<S3ObjectStore> Open(S3Options o, const std::string& endpoint = "") {
    if (!endpoint.empty()) o.endpoint = endpoint;
    auto store = S3ObjectStore::Open(StoreUrl(bucket_, prefix_), o, StoreEnv(server_));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? *store : nullptr;
  }

  // A client for the bucket that bypasses the store: objects "made by
  // another tool".
  std::unique_ptr<S3Client> Raw() {
    auto config = ResolveS3Config(StoreUrl(bucket_, prefix_), TestOptions(server_), StoreEnv(server_));
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return std::make_unique<S3Client>(std::move(*config));
  }

  // Object names in the bucket under this test's prefix, claims included.
  std::vector<std::string> RawKeys() {
    auto raw = Raw();
    S3Request req;
    req.query = {{"list-type", "2"}, {"prefix", prefix_ + "/"}};
    auto resp = raw->Send(req, "list");
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    std::vector<std::string> keys;
    if (!resp.ok()) return keys;
    auto page = ParseListObjectsV2(resp->body);
    for (auto& o : page->objects) keys.push_back(o.key.substr(prefix_.size() + 1));
    return keys;
  }

  S3TestEnv server_;
  std::string bucket_, prefix_;
};

TEST_F(AILEE_S3_SUITE, LargeObjectsUseMultipartAndRoundTrip) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;  // the smallest part S3 (and Swift) accept
  o.parallel_parts = 3;
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  const std::string data = Pattern((12 << 20) + 12345);
  ASSERT_TRUE(store->Put("data/big", data).ok());
  int parts = 0;
  for (const auto& h : proxy.request_heads()) parts += Contains(h, "partNumber=") ? 1 : 0;
  EXPECT_EQ(parts, 3);
  auto got = store->Get("data/big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(*store->Stat("data/big"), data.size());
  EXPECT_EQ(*store->GetRange("data/big", (5 << 20) - 2, 4), data.substr((5 << 20) - 2, 4));
  EXPECT_EQ(*store->AbortStaleMultipartUploads(0), 0) << "a finished upload leaves nothing pending";
}

TEST_F(AILEE_S3_SUITE, FailedMultipartPutAbortsItsUpload) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  o.retry.max_attempts = 2;
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  proxy.Add({FaultProxy::Action::kStatus, 500, "InternalError", 0, "partNumber=2&", 100});
  Status st = store->Put("data/big", Pattern(11 << 20));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "part 2 of 3")) << st.message();
  proxy.ClearFaults();
  EXPECT_EQ(store->Stat("data/big").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store->AbortStaleMultipartUploads(0), 0) << "the failed Put aborted its own upload";
}

TEST_F(AILEE_S3_SUITE, RetriesTransientFailures) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.request_timeout_ms = 500;
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  const std::vector<FaultProxy::Fault> faults = {
      {FaultProxy::Action::kStatus, 503, "SlowDown", 0, "PUT ", 3},
      {FaultProxy::Action::kStatus, 500, "InternalError", 0, "PUT ", 2},
      {FaultProxy::Action::kStatus, 429, "TooManyRequests", 0, "PUT ", 2},
      {FaultProxy::Action::kStatus, 400, "RequestTimeout", 0, "PUT ", 1},
      {FaultProxy::Action::kReset, 0, "", 0, "PUT ", 2},
      {FaultProxy::Action::kReset, 0, "", 0, "GET ", 2},
      {FaultProxy::Action::kDelay, 0, "", 2000, "GET ", 1},  // longer than request_timeout_ms
  };
  int n = 0;
  for (const auto& f : faults) {
    SCOPED_TRACE("fault " + std::to_string(n));
    const int fired = proxy.faults_fired();
    proxy.Add(f);
    std::string key = "data/r" + std::to_string(n++);
    ASSERT_TRUE(store->Put(key, "payload " + key).ok());
    auto got = store->Get(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, "payload " + key);
    EXPECT_EQ(proxy.faults_fired() - fired, f.count) << "every injected failure was met and retried";
  }
}

TEST_F(AILEE_S3_SUITE, GivesUpAfterTheRetryBudgetNamingWhatFailed) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.retry.max_attempts = 4;
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  proxy.Add({FaultProxy::Action::kStatus, 503, "SlowDown", 0, "", 1000});
  Status st = store->Put("data/x", "x");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  for (const std::string& part : {std::string("put object data/x"), bucket_ + "/" + prefix_, proxy.endpoint(),
                                  std::string("gave up after 4 attempts"), std::string("HTTP 503 SlowDown")}) {
    EXPECT_TRUE(Contains(st.message(), part)) << part << " missing in: " << st.message();
  }

  // The time budget ends retries before the attempt limit does.
  o.retry.max_attempts = 1000;
  o.retry.base_delay_ms = 50;
  o.retry.budget_ms = 300;
  o.endpoint = proxy.endpoint();
  // Open's bucket check goes through the same failing proxy.
  EXPECT_EQ(S3ObjectStore::Open(StoreUrl(bucket_, prefix_), o, StoreEnv(server_)).status().code(),
            StatusCode::kUnavailable);
  o.check_bucket_on_open = false;
  auto slow = Open(o);
  ASSERT_TRUE(slow);
  auto start = std::chrono::steady_clock::now();
  st = slow->Get("data/x").status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // Nothing listens: connection refused is retried, then reported.
  o.retry = {3, 10000, 1, 5};
  o.check_bucket_on_open = true;
  o.endpoint = "http://127.0.0.1:1";
  auto refused = S3ObjectStore::Open(StoreUrl(bucket_, prefix_), o, StoreEnv(server_));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(refused.status().message(), "gave up after 3 attempts")) << refused.status().message();
  EXPECT_TRUE(Contains(refused.status().message(), "127.0.0.1:1")) << refused.status().message();
}

TEST_F(AILEE_S3_SUITE, WrongCredentialsAreAClearPermissionError) {
  const std::string wrong_secret = "not-the-secret-" + RandomHex(8).value();
  auto env = [&](const std::string& id, const std::string& secret) -> EnvLookup {
    return [=](const std::string& name) -> std::optional<std::string> {
      if (name == "AWS_ACCESS_KEY_ID") return id;
      if (name == "AWS_SECRET_ACCESS_KEY") return secret;
      return std::nullopt;
    };
  };
  for (const auto& id : {server_.access_key_id, std::string("nobody:nobody")}) {
    auto store = S3ObjectStore::Open(StoreUrl(bucket_, prefix_), TestOptions(server_), env(id, wrong_secret));
    Status st = store.status();
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
    EXPECT_TRUE(Contains(st.message(), bucket_)) << st.message();
    EXPECT_TRUE(Contains(st.message(), server_.endpoint)) << st.message();
    EXPECT_TRUE(Contains(st.message(), "AWS_SECRET_ACCESS_KEY")) << "hint: " << st.message();
    EXPECT_FALSE(Contains(st.message(), wrong_secret)) << "secret leaked: " << st.message();
    EXPECT_FALSE(Contains(st.message(), "Signature=")) << st.message();
  }
}

TEST_F(AILEE_S3_SUITE, MissingBucketIsNotFoundNamingBucketAndEndpoint) {
  const std::string missing = s3test::UniqueBucketName("missing");
  auto store = S3ObjectStore::Open(StoreUrl(missing, "p"), TestOptions(server_), StoreEnv(server_));
  Status st = store.status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "bucket " + missing + " does not exist at " + server_.endpoint))
      << st.message();
}

TEST_F(AILEE_S3_SUITE, GetDetectsContentThatDoesNotMatchItsChecksum) {
  auto store = Open(TestOptions(server_));
  ASSERT_TRUE(store);
  auto raw = Raw();
  S3Request put;
  put.method = "PUT";
  put.object = prefix_ + "/data/forged";
  put.body = "forged content";
  put.headers = {"x-amz-meta-sha256: " + Sha256Hex("original content").value()};
  ASSERT_TRUE(raw->Send(put, "put").ok());
  Status st = store->Get("data/forged").status();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "data/forged")) << st.message();
  EXPECT_TRUE(Contains(st.message(), store->Location())) << st.message();

  // Written by another tool without our checksum: the MD5 ETag is checked.
  put.object = prefix_ + "/data/foreign";
  put.headers = {};
  ASSERT_TRUE(raw->Send(put, "put").ok());
  EXPECT_EQ(*store->Get("data/foreign"), "forged content");
}

TEST_F(AILEE_S3_SUITE, ArchivedObjectsSayTheyNeedARestore) {
  FaultProxy proxy(Port(server_));
  auto store = Open(TestOptions(server_), proxy.endpoint());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("data/cold", "x").ok());
  // What S3 answers for a GLACIER object that was not restored.
  proxy.Add({FaultProxy::Action::kStatus, 403, "InvalidObjectState", 0, "GET ", 1});
  Status st = store->Get("data/cold").status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "restore")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "data/cold")) << st.message();
}

TEST_F(AILEE_S3_SUITE, StaleMultipartUploadsAreAborted) {
  auto store = Open(TestOptions(server_));
  ASSERT_TRUE(store);
  auto raw = Raw();
  S3Request init;
  init.method = "POST";
  init.object = prefix_ + "/data/abandoned";
  init.query = {{"uploads", ""}};
  auto started = raw->Send(init, "initiate");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(*store->AbortStaleMultipartUploads(3600), 0) << "a young upload may belong to a live writer";
  EXPECT_EQ(*store->AbortStaleMultipartUploads(0), 1);
  EXPECT_EQ(*store->AbortStaleMultipartUploads(0), 0);
}

TEST_F(AILEE_S3_SUITE, StorageClassIsSentPerPrefix) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.storage_classes["data/"] = "STANDARD";
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("data/ab/x", "x").ok());
  ASSERT_TRUE(store->Put("config", "c").ok());
  int with_class = 0, without = 0;
  for (const auto& h : proxy.request_heads()) {
    if (h.rfind("PUT ", 0) != 0) continue;
    if (!Contains(h, "x-amz-storage-class: STANDARD\r\n")) continue;
    if (Contains(h, "/data/ab/x ")) {
      ++with_class;
    } else {
      ++without;
    }
  }
  EXPECT_EQ(with_class, 1);
  EXPECT_EQ(without, 0);
  auto raw = Raw();
  S3Request head;
  head.method = "HEAD";
  head.object = prefix_ + "/data/ab/x";
  auto resp = raw->Send(head, "head");
  ASSERT_TRUE(resp.ok());
  std::string cls = resp->header("x-amz-storage-class");
  if (!cls.empty()) {
    EXPECT_EQ(cls, "STANDARD");  // servers report it only for non-default classes
  }
  // A class the server does not offer is refused, not silently ignored.
  S3Options bad = TestOptions(server_);
  bad.storage_class = "NO_SUCH_CLASS";
  auto refusing = Open(bad);
  ASSERT_TRUE(refusing);
  Status st = refusing->Put("data/y", "y");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "data/y")) << st.message();
}

TEST_F(AILEE_S3_SUITE, PutIfAbsentRaceBetweenIndependentClientsHasOneWinner) {
  for (CreateMode mode : {CreateMode::kAuto, CreateMode::kClaims}) {
    S3Options o = TestOptions(server_);
    o.put_if_absent = mode;
    const std::string key = "race" + std::to_string(static_cast<int>(mode));
    std::vector<std::shared_ptr<S3ObjectStore>> stores;
    for (int i = 0; i < 10; ++i) stores.push_back(Open(o));
    std::atomic<int> winners{0}, exists{0};
    std::vector<std::thread> threads;
    std::vector<Status> results(stores.size());
    for (size_t i = 0; i < stores.size(); ++i) {
      threads.emplace_back([&, i] {
        results[i] = stores[i]->PutIfAbsent(key, "writer " + std::to_string(i));
        if (results[i].ok()) ++winners;
        if (results[i].code() == StatusCode::kAlreadyExists) ++exists;
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_TRUE(r.ok() || r.code() == StatusCode::kAlreadyExists) << r.ToString();
    EXPECT_EQ(winners.load(), 1);
    EXPECT_EQ(exists.load(), static_cast<int>(stores.size()) - 1);
    auto got = stores[0]->Get(key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->rfind("writer ", 0), 0u);
  }
  for (const auto& k : RawKeys()) EXPECT_FALSE(Contains(k, ".claims/")) << "claim left behind: " << k;
}

TEST_F(AILEE_S3_SUITE, ConditionalPutWhereTheServerHasIt) {
  S3Options o = TestOptions(server_);
  o.put_if_absent = CreateMode::kConditional;
  auto store = Open(o);
  ASSERT_TRUE(store);
  Status st = store->PutIfAbsent("config", "c");
  if (server_.kind == "swift") {
    // Swift's s3api answers 501 to If-None-Match: the claim protocol is
    // what makes PutIfAbsent work there (kAuto picks it).
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_TRUE(Contains(st.message(), "501")) << st.message();
    return;
  }
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(store->PutIfAbsent("config", "d").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store->Get("config"), "c");
}

TEST_F(AILEE_S3_SUITE, ClaimsAreHiddenAndAbandonedOnesExpire) {
  S3Options o = TestOptions(server_);
  o.put_if_absent = CreateMode::kClaims;
  o.claim_stale_after_ms = 1000;
  auto store = Open(o);
  ASSERT_TRUE(store);
  auto raw = Raw();
  S3Request claim;
  claim.method = "PUT";
  claim.object = prefix_ + "/config.claims/00000000000000000000000000000000";
  ASSERT_TRUE(raw->Send(claim, "claim").ok());
  EXPECT_EQ(store->PutIfAbsent("config", "c").code(), StatusCode::kAlreadyExists)
      << "a fresh claim is a writer in progress";
  EXPECT_TRUE(store->List("")->empty()) << "claims are not objects of the store";
  EXPECT_EQ(store->Put("x.claims/y", "z").code(), StatusCode::kInvalidArgument);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(store->PutIfAbsent("config", "c").ok()) << "a claim older than claim_stale_after_ms is abandoned";
  EXPECT_EQ(RawKeys(), std::vector<std::string>{"config"});
}

TEST_F(AILEE_S3_SUITE, ListPaginatesAndSkipsForeignKeys) {
  FaultProxy proxy(Port(server_));
  S3Options o = TestOptions(server_);
  o.list_page_size = 3;
  auto store = Open(o, proxy.endpoint());
  ASSERT_TRUE(store);
  for (int i = 9; i >= 0; --i) ASSERT_TRUE(store->Put("index/i" + std::to_string(i), "x").ok());
  auto raw = Raw();
  S3Request folder;  // a "folder" a console made: not a key of ours
  folder.method = "PUT";
  folder.object = prefix_ + "/index/";
  ASSERT_TRUE(raw->Send(folder, "put").ok());
  proxy.ClearRecorded();
  auto list = store->List("index/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ((*list)[i].key, "index/i" + std::to_string(i));
  EXPECT_GE(proxy.request_heads().size(), 4u) << "11 keys at 3 per page";
}

TEST_F(AILEE_S3_SUITE, KeysWithCharactersThatNeedEncodingRoundTrip) {
  auto store = Open(TestOptions(server_));
  ASSERT_TRUE(store);
  // The signature covers the encoded path: any encoding slip is a 403.
  const std::vector<std::string> keys = {"data/a b", "data/plus+equals=amp&", "data/tilde~pct%20", "data/\xc3\xa9t\xc3\xa9",
                                         "data/q?x#y", "data/colon:semi;comma,"};
  for (const auto& k : keys) {
    ASSERT_TRUE(store->Put(k, "v:" + k).ok()) << k;
    auto got = store->Get(k);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status().ToString();
    EXPECT_EQ(*got, "v:" + k);
    EXPECT_EQ(*store->Stat(k), k.size() + 2);
  }
  auto list = store->List("data/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> listed;
  for (const auto& o : *list) listed.push_back(o.key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  for (const auto& k : keys) EXPECT_TRUE(store->Delete(k).ok()) << k;
  EXPECT_TRUE(store->List("data/")->empty());
}

TEST_F(AILEE_S3_SUITE, ObjectLockIsRequiredWhenRequestedAndEnforcedOnDelete) {
  S3Options o = TestOptions(server_);
  o.object_lock_mode = "GOVERNANCE";
  o.retention_days = 1;
  if (!server_.object_lock) {
    auto store = S3ObjectStore::Open(StoreUrl(bucket_, prefix_), o, StoreEnv(server_));
    Status st = store.status();
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_TRUE(Contains(st.message(), "bucket " + bucket_ + " at " + server_.endpoint + " has no Object Lock"))
        << st.message();
    auto plain = Open(TestOptions(server_));
    ASSERT_TRUE(plain);
    EXPECT_FALSE(*plain->ObjectLockEnabled());
    EXPECT_FALSE(plain->Features().object_lock);
    ASSERT_TRUE(plain->Put("keys/k", "k").ok());
    EXPECT_EQ(*plain->RetainedUntilUnixMs("keys/k"), 0);
    EXPECT_EQ(plain->RetainedUntilUnixMs("keys/none").status().code(), StatusCode::kNotFound);
    return;
  }
  const std::string locked_bucket = s3test::UniqueBucketName("lock");
  ASSERT_TRUE(s3test::CreateBucket(server_, locked_bucket, true).ok());
  auto store = S3ObjectStore::Open(StoreUrl(locked_bucket, "repo"), o, StoreEnv(server_));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Features().object_lock);
  ASSERT_TRUE((*store)->Put("snapshots/s1", "snap").ok());
  int64_t until = *(*store)->RetainedUntilUnixMs("snapshots/s1");
  int64_t now = Clock::Real().NowMillis();
  EXPECT_GT(until, now + 23 * 3600 * 1000LL);
  Status del = (*store)->Delete("snapshots/s1");
  EXPECT_EQ(del.code(), StatusCode::kFailedPrecondition) << del.ToString();
  EXPECT_TRUE(Contains(del.message(), "Object Lock")) << del.message();
  EXPECT_EQ(*(*store)->Get("snapshots/s1"), "snap") << "the locked object is still there";
}

TEST_F(AILEE_S3_SUITE, RegisteredSchemeOpensThroughOpenObjectStore) {
  ::setenv("AWS_ACCESS_KEY_ID", server_.access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", server_.secret_access_key.c_str(), 1);
  RegisterS3Scheme(TestOptions(server_));
  auto store = OpenObjectStore(StoreUrl(bucket_, prefix_));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Location(), "s3://" + bucket_ + "/" + prefix_ + " (endpoint " + server_.endpoint + ")");
  ASSERT_TRUE((*store)->Put("config", "c").ok());
  EXPECT_EQ(*(*store)->Get("config"), "c");
}

}  // namespace
}  // namespace ailee::storage::s3
