// InstallDirectory: the one directory swap (restores and apply-checkpoint).
#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/fs.h"
#include "base/install_directory.h"
#include "base/scratch.h"

namespace ailee {
namespace {

class InstallDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-install-XXXXXX";
    dir_ = mkdtemp(tmpl);
    target_ = fs::JoinPath(dir_, "data");
    staged_ = fs::JoinPath(dir_, ".data.stage-1");
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  void MakeTree(const std::string& dir, const std::string& content) {
    ASSERT_TRUE(fs::MakeDirs(fs::JoinPath(dir, "sub")).ok());
    ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(dir, "sub/file"), content).ok());
  }
  std::string Read(const std::string& path) {
    auto r = fs::ReadFile(path);
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }
  std::vector<std::string> Entries() { return *fs::ListDir(dir_); }
  std::string dir_, target_, staged_;
};

TEST_F(InstallDirectoryTest, AbsentTargetBecomesTheStagedTree) {
  MakeTree(staged_, "new");
  ASSERT_TRUE(fs::InstallDirectory(staged_, target_).ok());
  EXPECT_EQ(Read(fs::JoinPath(target_, "sub/file")), "new");
  EXPECT_EQ(Entries(), std::vector<std::string>{"data"});  // nothing left beside it
}

TEST_F(InstallDirectoryTest, PresentTargetIsReplacedAndTheOldTreeRemoved) {
  MakeTree(target_, "old");
  ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(target_, "only-in-old"), "x").ok());
  MakeTree(staged_, "new");
  ASSERT_TRUE(fs::InstallDirectory(staged_, target_).ok());
  EXPECT_EQ(Read(fs::JoinPath(target_, "sub/file")), "new");
  EXPECT_FALSE(fs::Exists(fs::JoinPath(target_, "only-in-old")));  // a swap, not a merge
  EXPECT_EQ(Entries(), std::vector<std::string>{"data"});
}

TEST_F(InstallDirectoryTest, MissingStagedTreeIsNotFoundAndTheTargetStays) {
  MakeTree(target_, "old");
  Status st = fs::InstallDirectory(staged_, target_);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_EQ(Read(fs::JoinPath(target_, "sub/file")), "old");
  EXPECT_EQ(Entries(), std::vector<std::string>{"data"});
}

TEST_F(InstallDirectoryTest, MissingStagedTreeWithNoTargetCreatesNothing) {
  EXPECT_EQ(fs::InstallDirectory(staged_, target_).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Entries().empty());
}

// The old tree a killed fallback install set aside is removed once the
// target exists again; a live process's aside tree stays.
TEST_F(InstallDirectoryTest, AbandonedAsideTreesGoOnlyOnceTheTargetExists) {
  const std::string dead_aside = fs::JoinPath(dir_, fs::InstallAsidePrefix(target_) + "999999999s1-abc");
  MakeTree(dead_aside, "old");
  MakeTree(staged_, "new");
  ASSERT_TRUE(fs::InstallDirectory(staged_, target_).ok());  // target was absent: the aside is the old state
  EXPECT_TRUE(fs::Exists(dead_aside));
  const std::string live_aside = fs::JoinPath(dir_, fs::ScratchName(fs::InstallAsidePrefix(target_)));
  MakeTree(live_aside, "concurrent");
  MakeTree(staged_, "newer");
  ASSERT_TRUE(fs::InstallDirectory(staged_, target_).ok());
  EXPECT_EQ(Read(fs::JoinPath(target_, "sub/file")), "newer");
  EXPECT_FALSE(fs::Exists(dead_aside));
  EXPECT_TRUE(fs::Exists(live_aside));
}

}  // namespace
}  // namespace ailee
