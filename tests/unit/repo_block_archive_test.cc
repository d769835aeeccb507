// The block archive's format and upkeep: appending, gaps, overlaps, broken
// links, damage, segments from another node or repository, verify, retention
// by prune, copy to a replica. Blocks here are unsigned (the repository
// layer checks links and tx roots; signatures are the replay's job).
// Object Lock: repo_object_lock_test.cc.
#include <gtest/gtest.h>

#include "repo/block_archive.h"
#include "repo/block_archive_upkeep.h"
#include "repo/copy.h"
#include "repo/prune.h"
#include "repo/verify.h"
#include "repo_block_testing.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class BlockArchiveTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    chain_ = Chain(40);
  }
  BlockSegment Segment(uint64_t first, uint64_t last, const std::string& node = "node-1") {
    BlockSegment s{node, chain_[0].header.Hash(), {}};
    for (uint64_t h = first; h <= last; ++h) s.blocks.push_back(chain_[h - 1]);
    return s;
  }
  // Appends first..last after the current tail; expects success.
  BlockSegmentName Append(uint64_t first, uint64_t last) {
    auto tail = ReadBlockArchiveTail(*repo_, "node-1");
    EXPECT_TRUE(tail.ok()) << tail.status().ToString();
    auto sealed = SealBlockSegment(*repo_, Segment(first, last));
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    Status st = AppendBlockSegment(*repo_, *tail, *sealed);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return sealed->name;
  }
  std::string Problems(bool read_data) {
    auto check = CheckBlockArchive(*repo_, read_data);
    EXPECT_TRUE(check.ok());
    std::string all;
    for (const auto& p : check->problems) all += p.object + ": " + p.message + "\n";
    return all;
  }
  std::vector<uint64_t> Walk(uint64_t from, uint64_t to, Status* st) {
    std::vector<uint64_t> heights;
    *st = ForEachArchivedBlock(*repo_, "node-1", from, to, [&](const state::Block& b) {
      heights.push_back(b.header.height);
      return Status::Ok();
    });
    return heights;
  }
  std::vector<state::Block> chain_;
};

TEST_F(BlockArchiveTest, AppendsContiguousSegmentsAndReadsEveryBlockOnce) {
  Append(1, 10);
  Append(11, 11);
  Append(12, 30);
  auto tail = ReadBlockArchiveTail(*repo_, "node-1");
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->height, 30u);
  EXPECT_EQ(tail->block_hash, chain_[29].header.Hash());
  EXPECT_EQ(tail->segments, 3u);
  Status st;
  auto heights = Walk(5, 25, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(heights.size(), 21u);
  for (size_t i = 0; i < heights.size(); ++i) EXPECT_EQ(heights[i], 5 + i);
  EXPECT_EQ(Problems(true), "");
  // The names give the ranges without the key.
  auto list = ListBlockSegments(*store_, "node-1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1].range(), "11..11");
}

TEST_F(BlockArchiveTest, WriterRefusesGapsOverlapsAndBrokenLinks) {
  Append(1, 10);
  auto tail = ReadBlockArchiveTail(*repo_, "node-1");
  ASSERT_TRUE(tail.ok());
  auto gap = SealBlockSegment(*repo_, Segment(12, 15));
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(AppendBlockSegment(*repo_, *tail, *gap).code(), StatusCode::kFailedPrecondition);
  auto overlap = SealBlockSegment(*repo_, Segment(8, 15));
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(AppendBlockSegment(*repo_, *tail, *overlap).code(), StatusCode::kFailedPrecondition);
  // A block 11 of another chain (its prev_hash is not block 10's hash).
  BlockSegment forked = Segment(11, 11);
  forked.blocks[0].header.prev_hash[0] ^= 1;
  auto sealed = SealBlockSegment(*repo_, forked);
  ASSERT_TRUE(sealed.ok());
  Status st = AppendBlockSegment(*repo_, *tail, *sealed);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("does not link to archived block 10"), std::string::npos) << st.message();
  // Inside one segment, too.
  BlockSegment bad = Segment(11, 13);
  std::swap(bad.blocks[1], bad.blocks[2]);
  EXPECT_EQ(SealBlockSegment(*repo_, bad).status().code(), StatusCode::kInvalidArgument);
}

