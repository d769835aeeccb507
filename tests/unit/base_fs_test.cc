#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "base/aligned_buffer.h"
#include "base/fs.h"
#include "base/hex.h"
#include "base/scratch.h"
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

TEST_F(FsTest, WriteAtFromAlignedBuffersKeepsEveryByte) {
  // Aligned, large writes go around the page cache where the filesystem
  // allows; the unaligned tail, unaligned offsets and small writes do not.
  // Whichever way each part went, the file must read back exactly.
  const size_t n = (1 << 20) + 777;
  AlignedBuffer buf(n + 4096);
  for (size_t i = 0; i < n + 4096; ++i) buf.data()[i] = static_cast<char>((i * 7919) >> 3);
  std::string p = fs::JoinPath(dir_, "direct");
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(fs::WriteAt(fd, std::string_view(buf.data(), n), 0, p).ok());
  ASSERT_TRUE(fs::WriteAt(fd, std::string_view(buf.data() + 4096, n), n, p).ok());  // unaligned offset
  ASSERT_TRUE(fs::WriteAt(fd, std::string_view(buf.data() + 1, 10), 2 * n, p).ok());  // unaligned buffer
  ASSERT_EQ(::close(fd), 0);
  std::string expected = std::string(buf.data(), n) + std::string(buf.data() + 4096, n) + std::string(buf.data() + 1, 10);
  auto r = fs::ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r == expected);

  std::string q = fs::JoinPath(dir_, "atomic");
  ASSERT_TRUE(fs::WriteFileAtomic(q, std::string_view(buf.data(), n)).ok());
  EXPECT_TRUE(*fs::ReadFile(q) == std::string_view(buf.data(), n));
}

TEST_F(FsTest, MissingFileIsNotFoundWithPathInMessage) {
  auto r = fs::ReadFile(fs::JoinPath(dir_, "nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
}

TEST_F(FsTest, RemoveAbandonedRemovesDeadOwnersScratchAndNeverALiveOnes) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string dead = std::to_string(child);
  const std::string parent = std::to_string(::getppid());
  const uint64_t parent_start = fs::ProcessStartTicks(::getppid());
  ASSERT_NE(parent_start, 0u);
  const std::vector<std::string> live = {
      fs::ScratchName("job-"),                                 // this process
      "job-" + parent + "s" + std::to_string(parent_start) + "-b",  // a live concurrent run
      "job-" + parent + "-c",                                  // live, name without start time
      "job-unowned",                                           // no owner: not ours to judge
  };
  const std::vector<std::string> gone = {
      "job-" + dead + "s123-d",                                     // dead pid
      "job-" + dead + "-e",                                         // dead pid, old name
      "job-" + parent + "s" + std::to_string(parent_start + 1) + "-f",  // pid reused by another process
      "job-" + dead + ".3.77",                                      // a temporary file's old name
  };
  for (const auto& n : live) ASSERT_TRUE(fs::MakeDirs(fs::JoinPath(dir_, n)).ok());
  for (const auto& n : gone) {
    ASSERT_TRUE(fs::MakeDirs(fs::JoinPath(dir_, n + "/sub")).ok());
    ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(dir_, n + "/sub/big"), "data").ok());
  }
  // A dead owner's name on a symlink: the link goes, never what it points to.
  ASSERT_TRUE(fs::MakeDirs(dir_ + "/elsewhere").ok());
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/elsewhere/keep", "keep").ok());
  ASSERT_EQ(::symlink((dir_ + "/elsewhere").c_str(), (dir_ + "/job-" + dead + "-link").c_str()), 0);

  fs::RemoveAbandoned(dir_, "job-");
  std::vector<std::string> expected = live;
  expected.push_back("elsewhere");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(*fs::ListDir(dir_), expected);
  EXPECT_EQ(*fs::ReadFile(dir_ + "/elsewhere/keep"), "keep");
}

TEST(ScratchTest, OwnerTagNamesThisProcessAndParsesBack) {
  int64_t pid = 0;
  uint64_t start = 0;
  ASSERT_TRUE(fs::ParseOwnerTag(fs::OwnerTag() + "-x", &pid, &start));
  EXPECT_EQ(pid, ::getpid());
  EXPECT_EQ(start, fs::ProcessStartTicks(::getpid()));
  EXPECT_FALSE(fs::OwnerGone(pid, start));
  EXPECT_TRUE(fs::OwnerGone(pid, start + 1));
  EXPECT_FALSE(fs::ParseOwnerTag("x123", &pid, &start));
  ASSERT_TRUE(fs::ParseOwnerTag("42.7.9", &pid, &start));
  EXPECT_EQ(pid, 42);
  EXPECT_EQ(start, 0u);
  EXPECT_NE(fs::TempSiblingName("/a/b").find(".tmp." + fs::OwnerTag() + "."), std::string::npos);
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
