// Transfers in parallel: a backup stores several packs at once and commits
// its snapshot only after all of them are stored; restore and verify read a
// file's adjacent chunks with one ranged read (repo/blob_run_reader.h).
// Failures halfway (one of the uploads in flight, one ranged read) leave
// the repository and the restore target valid, and the rerun completes.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "repo/blob_run_reader.h"
#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

bool IsPack(const std::string& key) { return key.rfind("data/", 0) == 0; }

// Forwards to a store and, for packs (data/...): counts Puts in flight and
// can hold each Put until `hold_until` are in flight (proof of overlap
// without timing), fail the Nth pack Put, or fail the Nth pack GetRange.
class PackStore final : public storage::ObjectStore {
 public:
  explicit PackStore(std::shared_ptr<storage::ObjectStore> inner) : inner_(std::move(inner)) {}

  int hold_until = 0;           // hold the first pack Puts until this many are in flight; 0: never
  int fail_put_number = 0;      // 1-based, counting pack Puts; 0: never
  int fail_range_number = 0;    // 1-based, counting pack GetRanges; 0: never
  StatusCode code = StatusCode::kUnavailable;

  int max_in_flight() {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }
  int ranges() {
    std::lock_guard lock(mu_);
    return ranges_;
  }

  std::string Location() const override { return inner_->Location(); }
  Status Put(const std::string& key, std::string_view data) override {
    if (!IsPack(key)) return inner_->Put(key, data);
    int number;
    {
      std::unique_lock lock(mu_);
      number = ++puts_;
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      changed_.notify_all();
      // The first hold_until uploads wait for each other. A bound, not a
      // measurement: serial uploads would wait here (for the 30 s fallback).
      if (hold_until > 0 && max_in_flight_ < hold_until) {
        changed_.wait_for(lock, std::chrono::seconds(30), [&] { return max_in_flight_ >= hold_until; });
      }
    }
    Status st = number == fail_put_number ? Status(code, "put object " + key + ": injected failure")
                                          : inner_->Put(key, data);
    std::lock_guard lock(mu_);
    --in_flight_;
    return st;
  }
  Status PutIfAbsent(const std::string& key, std::string_view data) override { return inner_->PutIfAbsent(key, data); }
  Result<std::string> Get(const std::string& key) override { return inner_->Get(key); }
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override {
    if (IsPack(key)) {
      std::lock_guard lock(mu_);
      if (++ranges_ == fail_range_number) return Status(code, "get range of " + key + ": injected failure");
    }
    return inner_->GetRange(key, offset, length);
  }
  Result<uint64_t> Stat(const std::string& key) override { return inner_->Stat(key); }
  Status Delete(const std::string& key) override { return inner_->Delete(key); }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override { return inner_->List(prefix); }

 private:
  std::shared_ptr<storage::ObjectStore> inner_;
  std::mutex mu_;
  std::condition_variable changed_;
  int puts_ = 0, in_flight_ = 0, max_in_flight_ = 0, ranges_ = 0;
};

class ParallelTransferTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    packs_ = std::make_shared<PackStore>(store_);
    repo_ = OpenRepo(packs_);
    ASSERT_TRUE(repo_);
  }

  // 64 KiB chunks of random data (stored raw: 64 KiB + 29 bytes each); with
  // one worker they reach the pack in file order, 4 per 256 KiB pack.
  BackupOptions InOrder(int uploads) {
    BackupOptions o = SmallPacks();
    o.workers = 1;
    o.uploads = uploads;
    return o;
  }

  std::shared_ptr<PackStore> packs_;
  int store_reads_ = 0;
};

BlobLocation At(uint8_t pack, uint64_t offset, uint64_t length) {
  BlobLocation l;
  l.pack[0] = pack;
  l.offset = offset;
  l.length = length;
  return l;
}

