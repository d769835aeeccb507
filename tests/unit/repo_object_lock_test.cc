// Object Lock: forget and prune on a store whose objects cannot be deleted
// before their retention ends (as S3 Object Lock enforces). Nothing locked
// is deleted, nothing fails because of it, the repository stays valid at
// every step, and space comes back once retention ends.
#include <map>

#include "repo/prune.h"
#include "repo/restore.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo/block_archive.h"
#include "repo_block_testing.h"
#include "repo_test_util.h"

namespace ailee::repo {
namespace {

using testing::RandomData;
using testing::ReadTree;
using testing::RepoTest;
using testing::WriteFile;

constexpr int64_t kDay = 24 * 3600 * 1000LL;

// A store with the Object Lock behaviour of S3: Put sets a retain-until
// date per key prefix (from the clock); Delete before it fails.
class LockingStore final : public storage::ObjectStore {
 public:
  LockingStore(const Clock& clock, std::map<std::string, int64_t> retention_by_prefix)
      : clock_(clock), retention_(std::move(retention_by_prefix)) {}

  std::string Location() const override { return "locking://test"; }
  Status Put(const std::string& key, std::string_view data) override {
    RETURN_IF_ERROR(inner_.Put(key, data));
    Retain(key);
    return Status::Ok();
  }
  Status PutIfAbsent(const std::string& key, std::string_view data) override {
    RETURN_IF_ERROR(inner_.PutIfAbsent(key, data));
    Retain(key);
    return Status::Ok();
  }
  Result<std::string> Get(const std::string& key) override { return inner_.Get(key); }
  Result<std::string> GetRange(const std::string& key, uint64_t o, uint64_t n) override {
    return inner_.GetRange(key, o, n);
  }
  Result<uint64_t> Stat(const std::string& key) override { return inner_.Stat(key); }
  Status Delete(const std::string& key) override {
    ASSIGN_OR_RETURN(int64_t until, RetainedUntilUnixMs(key));
    if (until > clock_.NowMillis()) return FailedPrecondition(key + " is locked");
    std::lock_guard<std::mutex> lock(mu_);
    until_.erase(key);
    return inner_.Delete(key);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override { return inner_.List(prefix); }
  storage::StoreFeatures Features() const override { return {true, true}; }
  Result<int64_t> RetainedUntilUnixMs(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = until_.find(key);
    return it == until_.end() ? 0 : it->second;
  }

  size_t Count(const std::string& prefix) { return inner_.List(prefix)->size(); }

 private:
  void Retain(const std::string& key) {
    for (const auto& [prefix, ms] : retention_) {
      if (key.rfind(prefix, 0) == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        until_[key] = clock_.NowMillis() + ms;
      }
    }
  }
  const Clock& clock_;
  std::map<std::string, int64_t> retention_;
  storage::MemoryObjectStore inner_;
  std::mutex mu_;
  std::map<std::string, int64_t> until_;
};

class ObjectLockTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    // Index files outlive the packs they list: prune must keep those packs.
    locked_ = std::make_shared<LockingStore>(
        clock_, std::map<std::string, int64_t>{{"data/", kDay}, {"snapshots/", kDay}, {"index/", 2 * kDay}});
    repo_ = InitRepo(locked_);
    WriteFile(src_ + "/000001.sst", RandomData(600 << 10, 1));
    old_ = IdHex(Backup(SmallPacks()).snapshot_id);
    ASSERT_TRUE(::unlink((src_ + "/000001.sst").c_str()) == 0);
    WriteFile(src_ + "/000002.sst", RandomData(500 << 10, 2));
    clock_.Advance(3600 * 1000);
    new_ = IdHex(Backup(SmallPacks()).snapshot_id);
  }

  std::vector<ForgetDecision> ForgetAllButNewest() {
    ForgetOptions o;
    o.policy.keep_last = 1;
    auto d = Forget(*repo_, o);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : std::vector<ForgetDecision>{};
  }
  PruneStats PruneNow() {
    auto st = Prune(*repo_, {});
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? *st : PruneStats{};
  }
  void ExpectValidAndNewestRestores() {
    VerifyOptions v;
    v.read_data = true;
    auto report = Verify(*repo_, v);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << report->problems.front().ToString();
    const std::string out = dir_ + "/out-" + std::to_string(clock_.NowMillis());
    ASSERT_TRUE(RestoreSnapshot(*repo_, new_, out, {}).ok());
    EXPECT_EQ(ReadTree(out), ReadTree(src_));
  }

