// Which data dir a restore with the background proof keeps to fall back on
// (ops/state/keep_aside.h): a proven target is copied aside; a target that is
// itself unproven keeps the older kept-aside dir, and says so; a marker that
// is there but unreadable (damaged, planted, a symlink or a FIFO) counts as
// unproven: it never makes the target the fallback in place of that older
// dir, and a copy of such a target stays unproven.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "ops/state/keep_aside.h"
#include "ops_config_test_util.h"
#include "state/proof_pending.h"

namespace ailee::ops {
namespace {

using testing::Get;
using testing::Put;

class KeepAsideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-keep-aside-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    target_ = dir_ + "/data";
    aside_ = state::KeptAsideDir(target_);
    Put(target_ + "/000007.sst", "table of the target");
    Put(target_ + "/CURRENT", "MANIFEST-000005\n");
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::string Marker() const { return fs::JoinPath(target_, state::kProofPendingName); }

  // An older, proven data dir kept aside by an earlier restore.
  void OlderKeptAside() {
    Put(aside_ + "/000003.sst", "table of the proven data dir");
    Put(aside_ + "/CURRENT", "MANIFEST-000002\n");
  }

  std::vector<std::pair<std::string, std::function<void()>>> DamagedMarkers() {
    return {
        {"garbage", [this] { Put(Marker(), "not json at all", 0600); }},
        {"dangling symlink", [this] { ASSERT_EQ(::symlink("/nonexistent/marker", Marker().c_str()), 0); }},
        {"symlink to a file", [this] { ASSERT_EQ(::symlink((target_ + "/CURRENT").c_str(), Marker().c_str()), 0); }},
        {"directory", [this] { ASSERT_TRUE(fs::MakeDirs(Marker()).ok()); }},
        {"FIFO", [this] { ASSERT_EQ(::mkfifo(Marker().c_str(), 0600), 0); }},
    };
  }

  std::string dir_, target_, aside_;
};

TEST_F(KeepAsideTest, AProvenTargetIsCopiedAsideWithTheTimeItWasKept) {
  auto kept = KeepTargetAside(target_);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->dir, aside_);
  EXPECT_FALSE(kept->stale);
  EXPECT_GT(kept->since_unix, 0);
  EXPECT_EQ(Get(aside_ + "/000007.sst"), "table of the target");
  EXPECT_FALSE(fs::Exists(fs::JoinPath(aside_, state::kProofPendingName)));
}

TEST_F(KeepAsideTest, AnUnprovenTargetKeepsTheOlderDirAndNamesWhatItDiscards) {
  OlderKeptAside();
  state::ProofPending m;
  m.height = 42;
  m.source = "snapshot:abcdef012345";
  m.written_unix = 1767229200;
  m.previous_dir = aside_;
  m.previous_kept_unix = 1767225600;
  ASSERT_TRUE(state::WriteProofPending(target_, m).ok());

  auto kept = KeepTargetAside(target_);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->dir, aside_);
  EXPECT_TRUE(kept->stale);
  EXPECT_EQ(kept->since_unix, 1767225600) << "when the older dir was kept aside, not when the target was restored";
  EXPECT_EQ(kept->discarded_source, "snapshot:abcdef012345");
  EXPECT_EQ(kept->discarded_height, 42u);
  EXPECT_EQ(Get(aside_ + "/000003.sst"), "table of the proven data dir") << "the older dir was replaced";
  EXPECT_FALSE(fs::Exists(aside_ + "/000007.sst"));
}

TEST_F(KeepAsideTest, AnUnreadableMarkerNeverReplacesTheOlderKeptAsideDir) {
  OlderKeptAside();
  for (auto& [what, damage] : DamagedMarkers()) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
    damage();
    auto kept = KeepTargetAside(target_);
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->dir, aside_);
    EXPECT_TRUE(kept->stale) << "a target whose marker is a " << what << " was taken for proven";
    EXPECT_EQ(kept->discarded_source, "");
    EXPECT_EQ(Get(aside_ + "/000003.sst"), "table of the proven data dir");
    EXPECT_FALSE(fs::Exists(aside_ + "/000007.sst"));
  }
}

TEST_F(KeepAsideTest, ACopyOfATargetWithAnUnreadableMarkerStaysUnproven) {
  for (auto& [what, damage] : DamagedMarkers()) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
    ASSERT_TRUE(fs::RemoveAll(aside_).ok());
    damage();
    auto kept = KeepTargetAside(target_);
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->dir, aside_) << "with no older dir, the target itself is kept (nothing is lost)";
    EXPECT_FALSE(kept->stale);
    EXPECT_EQ(Get(aside_ + "/000007.sst"), "table of the target");
    // Moved back in place, the copy must not pass for proven.
    auto marker = state::ReadProofPending(aside_);
    EXPECT_FALSE(marker.ok()) << "the copy of a target whose marker is a " << what << " reads as proven";
    EXPECT_NE(state::EnsureProven(aside_).message().find("not known to be proven"), std::string::npos);
  }
}

}  // namespace
}  // namespace ailee::ops
