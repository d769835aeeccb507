// Point-in-time restore's checks that need no node: the archive's coverage
// of a replay range from the segment listing (a gap is named before anything
// is fetched), and the recovery windows `snapshots` shows.
#include <gtest/gtest.h>

#include "ops/state/point_in_time.h"
#include "repo/block_archive.h"
#include "repo_block_testing.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class PointInTimeTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    chain_ = Chain(40);
  }
  // Stores first..last directly (no tail check), so gaps can be made.
  void Store(uint64_t first, uint64_t last) {
    BlockSegment s{"node-1", chain_[0].header.Hash(), {}};
    for (uint64_t h = first; h <= last; ++h) s.blocks.push_back(chain_[h - 1]);
    auto sealed = SealBlockSegment(*repo_, s);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    ASSERT_TRUE(repo_->store().Put(sealed->name.key(), sealed->bytes).ok());
  }
  std::vector<state::Block> chain_;
};

TEST_F(PointInTimeTest, CoverageNamesTheFirstGapAndTheArchivesEnd) {
  Store(1, 10);
  Store(11, 20);
  Store(26, 40);
  EXPECT_TRUE(ops::CheckArchiveCovers(*repo_, "node-1", 3, 20).ok());
  EXPECT_TRUE(ops::CheckArchiveCovers(*repo_, "node-1", 26, 40).ok());
  EXPECT_TRUE(ops::CheckArchiveCovers(*repo_, "node-1", 21, 20).ok()) << "an empty range needs nothing";
  Status gap = ops::CheckArchiveCovers(*repo_, "node-1", 5, 30);
  EXPECT_EQ(gap.code(), StatusCode::kDataLoss) << gap.ToString();
  EXPECT_NE(gap.message().find("blocks 21..25 are missing"), std::string::npos) << gap.ToString();
  Status beyond = ops::CheckArchiveCovers(*repo_, "node-1", 30, 45);
  EXPECT_EQ(beyond.code(), StatusCode::kNotFound) << beyond.ToString();
  EXPECT_NE(beyond.message().find("ends at height 40"), std::string::npos) << beyond.ToString();
  Status other = ops::CheckArchiveCovers(*repo_, "node-2", 1, 2);
  EXPECT_EQ(other.code(), StatusCode::kNotFound) << other.ToString();
}

TEST_F(PointInTimeTest, WindowsListEveryNodeWithBlocksEvenWithoutASnapshot) {
  Store(1, 10);
  Store(11, 12);
  auto windows = ops::ListRecoveryWindows(*repo_);
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  ASSERT_EQ(windows->size(), 1u);
  EXPECT_EQ((*windows)[0].node_id, "node-1");
  EXPECT_FALSE((*windows)[0].has_snapshot);
  EXPECT_EQ((*windows)[0].latest_height, 12u);
  EXPECT_NE(ops::DescribeRecoveryWindow((*windows)[0]).find("no state snapshot"), std::string::npos);
}

}  // namespace
}  // namespace ailee::repo::testing
