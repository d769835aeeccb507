// Behaviour specific to one store: the local layout, the URL factory, and the
// fault-injecting decorator.
#include <gtest/gtest.h>

#include "base/fault_injection_file_system.h"
#include "base/fs.h"
#include "storage/fault_injection_object_store.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"

namespace ailee::storage {
namespace {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-local-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(LocalStoreTest, ObjectsAreFilesUnderTheRootAndTemporariesAreInvisible) {
  LocalObjectStore store(dir_);
  ASSERT_TRUE(store.Put("data/ab/abcd", "x").ok());
  EXPECT_EQ(*fs::ReadFile(dir_ + "/data/ab/abcd"), "x");
  // A crash between write and rename leaves a temporary; it is not an object.
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/data/ab/abcd.tmp.123.0.9", "partial").ok());
  auto list = store.List("data/");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "data/ab/abcd");
  auto dirs = fs::ListDir(dir_ + "/data/ab");
  ASSERT_TRUE(dirs.ok());
}

// What Put, PutIfAbsent and Delete report done survives a power loss, in
// new directories too; what a power loss interrupts is absent or whole.
TEST_F(LocalStoreTest, WhatItReportsDoneSurvivesAPowerLoss) {
  fs::FaultInjectionFileSystem faulty;
  LocalObjectStore store(dir_ + "/repo", &faulty);
  ASSERT_TRUE(store.Put("data/ab/abcd", "put").ok());
  ASSERT_TRUE(store.PutIfAbsent("index/ef/ef01", "created").ok());
  ASSERT_TRUE(store.Put("locks/l1", "lock").ok());
  ASSERT_TRUE(store.Delete("locks/l1").ok());
  // Inside the next Put (mkdir, one directory sync: data/ and everything
  // above it are durable already; create, append, sync): its temporary is
  // written and synced, never renamed.
  faulty.CutPowerAfter(5);
  EXPECT_FALSE(store.Put("data/cd/cdef", "lost").ok());
  ASSERT_TRUE(faulty.SimulatePowerLoss().ok());
  EXPECT_EQ(*store.Get("data/ab/abcd"), "put");
  EXPECT_EQ(*store.Get("index/ef/ef01"), "created");
  EXPECT_EQ(store.Get("locks/l1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Get("data/cd/cdef").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.List("")->size(), 2u);
}

// Each directory's entry is synced once per store, and so is each of its
// ancestors': a new data/XX directory for the next pack syncs data/ alone,
// not data/, the root and the root's parent again. What that leaves out must
// already be durable: objects in new directories at every depth survive.
TEST_F(LocalStoreTest, ANewDirectorySyncsOnlyTheEntriesNotYetDurable) {
  ASSERT_TRUE(fs::MakeDirs(dir_ + "/repo/data").ok());  // as repo init leaves it
  fs::FaultInjectionFileSystem faulty;
  LocalObjectStore store(dir_ + "/repo", &faulty);
  auto calls_of_put = [&](const std::string& key) {
    const uint64_t before = faulty.calls();
    EXPECT_TRUE(store.Put(key, key).ok()) << key;
    return faulty.calls() - before;
  };
  // Both mkdir data/XX; the first syncs repo/data, repo and the root's parent.
  const uint64_t first = calls_of_put("data/ab/abcd");
  const uint64_t sibling = calls_of_put("data/cd/cdef");
  EXPECT_EQ(first - sibling, 2u) << "only data/ itself is synced for data/cd";
  EXPECT_EQ(calls_of_put("data/cd/cd02"), sibling - 2) << "no directory sync, no mkdir for a known directory";
  EXPECT_EQ(calls_of_put("index/ef/ef01"), sibling + 2)
      << "two mkdirs; syncs of index (for ef) and repo (for index), not of the root's parent";
  ASSERT_TRUE(store.Put("snapshots/0123", "s").ok());
  ASSERT_TRUE(faulty.SimulatePowerLoss().ok());
  for (const char* key : {"data/ab/abcd", "data/cd/cdef", "data/cd/cd02", "index/ef/ef01"}) {
    auto got = store.Get(key);
    ASSERT_TRUE(got.ok()) << key << " reported durable, lost: " << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
  EXPECT_EQ(*store.Get("snapshots/0123"), "s");
}

// A process killed between creating an object's directory and syncing its
// parent leaves a directory whose entry is not durable; the next process's
// Put into it must still survive a power loss.
TEST_F(LocalStoreTest, APutIntoADirectoryAKilledRunCreatedSurvivesAPowerLoss) {
  fs::FaultInjectionFileSystem faulty;
  LocalObjectStore first(dir_ + "/repo", &faulty);
  ASSERT_TRUE(first.Put("data/ef/ef01", "e").ok());
  faulty.CutPowerAfter(1);  // the mkdir of data/ab
  EXPECT_FALSE(first.Put("data/ab/abcd", "x").ok());
  faulty.SimulateProcessCrash();
  LocalObjectStore next(dir_ + "/repo", &faulty);
  ASSERT_TRUE(next.Put("data/ab/abcd", "x").ok());
  ASSERT_TRUE(faulty.SimulatePowerLoss().ok());
  auto got = next.Get("data/ab/abcd");
  ASSERT_TRUE(got.ok()) << "reported durable, lost: " << got.status().ToString();
  EXPECT_EQ(*got, "x");
}

// A store that cannot make a write durable says so instead of reporting it done.
TEST_F(LocalStoreTest, AWriteThatCannotBeMadeDurableFails) {
  fs::FaultInjectionFileSystem faulty;
  LocalObjectStore store(dir_, &faulty);
  faulty.FailOp(fs::FaultInjectionFileSystem::Op::kSync, EIO);
  EXPECT_EQ(store.Put("data/ab/abcd", "x").code(), StatusCode::kDataLoss);
  faulty.FailOp(fs::FaultInjectionFileSystem::Op::kSync, 0);
  faulty.FailOp(fs::FaultInjectionFileSystem::Op::kSyncDir, EIO);
  EXPECT_FALSE(store.Put("data/ab/abcd", "x").ok());
  EXPECT_FALSE(store.PutIfAbsent("data/ab/abce", "x").ok());
  faulty.ClearFaults();
  faulty.SetSpaceLimit(4);
  EXPECT_EQ(store.Put("data/ab/abcd", "too large").code(), StatusCode::kResourceExhausted);
  auto names = fs::ListDir(dir_ + "/data/ab");  // failed writes removed their temporaries
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST_F(LocalStoreTest, OpenObjectStoreAcceptsFileUrlsAndPlainPaths) {
  auto a = OpenObjectStore("file://" + dir_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->Location(), "file://" + dir_);
  ASSERT_TRUE((*a)->Put("config", "c").ok());
  auto b = OpenObjectStore(dir_ + "/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*(*b)->Get("config"), "c");
  EXPECT_EQ(OpenObjectStore("file://relative/path").status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenObjectStoreTest, UnknownSchemeIsNamedAndRegistrationPlugsIn) {
  auto r = OpenObjectStore("gopher://bucket/x");
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"gopher\""), std::string::npos) << r.status().ToString();
  RegisterObjectStoreScheme("gopher", [](const std::string&) -> Result<std::shared_ptr<ObjectStore>> {
    return std::shared_ptr<ObjectStore>(std::make_shared<MemoryObjectStore>());
  });
  EXPECT_TRUE(OpenObjectStore("gopher://bucket/x").ok());
  EXPECT_TRUE(OpenObjectStore("mem://").ok());
}

TEST(FaultInjectionTest, NthPutFailsAndStickyFaultStopsLaterWrites) {
  auto inner = std::make_shared<MemoryObjectStore>();
  FaultPlan plan;
  plan.fail_put_number = 2;
  FaultInjectionObjectStore store(inner, plan);
  EXPECT_TRUE(store.Put("a", "1").ok());
  EXPECT_EQ(store.Put("b", "2").code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store.Put("c", "3").ok()) << "a crashed process writes nothing more";
  EXPECT_FALSE(store.Delete("a").ok());
  EXPECT_TRUE(store.Get("a").ok()) << "reads still work unless asked otherwise";
  EXPECT_FALSE(*inner->Exists("b"));
  EXPECT_FALSE(*inner->Exists("c"));
  EXPECT_TRUE(store.counters().fault_fired);
  store.SetPlan({});
  EXPECT_TRUE(store.Put("c", "3").ok());
}

TEST(FaultInjectionTest, FailsAfterByteBudgetAndOnNthGet) {
  auto inner = std::make_shared<MemoryObjectStore>();
  FaultPlan plan;
  plan.fail_after_put_bytes = 10;
  plan.fail_get_number = 2;
  plan.sticky = false;
  FaultInjectionObjectStore store(inner, plan);
  EXPECT_TRUE(store.Put("a", "123456").ok());
  EXPECT_FALSE(store.Put("b", "123456").ok());
  EXPECT_TRUE(store.Put("c", "1234").ok());
  EXPECT_TRUE(store.Get("a").ok());
  EXPECT_FALSE(store.Get("a").ok());
  EXPECT_TRUE(store.Get("a").ok());
  EXPECT_EQ(store.counters().put_bytes, 10);
}

}  // namespace
}  // namespace ailee::storage
