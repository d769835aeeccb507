// The audit log rotated the way logrotate's `create` rotates it (rename the
// live file, create an empty one): the chain continues in the new file, and
// VerifyAuditSegments verifies it across every segment, plain or gzip, and
// names a removed segment, swapped names, an edited segment, and a second
// version of a line. Crashes and concurrent appenders around a rotation
// keep one chain.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "audit/audit_log.h"
#include "audit/continuation.h"
#include "audit/segment_file.h"
#include "audit/verify.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

class AuditRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-audit-rot-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::unique_ptr<AuditLog> OpenLog() {
    auto log = AuditLog::Open(path_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return std::move(log).value();
  }

  static AuditHead AppendN(AuditLog& log, int n, const std::string& tag = "op") {
    AuditHead head;
    for (int i = 1; i <= n; ++i) {
      AuditEvent e;
      e.operation = "backup";
      e.message = tag + " " + std::to_string(i);
      auto h = log.Append(e);
      EXPECT_TRUE(h.ok()) << h.status().ToString();
      if (h.ok()) head = *h;
    }
    return head;
  }

  std::string Seg(int n) const { return path_ + "." + std::to_string(n); }

  // What logrotate's numbered `create` rotation does: .N -> .N+1, the live
  // file -> .1, a new empty live file.
  void Rotate() {
    int top = 1;
    while (fs::Exists(Seg(top))) ++top;
    for (int n = top - 1; n >= 1; --n) ASSERT_EQ(::rename(Seg(n).c_str(), Seg(n + 1).c_str()), 0);
    ASSERT_EQ(::rename(path_.c_str(), Seg(1).c_str()), 0);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }

  VerifyReport VerifyDir(const VerifyOptions& options = {}) {
    auto paths = SegmentsIn(dir_, "audit.log");
    EXPECT_TRUE(paths.ok()) << paths.status().ToString();
    auto r = VerifyAuditSegments(paths.ok() ? *paths : std::vector<std::string>{}, options, "audit.log");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  // Three segments: .2 (seq 1..3), .1 (continue + 3 lines: 4..7), live (8..10).
  void ThreeSegments() {
    auto log = OpenLog();
    AppendN(*log, 3, "first");
    Rotate();
    AppendN(*log, 3, "second");
    Rotate();
    AppendN(*log, 2, "third");
  }

  std::vector<std::string> FileLines(const std::string& path) {
    auto lines = ReadSegment(path);
    EXPECT_TRUE(lines.ok()) << lines.status().ToString();
    return lines.ok() ? lines->complete : std::vector<std::string>{};
  }

  std::string dir_;
  std::string path_;
};

TEST_F(AuditRotationTest, TheNewLiveFileContinuesTheRotatedChain) {
  auto log = OpenLog();
  const AuditHead before = AppendN(*log, 3);
  Rotate();
  // Just rotated, nothing appended: the head is still the rotated file's.
  auto head = log->Head();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(*head, before);

  AppendN(*log, 2);
  auto lines = FileLines(path_);
  ASSERT_EQ(lines.size(), 3u);
  auto first = ParseLine(lines[0], 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->operation, kContinueOperation);
  EXPECT_EQ(first->seq, 4u);
  EXPECT_EQ(first->prev, before.hash);
  EXPECT_EQ(first->json["args"]["previous_file"], "audit.log.1");

  // The live file alone verifies from its continuation line on.
  auto alone = VerifyAuditLog(path_);
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->ok) << alone->problem;
  EXPECT_EQ(alone->first_seq, 4u);

  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.lines, 6u);
  EXPECT_EQ(r.head.seq, 6u);
  ASSERT_EQ(r.segments.size(), 2u);
  EXPECT_EQ(r.segments[0].path, Seg(1));
}

TEST_F(AuditRotationTest, AGenuinelyNewLogStartsAtSeqOne) {
  auto log = OpenLog();
  AppendN(*log, 1);
  auto lines = FileLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(ParseLine(lines[0], 1)->seq, 1u);
  EXPECT_EQ(ParseLine(lines[0], 1)->prev, kZeroHash);
}