TEST(BlobRunPlan, MergesForwardNeighboursOfOnePackWithinTheGapAndSizeLimits) {
  BlobReadOptions o;
  o.max_gap = 10;
  o.max_bytes = 400;
  std::vector<std::optional<BlobLocation>> l = {
      At(1, 0, 100),    // 0: start
      At(1, 100, 100),  // 1: adjacent
      At(1, 210, 50),   // 2: a gap of 10: merged
      At(1, 271, 50),   // 3: a gap of 11: new run
      At(1, 321, 100),  // 4: adjacent to 3
      At(2, 421, 10),   // 5: another pack
      At(2, 0, 10),     // 6: backwards in pack 2
      std::nullopt,     // 7: not in the index
      At(2, 10, 10),    // 8
  };
  BlobRun a = PlanBlobRun(l, 0, o);
  EXPECT_EQ(a.first, 0u);
  EXPECT_EQ(a.count, 3u);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(a.length, 260u);
  BlobRun b = PlanBlobRun(l, 3, o);
  EXPECT_EQ(b.count, 2u);
  EXPECT_EQ(b.length, 150u);
  EXPECT_EQ(PlanBlobRun(l, 5, o).count, 1u) << "the next blob lies before it";
  EXPECT_EQ(PlanBlobRun(l, 6, o).count, 1u) << "the next blob is not in the index";
  o.max_bytes = 250;
  EXPECT_EQ(PlanBlobRun(l, 0, o).count, 2u) << "the third blob would make the read 260 bytes";
  o.max_bytes = 50;
  EXPECT_EQ(PlanBlobRun(l, 0, o).count, 1u) << "a blob larger than max_bytes is read alone";
}

TEST_F(ParallelTransferTest, MergedReadsReturnExactlyEachBlobAdjacentAcrossGapsAndAtPackEnds) {
  WriteFile(src_ + "/f", RandomData(10 * (64 << 10), 7));  // 10 chunks: packs of 4, 4 and 2
  auto snap = FindSnapshot(*repo_, IdHex(Backup(InOrder(1)).snapshot_id));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  const std::vector<Id> chunks = snap->files.at(0).chunks;
  ASSERT_EQ(chunks.size(), 10u);

  // Reads `ids` through one reader: its read count, with every blob checked
  // against Repository::LoadBlob (read afterwards, so not counted).
  auto read_all = [&](const std::vector<Id>& ids, const BlobReadOptions& o) {
    BlobRunBuffers buffers;
    BlobRunReader reader(*repo_, ids, o, &buffers);
    std::vector<std::string> got;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto blob = reader.Next();
      EXPECT_TRUE(blob.ok()) << blob.status().ToString();
      got.push_back(blob.ok() ? std::string(*blob) : "");
    }
    EXPECT_TRUE(reader.done());
    store_reads_ = packs_->ranges();
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_TRUE(got[i] == *repo_->LoadBlob(ids[i])) << "blob " << i;
    return reader.reads();
  };
  BlobReadOptions o;
  const int before = packs_->ranges();
  EXPECT_EQ(read_all(chunks, o), 3u) << "one read per pack, each ending at the pack's last blob";
  EXPECT_EQ(store_reads_ - before, 3) << "and that is what the store saw";
  const std::vector<Id> every_other = {chunks[0], chunks[2], chunks[4], chunks[6], chunks[8]};
  EXPECT_EQ(read_all(every_other, o), 3u) << "gaps of one blob are read over";
  o.max_gap = 0;
  EXPECT_EQ(read_all(every_other, o), 5u);
  o.max_gap = 256 << 10;
  o.max_bytes = 2 * ((64 << 10) + 29);
  EXPECT_EQ(read_all(chunks, o), 5u) << "two blobs per read at most";
  const std::vector<Id> backwards = {chunks[3], chunks[2], chunks[1], chunks[9], chunks[9]};
  EXPECT_EQ(read_all(backwards, BlobReadOptions{}), 5u);
}