  std::shared_ptr<LockingStore> locked_;
  std::string old_, new_;
};

TEST_F(ObjectLockTest, LockedSnapshotsAndPacksAreKeptUntilRetentionEnds) {
  const size_t packs = locked_->Count("data/");

  // Within retention: forget keeps the old snapshot and says why; prune keeps its packs.
  auto d = ForgetAllButNewest();
  ASSERT_EQ(d.size(), 2u);
  for (const auto& x : d) {
    EXPECT_TRUE(x.keep);
    if (IdHex(x.snapshot_id) == old_) {
      EXPECT_EQ(x.reasons, std::vector<std::string>{"locked"});
      EXPECT_GT(x.locked_until_ms, clock_.NowMillis());
    }
  }
  EXPECT_EQ(locked_->Count("snapshots/"), 2u);
  PruneStats st = PruneNow();
  EXPECT_EQ(st.packs_deleted, 0u);
  EXPECT_EQ(locked_->Count("data/"), packs);
  ExpectValidAndNewestRestores();

  // Snapshots and packs expired, index files not yet: the old snapshot goes,
  // its packs stay because a retained index file still lists them.
  clock_.Advance(kDay + 1000);
  d = ForgetAllButNewest();
  EXPECT_EQ(locked_->Count("snapshots/"), 1u);
  st = PruneNow();
  EXPECT_EQ(st.packs_deleted, 0u);
  EXPECT_GT(st.packs_retained, 0u);
  EXPECT_GT(st.index_files_retained, 0u);
  EXPECT_GT(st.retained_until_ms, clock_.NowMillis());
  EXPECT_EQ(locked_->Count("data/"), packs);
  ExpectValidAndNewestRestores();

  // Everything expired: the space comes back.
  clock_.Advance(2 * kDay);
  st = PruneNow();
  EXPECT_GT(st.packs_deleted, 0u);
  EXPECT_EQ(st.packs_retained, 0u);
  EXPECT_LT(locked_->Count("data/"), packs);
  ExpectValidAndNewestRestores();
}

TEST_F(ObjectLockTest, PruneKeepsBlockSegmentsUnderRetentionUntilItEnds) {
  auto store = std::make_shared<LockingStore>(clock_, std::map<std::string, int64_t>{{"blocks/", kDay}});
  auto repo = InitRepo(store);
  ASSERT_NE(repo, nullptr);
  const auto chain = testing::Chain(20);
  BlockArchiveTail tail;
  for (uint64_t first : {1, 11}) {
    BlockSegment seg{"node-1", chain[0].header.Hash(), {chain.begin() + (first - 1), chain.begin() + (first + 9)}};
    auto sealed = SealBlockSegment(*repo, seg);
    ASSERT_TRUE(sealed.ok());
    ASSERT_TRUE(AppendBlockSegment(*repo, tail, *sealed).ok());
    tail.height = first + 9;
    tail.block_hash = chain[first + 8].header.Hash();
    tail.chain_id = seg.chain_id;
  }
  Snapshot s;
  s.kind = "state";
  s.time_ms = clock_.NowMillis();
  s.meta = {{"node_id", "node-1"}, {"height", 15}};
  ASSERT_TRUE(SaveSnapshot(*repo, s).ok());
  auto within = Prune(*repo, {});
  ASSERT_TRUE(within.ok()) << within.status().ToString();
  EXPECT_EQ(within->block_segments_retained, 1u);
  EXPECT_EQ(within->block_segments_deleted, 0u);
  EXPECT_EQ(store->Count("blocks/"), 2u);
  clock_.Advance(2 * kDay);
  auto after = Prune(*repo, {});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->block_segments_deleted, 1u);
  EXPECT_EQ(store->Count("blocks/"), 1u);
}

}  // namespace
}  // namespace ailee::repo