// Two writers for one node, each with the tail it read before the other
// wrote (two archivers with their own buffer dirs): the one writing second is
// refused by name, whatever its own tail says, and the archive stays clean.
TEST_F(BlockArchiveTest, SecondWriterWithAStaleTailIsRefusedNamingBothRanges) {
  Append(1, 10);
  auto stale = ReadBlockArchiveTail(*repo_, "node-1");
  ASSERT_TRUE(stale.ok());
  auto first_writer = SealBlockSegment(*repo_, Segment(11, 13));
  ASSERT_TRUE(first_writer.ok());
  ASSERT_TRUE(AppendBlockSegment(*repo_, *stale, *first_writer).ok());
  auto second = SealBlockSegment(*repo_, Segment(11, 17));
  ASSERT_TRUE(second.ok());
  Status st = AppendBlockSegment(*repo_, *stale, *second);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("block segment 11..17 of node node-1 overlaps segment 11..13"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("at heights 11..13"), std::string::npos) << st.message();
  // Nothing was written: the archive ends where the first writer left it.
  auto listed = ListBlockSegments(repo_->store(), "node-1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(listed->back().key(), first_writer->name.key());
  EXPECT_EQ(Problems(true), "");
  // The first writer's own retried upload (same bytes, same name) still succeeds.
  EXPECT_TRUE(AppendBlockSegment(*repo_, *stale, *first_writer).ok());
}

TEST_F(BlockArchiveTest, DeletedSegmentIsANamedGapForVerifyAndReaders) {
  Append(1, 10);
  auto middle = Append(11, 20);
  Append(21, 30);
  ASSERT_TRUE(store_->Delete(middle.key()).ok());
  EXPECT_NE(Problems(false).find("blocks 11..20 are missing"), std::string::npos) << Problems(false);
  Status st;
  Walk(5, 25, &st);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("blocks 11..20 are missing"), std::string::npos) << st.message();
  Walk(5, 35, &st);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("latest archived height is 30"), std::string::npos) << st.message();
}

TEST_F(BlockArchiveTest, AlteredBytesFailAuthenticationNamingTheSegment) {
  Append(1, 10);
  auto seg = Append(11, 20);
  auto bytes = store_->Get(seg.key());
  ASSERT_TRUE(bytes.ok());
  std::string edited = *bytes;
  edited[edited.size() / 2] ^= 0x40;
  // Renamed to match its new hash, so only the AEAD tag can catch it.
  BlockSegmentName renamed = seg;
  renamed.id = crypto::Sha256(edited);
  ASSERT_TRUE(store_->Delete(seg.key()).ok());
  ASSERT_TRUE(store_->Put(renamed.key(), edited).ok());
  std::string problems = Problems(true);
  EXPECT_NE(problems.find("block segment " + renamed.key()), std::string::npos) << problems;
  EXPECT_NE(problems.find("fails authentication"), std::string::npos) << problems;
  EXPECT_EQ(Problems(false), "");  // structure alone cannot see it
  Status st;
  Walk(1, 20, &st);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("fails authentication"), std::string::npos);
  // Altered in place: the name no longer matches (found without the key).
  ASSERT_TRUE(store_->Delete(renamed.key()).ok());
  ASSERT_TRUE(store_->Put(seg.key(), edited).ok());
  problems = Problems(true);
  EXPECT_NE(problems.find("content does not match its name"), std::string::npos) << problems;
}

