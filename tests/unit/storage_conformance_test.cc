// The contract of ObjectStore (storage/object_store.h), checked once for
// every store. A new store plugs in by adding one line to kStores; the S3
// store ("S3Swift", "S3Ceph") runs it against real servers in its own test
// binaries (AILEE_S3_KIND).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/aligned_buffer.h"
#include "base/fs.h"
#include "storage/fault_injection_object_store.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"

#ifdef AILEE_S3_KIND
#include "s3_store_testing.h"
#include "storage/s3/s3_object_store.h"
#endif

namespace ailee::storage {
namespace {

struct StoreKind {
  const char* name;
  std::function<std::shared_ptr<ObjectStore>(const std::string& scratch_dir)> make;
};

#ifdef AILEE_S3_KIND
// Built into the s3_storage_<kind> test binaries (tests/CMakeLists.txt):
// one fresh prefix per test in a bucket of the real server.
std::shared_ptr<ObjectStore> MakeS3Store() {
  auto server = s3test::S3TestEnv::Load(AILEE_S3_KIND);
  if (!server) {
    ADD_FAILURE() << "no " AILEE_S3_KIND " server (the reason is on stderr)";
    return nullptr;
  }
  auto bucket = s3::testing::SharedBucket(*server);
  if (!bucket.ok()) {
    ADD_FAILURE() << bucket.status().ToString();
    return nullptr;
  }
  auto store = s3::S3ObjectStore::Open(s3::testing::StoreUrl(*bucket, s3::testing::UniquePrefix("conf")),
                                       s3::testing::TestOptions(*server), s3::testing::StoreEnv(*server));
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return *store;
}

const StoreKind kStores[] = {
    {AILEE_S3_STORE_NAME, [](const std::string&) { return MakeS3Store(); }},
};
#else
const StoreKind kStores[] = {
    {"Local", [](const std::string& d) { return std::make_shared<LocalObjectStore>(d + "/repo"); }},
    {"Memory", [](const std::string&) { return std::make_shared<MemoryObjectStore>(); }},
    {"FaultInjectionPassThrough",
     [](const std::string&) {
       return std::make_shared<FaultInjectionObjectStore>(std::make_shared<MemoryObjectStore>());
     }},
};
#endif

class ObjectStoreConformance : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = GetParam().make(dir_);
    ASSERT_TRUE(store_) << "could not open " << GetParam().name;
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformance, PutGetRoundTripAndReplace) {
  ASSERT_TRUE(store_->Put("data/ab/abcdef", "hello").ok());
  EXPECT_EQ(*store_->Get("data/ab/abcdef"), "hello");
  ASSERT_TRUE(store_->Put("data/ab/abcdef", "replaced").ok());
  EXPECT_EQ(*store_->Get("data/ab/abcdef"), "replaced");
  std::string binary("\0\x01\xff\0", 4);
  ASSERT_TRUE(store_->Put("config", binary).ok());
  EXPECT_EQ(*store_->Get("config"), binary);
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  EXPECT_EQ(*store_->Stat("empty"), 0u);
}

TEST_P(ObjectStoreConformance, MissingObjectsAreNotFound) {
  EXPECT_EQ(store_->Get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetRange("a/nope", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat("nope").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*store_->Exists("nope"));
  EXPECT_TRUE(store_->Delete("nope").ok()) << "delete is idempotent";
  EXPECT_TRUE(store_->List("data/")->empty());
}

TEST_P(ObjectStoreConformance, GetRangeReadsExactBytesAndRejectsBadRanges) {
  ASSERT_TRUE(store_->Put("p", "0123456789").ok());
  EXPECT_EQ(*store_->GetRange("p", 0, 10), "0123456789");
  EXPECT_EQ(*store_->GetRange("p", 3, 4), "3456");
  EXPECT_EQ(*store_->GetRange("p", 10, 0), "");
  EXPECT_EQ(store_->GetRange("p", 11, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetRange("p", 8, 5).status().code(), StatusCode::kDataLoss);
}

TEST_P(ObjectStoreConformance, GetRangeIntoFillsTheCallersBufferWithTheSameRules) {
  ASSERT_TRUE(store_->Put("p", "0123456789").ok());
  char buf[12] = "..........x";
  ASSERT_TRUE(store_->GetRangeInto("p", 3, 4, buf).ok());
  EXPECT_EQ(std::string(buf, 5), "3456.") << "exactly `length` bytes written";
  ASSERT_TRUE(store_->GetRangeInto("p", 0, 10, buf).ok());
  EXPECT_EQ(std::string(buf, 11), "0123456789x");
  EXPECT_TRUE(store_->GetRangeInto("p", 10, 0, buf).ok());
  EXPECT_EQ(store_->GetRangeInto("p", 11, 1, buf).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetRangeInto("p", 8, 5, buf).code(), StatusCode::kDataLoss);
  EXPECT_EQ(store_->GetRangeInto("a/nope", 0, 1, buf).code(), StatusCode::kNotFound);
}

TEST_P(ObjectStoreConformance, LargeObjectsFromAlignedBuffersRoundTrip) {
  // Packs come from 4 KiB-aligned buffers, which a local store writes with
  // direct I/O; the bytes, including an unaligned tail, must be exact.
  const size_t n = (3 << 20) + 1234;
  AlignedBuffer buf(n);
  for (size_t i = 0; i < n; ++i) buf.data()[i] = static_cast<char>(i * 131 + (i >> 12));
  ASSERT_TRUE(store_->Put("data/ab/big", std::string_view(buf.data(), n)).ok());
  auto back = store_->Get("data/ab/big");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), n);
  EXPECT_TRUE(*back == std::string_view(buf.data(), n));
  EXPECT_EQ(*store_->Stat("data/ab/big"), n);
}

TEST_P(ObjectStoreConformance, StatExistsDelete) {
  ASSERT_TRUE(store_->Put("keys/k1", "12345").ok());
  EXPECT_EQ(*store_->Stat("keys/k1"), 5u);
  EXPECT_TRUE(*store_->Exists("keys/k1"));
  ASSERT_TRUE(store_->Delete("keys/k1").ok());
  EXPECT_FALSE(*store_->Exists("keys/k1"));
  EXPECT_EQ(store_->Get("keys/k1").status().code(), StatusCode::kNotFound);
}

TEST_P(ObjectStoreConformance, PutIfAbsentHasExactlyOneWinner) {
  ASSERT_TRUE(store_->PutIfAbsent("locks/a", "first").ok());
  Status again = store_->PutIfAbsent("locks/a", "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*store_->Get("locks/a"), "first");

  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (store_->PutIfAbsent("locks/race", "t" + std::to_string(i)).ok()) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(ObjectStoreConformance, ListByPrefixSortedWithSizes) {
  ASSERT_TRUE(store_->Put("data/00/0011", "aa").ok());
  ASSERT_TRUE(store_->Put("data/ff/ff22", "bbb").ok());
  ASSERT_TRUE(store_->Put("data/00/0033", "c").ok());
  ASSERT_TRUE(store_->Put("index/i1", "dddd").ok());
  ASSERT_TRUE(store_->Put("config", "{}").ok());
  auto all = store_->List("data/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "data/00/0011");
  EXPECT_EQ((*all)[0].size, 2u);
  EXPECT_EQ((*all)[1].key, "data/00/0033");
  EXPECT_EQ((*all)[2].key, "data/ff/ff22");
  EXPECT_EQ((*all)[2].size, 3u);
  auto narrow = store_->List("data/00/003");
  ASSERT_EQ(narrow->size(), 1u);
  EXPECT_EQ((*narrow)[0].key, "data/00/0033");
  EXPECT_EQ(store_->List("index/")->size(), 1u);
  EXPECT_EQ(store_->List("")->size(), 5u);
}

TEST_P(ObjectStoreConformance, RejectsUnsafeKeys) {
  for (const char* key : {"", "/abs", "a/../b", "a//b", "trailing/", "x.tmp.1", "./a"}) {
    EXPECT_EQ(store_->Put(key, "x").code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST_P(ObjectStoreConformance, ConcurrentPutsAndGetsNeverSeePartialObjects) {
  const std::string big_a(1 << 20, 'a'), big_b(1 << 20, 'b');
  ASSERT_TRUE(store_->Put("obj", big_a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      auto r = store_->Get("obj");
      if (!r.ok() || (*r != big_a && *r != big_b)) ++bad;
    }
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->Put("obj", i % 2 ? big_a : big_b).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_P(ObjectStoreConformance, ErrorsNameTheLocation) {
  Status st = store_->Get("missing-object").status();
  EXPECT_NE(st.message().find("missing-object"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(store_->Location()), std::string::npos) << st.ToString();
}

INSTANTIATE_TEST_SUITE_P(AllStores, ObjectStoreConformance, ::testing::ValuesIn(kStores),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace ailee::storage