TEST_F(ParallelTransferTest, DamageInsideARunFailsOnlyTheBlobsItHits) {
  WriteFile(src_ + "/f", RandomData(10 * (64 << 10), 8));
  auto snap = FindSnapshot(*repo_, IdHex(Backup(InOrder(1)).snapshot_id));
  ASSERT_TRUE(snap.ok());
  const std::vector<Id> chunks = snap->files.at(0).chunks;
  // Cut the second pack after its first two blobs.
  auto loc = repo_->index().Find(chunks[5]);
  ASSERT_TRUE(loc);
  const std::string key = PackKey(loc->pack);
  ASSERT_TRUE(store_->Put(key, store_->GetRange(key, 0, loc->offset + loc->length).value()).ok());

  BlobRunBuffers buffers;
  BlobRunReader reader(*repo_, chunks, BlobReadOptions{}, &buffers);
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto got = reader.Next();
    if (i == 6 || i == 7) {
      EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << i << ": " << got.status().ToString();
      EXPECT_NE(got.status().message().find(IdHex(loc->pack)), std::string::npos) << got.status().message();
    } else {
      EXPECT_TRUE(got.ok()) << i << ": " << got.status().ToString();
    }
  }
}

TEST_F(ParallelTransferTest, SeveralUploadsInFlightRestoreByteIdentically) {
  for (int i = 0; i < 6; ++i) WriteFile(src_ + "/f" + std::to_string(i), RandomData(200 << 10, 20 + i));
  packs_->hold_until = 3;
  BackupOptions o = SmallPacks();
  o.uploads = 3;
  BackupResult r = Backup(o);
  EXPECT_GE(r.stats.packs_written, 4u);
  EXPECT_EQ(packs_->max_in_flight(), 3) << "three pack uploads were in flight at once";
  packs_->hold_until = 0;
  const std::string target = dir_ + "/target";
  auto restored = RestoreSnapshot(*repo_, IdHex(r.snapshot_id), target, {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
  VerifyOptions vo;
  vo.read_data = true;
  auto report = Verify(*repo_, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().ToString();
}

TEST_F(ParallelTransferTest, OneFailedUploadFailsTheBackupWithoutASnapshotAndTheRerunCompletes) {
  for (int i = 0; i < 6; ++i) WriteFile(src_ + "/f" + std::to_string(i), RandomData(200 << 10, 40 + i));
  packs_->hold_until = 3;  // the failing upload is one of three in flight
  packs_->fail_put_number = 2;
  BackupOptions o = SmallPacks();
  o.uploads = 3;
  auto failed = BackupTree(*repo_, src_, o);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("injected failure"), std::string::npos) << failed.status().ToString();
  EXPECT_EQ(Count("snapshots/"), 0u) << "no snapshot without all of its packs";

  packs_->hold_until = 0;
  packs_->fail_put_number = 0;
  VerifyOptions vo;
  vo.read_data = true;
  auto report = Verify(*repo_, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().ToString();

  BackupResult rerun = Backup(o);
  const std::string target = dir_ + "/target";
  auto restored = RestoreSnapshot(*repo_, IdHex(rerun.snapshot_id), target, {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
  report = Verify(*repo_, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().ToString();
}

TEST_F(ParallelTransferTest, AFailedRangedReadLeavesTheOldTargetAndTheRerunRestores) {
  for (int i = 0; i < 4; ++i) WriteFile(src_ + "/f" + std::to_string(i), RandomData(300 << 10, 60 + i));
  BackupResult r = Backup(SmallPacks());
  const std::string target = dir_ + "/target";
  WriteFile(target + "/old", "the tree before the restore");
  const auto old_tree = ReadTree(target);

  packs_->fail_range_number = 3;
  RestoreOptions ro;
  ro.force = true;
  ro.reuse_local = false;
  auto failed = RestoreSnapshot(*repo_, IdHex(r.snapshot_id), target, ro);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_EQ(ReadTree(target), old_tree) << "nothing half-written is presented as restored";
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src", "target"})) << "no staging directory left";

  packs_->fail_range_number = 0;
  auto restored = RestoreSnapshot(*repo_, IdHex(r.snapshot_id), target, ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
}

}  // namespace
}  // namespace ailee::repo::testing