TEST_F(BlockArchiveTest, SegmentOfAnotherNodeOrRepositoryIsRefused) {
  Append(1, 10);
  // node-2's segment 11..20 (same repository key) moved under node-1's name.
  auto other = SealBlockSegment(*repo_, Segment(11, 20, "node-2"));
  ASSERT_TRUE(other.ok());
  BlockSegmentName moved = other->name;
  moved.node_id = "node-1";
  ASSERT_TRUE(store_->Put(moved.key(), other->bytes).ok());
  std::string problems = Problems(true);
  EXPECT_NE(problems.find("refused: it holds blocks of node \"node-2\""), std::string::npos) << problems;
  ASSERT_TRUE(store_->Delete(moved.key()).ok());
  // A segment sealed by another repository (another data key).
  auto other_store = std::make_shared<storage::MemoryObjectStore>();
  auto other_repo = InitRepo(other_store);
  auto foreign = SealBlockSegment(*other_repo, Segment(11, 20));
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(store_->Put(foreign->name.key(), foreign->bytes).ok());
  problems = Problems(true);
  EXPECT_NE(problems.find("fails authentication"), std::string::npos) << problems;
  auto tail = ReadBlockArchiveTail(*repo_, "node-1");
  EXPECT_EQ(tail.status().code(), StatusCode::kDataLoss);
}

TEST_F(BlockArchiveTest, SegmentOfAnotherChainIsRefused) {
  Append(1, 10);
  // Another chain of the same node id (e.g. a node restored and run on):
  // other block hashes, another chain id; stored past the writer's checks.
  std::vector<state::Block> other = Chain(20, /*salt=*/7);
  BlockSegment seg{"node-1", other[0].header.Hash(), {other.begin() + 10, other.end()}};
  auto sealed = SealBlockSegment(*repo_, seg);
  ASSERT_TRUE(sealed.ok());
  auto tail = ReadBlockArchiveTail(*repo_, "node-1");
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(AppendBlockSegment(*repo_, *tail, *sealed).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->Put(sealed->name.key(), sealed->bytes).ok());
  std::string problems = Problems(true);
  EXPECT_NE(problems.find("another chain"), std::string::npos) << problems;
  EXPECT_NE(problems.find("does not link to block 10"), std::string::npos) << problems;
  Status st;
  Walk(1, 20, &st);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("another chain"), std::string::npos) << st.message();
}

TEST_F(BlockArchiveTest, PruneKeepsTheArchiveBackToTheOldestStateSnapshot) {
  Append(1, 10);
  Append(11, 20);
  Append(21, 30);
  auto state_snapshot = [&](uint64_t height, int64_t t) -> Id {
    Snapshot s;
    s.kind = "state";
    s.host = "node-1";
    s.time_ms = t;
    s.meta = {{"node_id", "node-1"}, {"height", height}};
    auto id = SaveSnapshot(*repo_, s);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : Id{};
  };
  // No state snapshot: everything stays.
  auto r = Prune(*repo_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->block_segments_deleted, 0u);
  // Oldest snapshot at 15: segment 1..10 is not needed, 11..20 is (16..20).
  state_snapshot(25, 2000);
  const Id oldest = state_snapshot(15, 1000);
  r = Prune(*repo_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->block_segments_deleted, 1u);
  auto list = ListBlockSegments(*store_, "node-1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->front().first, 11u);
  Status st;
  Walk(16, 30, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Problems(true), "");
  // The oldest forgotten, the next at 20, exactly a segment's end: that segment is not needed.
  state_snapshot(20, 500);
  ASSERT_TRUE(store_->Delete(SnapshotKey(oldest)).ok());
  r = Prune(*repo_, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->block_segments_deleted, 1u);
  list = ListBlockSegments(*store_, "node-1");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().first, 21u);
}

TEST_F(BlockArchiveTest, CopyCarriesSegmentsToAReplica) {
  Append(1, 10);
  Append(11, 20);
  auto dest = std::make_shared<storage::MemoryObjectStore>();
  auto stats = CopySnapshots(*repo_, dest, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->block_segments_copied, 2u);
  auto replica = repo_->OpenReplica(dest);
  ASSERT_TRUE(replica.ok());
  auto tail = ReadBlockArchiveTail(**replica, "node-1");
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->height, 20u);
  Append(21, 25);
  stats = CopySnapshots(*repo_, dest, {});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->block_segments_copied, 1u);
}

}  // namespace
}  // namespace ailee::repo::testing
