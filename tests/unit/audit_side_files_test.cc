// Whoever may write the audit log's directory (the node's user) must not be
// able to make an appender (an operator's `sudo ailee-cli`) follow a symlink,
// chown a hard-linked file, or hang on a FIFO put where the log, its
// audit.log.lock or its audit.log.head belong.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_log.h"
#include "audit/continuation.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

constexpr uid_t kNobodyUid = 65534;
// Without the fix a FIFO hangs the appender: SIGALRM ends the test instead.
constexpr unsigned kHangSeconds = 20;

AuditEvent SideFileEvent(const std::string& operation) {
  AuditEvent e;
  e.operation = operation;
  return e;
}

class AuditSideFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-audit-side-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_dir_ = dir_ + "/log";
    path_ = log_dir_ + "/audit.log";
    victim_ = dir_ + "/victim";
    ASSERT_EQ(::mkdir(log_dir_.c_str(), 0750), 0);
    ASSERT_TRUE(fs::WriteFileAtomic(victim_, "not the audit log's\n").ok());
    ::alarm(kHangSeconds);
  }
  void TearDown() override {
    ::alarm(0);
    (void)fs::RemoveAll(dir_);
  }
  Status AppendOnce(const std::string& op) {
    auto log = AuditLog::Open(path_);
    if (!log.ok()) return log.status();
    return (*log)->Append(SideFileEvent(op)).status();
  }
  std::string dir_, log_dir_, path_, victim_;
};

TEST_F(AuditSideFilesTest, ALockFileSymlinkIsNotFollowed) {
  ASSERT_TRUE(AppendOnce("first").ok());
  ASSERT_EQ(::unlink(LockFilePath(path_).c_str()), 0);
  ASSERT_EQ(::symlink(victim_.c_str(), LockFilePath(path_).c_str()), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(path_.c_str(), kNobodyUid, kNobodyUid), 0);  // the log is nobody's
  }
  Status st = AppendOnce("second");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("symbolic link"), std::string::npos) << st.ToString();
  struct stat vs {};
  ASSERT_EQ(::stat(victim_.c_str(), &vs), 0);
  EXPECT_EQ(vs.st_uid, ::geteuid()) << "root gave the symlink's target to the log's owner";
}

TEST_F(AuditSideFilesTest, ADanglingLogSymlinkCreatesNothing) {
  const std::string target = dir_ + "/created-through-link";
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_FALSE(AppendOnce("first").ok());
  EXPECT_FALSE(fs::Exists(target));
}

TEST_F(AuditSideFilesTest, AHardLinkedLockFileKeepsItsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (root appending to nobody's log)";
  ASSERT_TRUE(AppendOnce("first").ok());
  ASSERT_EQ(::unlink(LockFilePath(path_).c_str()), 0);
  ASSERT_EQ(::link(victim_.c_str(), LockFilePath(path_).c_str()), 0);
  ASSERT_EQ(::chown(path_.c_str(), kNobodyUid, kNobodyUid), 0);
  EXPECT_FALSE(AppendOnce("second").ok());
  struct stat vs {};
  ASSERT_EQ(::stat(victim_.c_str(), &vs), 0);
  EXPECT_EQ(vs.st_uid, 0u);
}

TEST_F(AuditSideFilesTest, AFifoLockFileFailsInsteadOfHanging) {
  ASSERT_TRUE(AppendOnce("first").ok());
  ASSERT_EQ(::unlink(LockFilePath(path_).c_str()), 0);
  ASSERT_EQ(::mkfifo(LockFilePath(path_).c_str(), 0640), 0);
  Status st = AppendOnce("second");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("not a regular file"), std::string::npos) << st.ToString();
}

TEST_F(AuditSideFilesTest, AFifoHeadFileAfterRotationFailsInsteadOfHanging) {
  ASSERT_TRUE(AppendOnce("first").ok());
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);  // logrotate's rename + create
  ASSERT_TRUE(fs::WriteFileAtomic(path_, "").ok());
  ASSERT_EQ(::unlink(HeadFilePath(path_).c_str()), 0);
  ASSERT_EQ(::mkfifo(HeadFilePath(path_).c_str(), 0640), 0);
  Status st = AppendOnce("second");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("not a regular file"), std::string::npos) << st.ToString();
}

TEST_F(AuditSideFilesTest, AFifoLogFailsInsteadOfHanging) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0640), 0);
  EXPECT_FALSE(AppendOnce("first").ok());
}

}  // namespace
}  // namespace ailee::audit
