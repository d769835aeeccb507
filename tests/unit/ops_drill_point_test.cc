// Which recovery point a drill restores (ops/drill/point.h): --random-within
// stays inside the recovery window and inside the age, covers it uniformly
// (with a seeded generator, repeatably), and says why when nothing is young
// enough; --to-height outside the window and a node without a snapshot are
// refused by name. No repository: the window and the height-at-time lookup
// are given.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ops/drill/point.h"

namespace ailee::ops {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kNow = 1'800'000'000'000;

// Heights 100..1000, one block a minute ending at kNow - 1 h; the oldest
// snapshot 60 days back.
RecoveryWindow Window() {
  RecoveryWindow w;
  w.node_id = "node-1";
  w.has_snapshot = true;
  w.earliest_height = 100;
  w.earliest_time_ms = kNow - 60 * kDay;
  w.latest_height = 1000;
  w.latest_time_ms = kNow - 3600000;
  return w;
}

// The block timestamps behind Window(): height h at latest_time - (1000 - h) min.
Result<uint64_t> HeightAt(int64_t t) {
  const int64_t back_min = (Window().latest_time_ms - t + 59999) / 60000;
  if (back_min <= 0) return uint64_t{1000};
  return back_min >= 1000 ? uint64_t{0} : static_cast<uint64_t>(1000 - back_min);
}

TEST(DrillPoint, LatestLeavesTheHeightToTheRestore) {
  std::mt19937_64 rng(1);
  auto p = ChooseDrillPoint(Window(), {}, kNow, HeightAt, rng);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->height.has_value());
  EXPECT_EQ(p->how, "latest");
}

TEST(DrillPoint, RandomWithinStaysInsideTheAgeAndTheWindowAndCoversIt) {
  // 10 hours back: heights whose block is at most 10 h old are 460..1000
  // (block 1000 is 1 h old, one block a minute).
  const DrillPointRequest req{std::nullopt, 10 * 3600000};
  std::mt19937_64 rng(42);
  std::set<uint64_t> seen;
  for (int i = 0; i < 4000; ++i) {
    auto p = ChooseDrillPoint(Window(), req, kNow, HeightAt, rng);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(p->height.has_value());
    EXPECT_GE(*p->height, 461u);
    EXPECT_LE(*p->height, 1000u);
    seen.insert(*p->height);
  }
  EXPECT_TRUE(seen.count(461) && seen.count(1000)) << "both ends are reachable";
  EXPECT_GT(seen.size(), 500u) << "uniform over 540 heights: 4000 draws hit nearly all of them";
}

TEST(DrillPoint, TheSameSeedChoosesTheSamePoint) {
  const DrillPointRequest req{std::nullopt, 30 * kDay};
  std::mt19937_64 a(7), b(7), c(8);
  auto x = ChooseDrillPoint(Window(), req, kNow, HeightAt, a);
  auto y = ChooseDrillPoint(Window(), req, kNow, HeightAt, b);
  auto z = ChooseDrillPoint(Window(), req, kNow, HeightAt, c);
  ASSERT_TRUE(x.ok() && y.ok() && z.ok());
  EXPECT_EQ(*x->height, *y->height);
  EXPECT_NE(x->how, "");
}

TEST(DrillPoint, AnAgeLongerThanTheWindowUsesAllOfIt) {
  RecoveryWindow w = Window();
  w.earliest_time_ms = kNow - 2 * kDay;  // the whole window is younger than 30 days
  std::mt19937_64 rng(3);
  uint64_t lowest = UINT64_MAX;
  for (int i = 0; i < 3000; ++i) {
    auto p = ChooseDrillPoint(w, {std::nullopt, 30 * kDay}, kNow, [](int64_t) -> Result<uint64_t> {
      ADD_FAILURE() << "no lookup needed when the whole window is young enough";
      return uint64_t{0};
    }, rng);
    ASSERT_TRUE(p.ok());
    lowest = std::min(lowest, *p->height);
  }
  EXPECT_EQ(lowest, 100u);
}

TEST(DrillPoint, NothingYoungEnoughIsNotFoundNamingTheWindow) {
  std::mt19937_64 rng(1);
  auto p = ChooseDrillPoint(Window(), {std::nullopt, 1800000}, kNow, HeightAt, rng);  // 30 min; newest is 1 h old
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("recovery window"), std::string::npos) << p.status().message();
}

TEST(DrillPoint, AHeightOutsideTheWindowOrNoSnapshotIsRefused) {
  std::mt19937_64 rng(1);
  auto low = ChooseDrillPoint(Window(), {uint64_t{99}, std::nullopt}, kNow, HeightAt, rng);
  EXPECT_EQ(low.status().code(), StatusCode::kNotFound);
  auto high = ChooseDrillPoint(Window(), {uint64_t{1001}, std::nullopt}, kNow, HeightAt, rng);
  EXPECT_EQ(high.status().code(), StatusCode::kNotFound);
  auto ok = ChooseDrillPoint(Window(), {uint64_t{500}, std::nullopt}, kNow, HeightAt, rng);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok->height, 500u);
  RecoveryWindow none = Window();
  none.has_snapshot = false;
  EXPECT_EQ(ChooseDrillPoint(none, {}, kNow, HeightAt, rng).status().code(), StatusCode::kNotFound);
}

TEST(DrillPoint, AgesParse) {
  EXPECT_EQ(*ParseAge("30d"), 30 * kDay);
  EXPECT_EQ(*ParseAge("12h"), 12 * 3600000);
  EXPECT_EQ(*ParseAge("90m"), 90 * 60000);
  EXPECT_EQ(*ParseAge("45s"), 45000);
  for (const char* bad : {"", "d", "30", "30x", "-3d", "3.5d", "1234567890d"}) {
    EXPECT_EQ(ParseAge(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ailee::ops
