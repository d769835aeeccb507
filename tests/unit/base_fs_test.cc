#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/hex.h"
#include "base/clock.h"

namespace ailee {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-fs-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(FsTest, AtomicWriteReplacesWholeFileAndLeavesNoTemporaries) {
  std::string p = fs::JoinPath(dir_, "f");
  ASSERT_TRUE(fs::WriteFileAtomic(p, "old").ok());
  ASSERT_TRUE(fs::WriteFileAtomic(p, "new content", 0600).ok());
  auto r = fs::ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "new content");
  struct stat sb {};
  ASSERT_EQ(stat(p.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  auto names = fs::ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
}

TEST_F(FsTest, ExclusiveWriteRefusesExistingFile) {
  std::string p = fs::JoinPath(dir_, "lock");
  ASSERT_TRUE(fs::WriteFileExclusive(p, "a").ok());
  Status st = fs::WriteFileExclusive(p, "b");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs::ReadFile(p), "a");
}

TEST_F(FsTest, MissingFileIsNotFoundWithPathInMessage) {
  auto r = fs::ReadFile(fs::JoinPath(dir_, "nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
}

TEST(HexTest, RoundTripAndRejectsGarbage) {
  std::string raw("\x00\xff\x10", 3);
  EXPECT_EQ(HexEncode(raw), "00ff10");
  EXPECT_EQ(*HexDecode("00FF10"), raw);
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
}

TEST(ClockTest, UtcRoundTrip) {
  int64_t t = 0;
  ASSERT_TRUE(ParseUtc("2026-11-26T13:32:11Z", &t));
  EXPECT_EQ(FormatUtc(t), "2026-11-26T13:32:11Z");
  EXPECT_FALSE(ParseUtc("yesterday", &t));
}

TEST(StatusTest, ContextIsPrepended) {
  Status st = NotFound("object ab").WithContext("restoring snapshot 12");
  EXPECT_EQ(st.message(), "restoring snapshot 12: object ab");
  EXPECT_EQ(st.ToString(), "not found: restoring snapshot 12: object ab");
}

}  // namespace
}  // namespace ailee
