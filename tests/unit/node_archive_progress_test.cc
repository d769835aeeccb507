// The archiver's progress as the node keeps it (node/archive_progress.h):
// unknown until the first report, never backwards, never above the tip, and
// a refused report leaves the last good one in place.
#include <gtest/gtest.h>

#include "node/archive_progress.h"

namespace ailee::node {
namespace {

TEST(ArchiveProgress, UnknownUntilTheFirstReport) {
  ArchiveProgress p;
  EXPECT_FALSE(p.Get().has_value());
  ASSERT_TRUE(p.Report(40, 1000, 50, 2000).ok());
  ASSERT_TRUE(p.Get().has_value());
  EXPECT_EQ(p.Get()->archived_height, 40u);
  EXPECT_EQ(p.Get()->sealed_at_ms, 1000);
  EXPECT_EQ(p.Get()->received_at_ms, 2000);
}

TEST(ArchiveProgress, TheSameHeightAgainRefreshesTheReport) {
  ArchiveProgress p;
  ASSERT_TRUE(p.Report(40, 1000, 50, 2000).ok());
  ASSERT_TRUE(p.Report(40, 1000, 60, 9000).ok()) << "an idle chain re-reports its height";
  EXPECT_EQ(p.Get()->received_at_ms, 9000);
}

TEST(ArchiveProgress, ABackwardsReportIsRefusedAndNotStored) {
  ArchiveProgress p;
  ASSERT_TRUE(p.Report(40, 1000, 50, 2000).ok());
  Status st = p.Report(39, 3000, 50, 4000);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(p.Get()->archived_height, 40u);
  EXPECT_EQ(p.Get()->received_at_ms, 2000) << "a refused report must not look like a fresh one";
}

TEST(ArchiveProgress, AReportAboveTheTipIsRefusedAndNotStored) {
  ArchiveProgress p;
  Status st = p.Report(51, 1000, 50, 2000);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_FALSE(p.Get().has_value()) << "a lag hidden by a height the node does not have";
  ASSERT_TRUE(p.Report(50, 1000, 50, 2000).ok()) << "archived up to the tip: lag 0";
}

}  // namespace
}  // namespace ailee::node