TEST_F(AuditRotationTest, VerifiesAcrossGzipSegmentsAndArchivedDuplicates) {
  ThreeSegments();
  // logrotate compresses the older one; an archived copy of .1 restored
  // beside them (logs restore's "~" name) repeats lines already seen.
  ASSERT_TRUE(fs::WriteFileAtomic(Seg(1) + "~0123abcd", *fs::ReadFile(Seg(1)), 0640).ok());
  ASSERT_EQ(std::system(("gzip -n " + Seg(2)).c_str()), 0);
  ASSERT_TRUE(fs::Exists(Seg(2) + ".gz"));
  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 10u);
  EXPECT_EQ(r.segments.size(), 4u);
  size_t duplicates = 0;
  for (const auto& s : r.segments) duplicates += s.duplicate ? 1 : 0;
  EXPECT_EQ(duplicates, 1u);

  // A damaged gzip segment is an error naming it, not a silently short chain.
  auto gz = fs::ReadFile(Seg(2) + ".gz");
  ASSERT_TRUE(fs::WriteFileAtomic(Seg(2) + ".gz", gz->substr(0, gz->size() / 2), 0640).ok());
  auto paths = SegmentsIn(dir_, "audit.log");
  auto bad = VerifyAuditSegments(*paths);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find(Seg(2) + ".gz"), std::string::npos) << bad.status().message();
}

TEST_F(AuditRotationTest, ADeletedSegmentIsNamedAsAGap) {
  ThreeSegments();
  ASSERT_EQ(::unlink(Seg(1).c_str()), 0);
  VerifyReport r = VerifyDir();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, path_) << r.problem;
  EXPECT_EQ(r.first_bad_line, 1u);
  EXPECT_NE(r.problem.find("seq 4..7 missing"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find(Seg(2)), std::string::npos) << r.problem;
}

TEST_F(AuditRotationTest, SwappedSegmentNamesAreNamed) {
  ThreeSegments();
  const std::string tmp = dir_ + "/swap";
  ASSERT_EQ(::rename(Seg(1).c_str(), tmp.c_str()), 0);
  ASSERT_EQ(::rename(Seg(2).c_str(), Seg(1).c_str()), 0);
  ASSERT_EQ(::rename(tmp.c_str(), Seg(2).c_str()), 0);
  VerifyReport r = VerifyDir();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, Seg(2)) << r.problem;
  EXPECT_NE(r.problem.find("swapped or renamed"), std::string::npos) << r.problem;
  // Given as files in any order without names to check, the chain is whole.
  auto paths = SegmentsIn(dir_, "audit.log");
  auto unnamed = VerifyAuditSegments(*paths);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_TRUE(unnamed->ok) << unnamed->problem;
}

TEST_F(AuditRotationTest, AnEditedSegmentWithTheSameNameSizeAndMtimeIsNamed) {
  ThreeSegments();
  struct stat before {};
  ASSERT_EQ(::stat(Seg(1).c_str(), &before), 0);
  // The middle line of .1 (seq 6), one character changed in place.
  std::string data = *fs::ReadFile(Seg(1));
  size_t at = data.find("second 2");
  ASSERT_NE(at, std::string::npos);
  data[at + 7] = '9';
  int fd = ::open(Seg(1).c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  ::close(fd);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, Seg(1).c_str(), times, 0), 0);
  struct stat after {};
  ASSERT_EQ(::stat(Seg(1).c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);

  VerifyReport r = VerifyDir();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, Seg(1)) << r.problem;
  EXPECT_EQ(r.first_bad_line, 3u) << r.problem;
  EXPECT_NE(r.problem.find("(seq 6) was altered"), std::string::npos) << r.problem;

  // Its last line edited instead: only the next file's first line shows it.
  data = *fs::ReadFile(Seg(1));
  data[at + 7] = '2';
  size_t last = data.find("second 3");
  ASSERT_NE(last, std::string::npos);
  data[last + 7] = '8';
  ASSERT_TRUE(fs::WriteFileAtomic(Seg(1), data, 0640).ok());
  r = VerifyDir();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, Seg(1)) << r.problem;
  EXPECT_EQ(r.first_bad_line, 4u) << r.problem;
  EXPECT_NE(r.problem.find("does not follow it"), std::string::npos) << r.problem;
}

TEST_F(AuditRotationTest, TwoVersionsOfALineAreNamed) {
  ThreeSegments();
  std::string data = *fs::ReadFile(Seg(1));
  data.replace(data.find("second 1"), 8, "second X");
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/restored.log", data, 0640).ok());
  auto paths = SegmentsIn(dir_, "audit.log");
  paths->push_back(dir_ + "/restored.log");
  auto r = VerifyAuditSegments(*paths);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("two versions"), std::string::npos) << r->problem;
}

