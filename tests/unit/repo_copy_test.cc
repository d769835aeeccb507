// Copy between locations: only missing objects travel, the replica restores
// on its own, damage does not spread, and a copy killed halfway leaves a
// valid replica that the rerun completes.
#include "repo/copy.h"

#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo_test_util.h"
#include "storage/fault_injection_object_store.h"

namespace ailee::repo {
namespace {

using testing::RandomData;
using testing::ReadTree;
using testing::RepoTest;
using testing::TextData;
using testing::WriteFile;

class CopyTest : public RepoTest {
 protected:
  void MakeTwoSnapshots() {
    WriteFile(src_ + "/000001.sst", RandomData(700 << 10, 1));
    WriteFile(src_ + "/MANIFEST-000001", TextData(90 << 10, 2));
    first_ = IdHex(Backup(SmallPacks()).snapshot_id);
    WriteFile(src_ + "/000002.sst", RandomData(500 << 10, 3));
    auto o = SmallPacks();
    o.parent = "latest";
    second_ = IdHex(Backup(o).snapshot_id);
  }

  void ExpectVerifies(Repository& repo) {
    VerifyOptions v;
    v.read_data = true;
    auto report = Verify(repo, v);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0].ToString());
  }

  std::string first_, second_;
  std::shared_ptr<storage::MemoryObjectStore> dest_ = std::make_shared<storage::MemoryObjectStore>();
};

TEST_F(CopyTest, EmptyDestinationBecomesAReplicaThatRestoresOnItsOwn) {
  MakeTwoSnapshots();
  auto stats = CopySnapshots(*repo_, dest_, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->created_replica);
  EXPECT_EQ(stats->snapshots_copied, 2u);
  EXPECT_GE(stats->key_slots_copied, 1u);
  EXPECT_EQ(dest_->List("data/")->size(), store_->List("data/")->size());

  // The source can go; the passphrase opens the replica on its own.
  auto replica = OpenRepo(dest_);
  ASSERT_NE(replica, nullptr);
  EXPECT_EQ(replica->config().id, repo_->config().id);
  ExpectVerifies(*replica);
  RestoreOptions ro;
  auto restored = RestoreSnapshot(*replica, second_, dir_ + "/out", ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(dir_ + "/out"), ReadTree(src_));
}

TEST_F(CopyTest, SecondCopyTransfersOnlyWhatTheDestinationLacks) {
  MakeTwoSnapshots();
  CopyOptions only_first;
  only_first.snapshots = {first_};
  auto a = CopySnapshots(*repo_, dest_, only_first);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->snapshots_copied, 1u);
  EXPECT_EQ(dest_->List("snapshots/")->size(), 1u);
  auto replica = OpenRepo(dest_);
  ExpectVerifies(*replica);

  auto b = CopySnapshots(*repo_, dest_, {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->snapshots_copied, 1u);
  EXPECT_LT(b->bytes_copied, a->bytes_copied) << "the second snapshot shares most data with the first";
  EXPECT_GT(b->packs_copied, 0u);

  auto c = CopySnapshots(*repo_, dest_, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->snapshots_copied, 0u);
  EXPECT_EQ(c->packs_copied, 0u);
  EXPECT_EQ(c->bytes_copied, 0u);
  EXPECT_FALSE(c->created_replica);

  auto listing = ListReplica(*dest_);
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->repo_id, repo_->config().id);
  EXPECT_EQ(listing->snapshot_ids.size(), 2u);
}

TEST_F(CopyTest, ADifferentRepositoryIsRefusedAndLeftUntouched) {
  MakeTwoSnapshots();
  auto other = InitRepo(dest_);
  ASSERT_NE(other, nullptr);
  const size_t keys_before = dest_->List("keys/")->size();
  auto r = CopySnapshots(*repo_, dest_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not a copy"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(dest_->List("keys/")->size(), keys_before);
  EXPECT_TRUE(dest_->List("snapshots/")->empty());
}

TEST_F(CopyTest, DamagedSourcePackIsNotSpread) {
  MakeTwoSnapshots();
  auto packs = *store_->List("data/");
  ASSERT_FALSE(packs.empty());
  std::string bytes = *store_->Get(packs[0].key);
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_TRUE(store_->Put(packs[0].key, bytes).ok());
  auto r = CopySnapshots(*repo_, dest_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(packs[0].key), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(dest_->List("snapshots/")->empty()) << "no snapshot may point at a pack that was not copied";
}

TEST_F(CopyTest, CopyKilledAtEveryPutLeavesAValidReplicaAndTheRerunCompletes) {
  MakeTwoSnapshots();
  // Count the Puts of a clean copy, then crash at each of them in turn.
  auto probe_inner = std::make_shared<storage::MemoryObjectStore>();
  auto probe = std::make_shared<storage::FaultInjectionObjectStore>(probe_inner);
  ASSERT_TRUE(CopySnapshots(*repo_, probe, {}).ok());
  const int64_t puts = probe->counters().puts;
  ASSERT_GT(puts, 4);
  for (int64_t n = 1; n <= puts; ++n) {
    auto inner = std::make_shared<storage::MemoryObjectStore>();
    storage::FaultPlan plan;
    plan.fail_put_number = n;
    auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(inner, plan);
    CopyOptions one_worker;
    one_worker.workers = 1;
    EXPECT_FALSE(CopySnapshots(*repo_, faulty, one_worker).ok()) << "put " << n;
    // Whatever landed is a valid (maybe empty) replica...
    if (auto has = inner->Exists("config"); has.ok() && *has) {
      auto replica = OpenRepo(inner);
      ASSERT_NE(replica, nullptr) << "put " << n;
      ExpectVerifies(*replica);
    }
    // ...and the rerun completes it.
    auto rerun = CopySnapshots(*repo_, inner, {});
    ASSERT_TRUE(rerun.ok()) << "put " << n << ": " << rerun.status().ToString();
    auto replica = OpenRepo(inner);
    ASSERT_NE(replica, nullptr);
    ExpectVerifies(*replica);
    EXPECT_EQ(inner->List("snapshots/")->size(), 2u);
  }
}

}  // namespace
}  // namespace ailee::repo