// kill -9 after the append made its line durable but before it recorded the
// head beside the log: the head file is one line behind. A rotation then
// must still continue from the rotated file's real last line.
TEST_F(AuditRotationTest, AStaleHeadFileAfterACrashIsCorrectedFromTheRotatedFile) {
  auto log = OpenLog();
  AppendN(*log, 2);
  const std::string stale = *fs::ReadFile(HeadFilePath(path_));
  const AuditHead real = AppendN(*log, 1);
  ASSERT_TRUE(fs::WriteFileAtomic(HeadFilePath(path_), stale, 0640).ok());
  Rotate();
  // A new process (the killed one is gone) appends first after the rotation.
  auto next = OpenLog();
  AppendN(*next, 1);
  auto first = ParseLine(FileLines(path_)[0], 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->seq, real.seq + 1);
  EXPECT_EQ(first->prev, real.hash);
  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
}

// kill -9 inside an append right before the rotation leaves a torn line at
// the end of the rotated file: it is not part of the chain, and the next
// append after the rotation continues from the last complete line.
TEST_F(AuditRotationTest, ATornLineInTheRotatedFileIsNotPartOfTheChain) {
  auto log = OpenLog();
  const AuditHead head = AppendN(*log, 2);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "{\"v\":1,\"seq\":3,\"ti", 18), 18);
  ::close(fd);
  Rotate();
  AppendN(*log, 1);
  EXPECT_EQ(ParseLine(FileLines(path_)[0], 1)->prev, head.hash);
  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.segments[0].torn_tail_bytes, 18u);
}

// Two processes append while the parent rotates three times: every line of
// both lands in one chain, none restarts at seq 1.
TEST_F(AuditRotationTest, TwoProcessesAppendingWhileRotationsHappenKeepOneChain) {
  OpenLog();  // creates the file
  constexpr int kPerChild = 40;
  std::vector<pid_t> children;
  for (int c = 0; c < 2; ++c) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto log = AuditLog::Open(path_);
      if (!log.ok()) ::_exit(2);
      for (int i = 0; i < kPerChild; ++i) {
        AuditEvent e;
        e.operation = "backup";
        e.message = "child " + std::to_string(c) + " op " + std::to_string(i);
        if (!(*log)->Append(e).ok()) ::_exit(3);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (int r = 0; r < 3; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    Rotate();
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.first_seq, 1u);
  uint64_t backups = 0;
  for (const auto& s : r.segments) {
    for (const auto& line : FileLines(s.path)) backups += ParseLine(line, 0)->operation == "backup" ? 1 : 0;
  }
  EXPECT_EQ(backups, 2u * kPerChild);
}

// kill -9 of an appender at a random moment (inside an append, between the
// line and the head file, anywhere), then a rotation, then the next process
// appends first: five times over, one chain.
TEST_F(AuditRotationTest, KillNineAtRandomThenRotateKeepsOneChain) {
  OpenLog();
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 5; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto log = AuditLog::Open(path_);
      if (!log.ok()) ::_exit(2);
      for (;;) {
        AuditEvent e;
        e.operation = "backup";
        (void)(*log)->Append(e);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 30));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    Rotate();
    auto next = OpenLog();
    AppendN(*next, 1, "after round " + std::to_string(round));
  }
  VerifyReport r = VerifyDir();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.segments.size(), 6u);
}

// The live file emptied in place (copytruncate, or by hand): no rotated file
// has its inode, so the chain continues from the recorded head, and the
// lines lost in between show as a gap, not as a new chain from seq 1.
TEST_F(AuditRotationTest, ALiveFileEmptiedInPlaceContinuesFromTheRecordedHead) {
  auto log = OpenLog();
  const AuditHead head = AppendN(*log, 3);
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  AppendN(*log, 1);
  auto first = ParseLine(FileLines(path_)[0], 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->operation, kContinueOperation);
  EXPECT_EQ(first->seq, head.seq + 1);
  EXPECT_EQ(first->prev, head.hash);
  EXPECT_EQ(first->json["args"]["previous_file"], "");
}

TEST_F(AuditRotationTest, SegmentNames) {
  for (const char* name : {"audit.log", "audit.log.1", "audit.log.12.gz", "audit.log-20261203",
                           "audit.log-20261203.gz", "audit.log.1~0a1b2c"}) {
    EXPECT_TRUE(IsSegmentName("audit.log", name)) << name;
  }
  for (const char* name : {"audit.log.lock", "audit.log.head", "audit.log.head.tmp.1.2.3", "audit.log.gz",
                           "audit.logx", "node.log.1", "audit.log.1.bak"}) {
    EXPECT_FALSE(IsSegmentName("audit.log", name)) << name;
  }
}

}  // namespace
}  // namespace ailee::audit
