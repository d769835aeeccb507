// An operator's `sudo ailee-cli ...` appends to the audit log the node's user
// owns. The side files it may create (audit.log.lock, audit.log.head) must
// end up the log owner's too, or every later append by that user fails.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit_log.h"
#include "audit/continuation.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

constexpr uid_t kNobody = 65534;

AuditEvent Event(const std::string& operation) {
  AuditEvent e;
  e.operation = operation;
  return e;
}

TEST(AuditOwnerTest, RootAppendingLeavesTheSideFilesToTheLogsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (to be root appending to another user's log)";
  char tmpl[] = "/tmp/ailee-audit-owner-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/audit.log";
  ASSERT_EQ(::chown(dir.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  // The log's user made it first, as the node's jobs do.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  auto append_as_nobody = [&]() {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(10);
    auto log = AuditLog::Open(path);
    if (!log.ok()) ::_exit(11);
    ::_exit((*log)->Append(Event("test.nobody")).ok() ? 0 : 12);
  };
  if (child == 0) append_as_nobody();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  // Root appends; a fresh lock file (removed first: root creates it) and the
  // head file it rewrites must be left to nobody.
  ASSERT_EQ(::unlink(LockFilePath(path).c_str()), 0);
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(Event("test.root")).ok());
  }
  for (const std::string& f : {LockFilePath(path), HeadFilePath(path), path}) {
    struct stat st {};
    ASSERT_EQ(::lstat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, kNobody) << f;
    EXPECT_EQ(st.st_gid, kNobody) << f;
  }
  // And the log's user still appends.
  child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) append_as_nobody();
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "nobody's append after root's exited " << status;
  (void)fs::RemoveAll(dir);
}

}  // namespace
}  // namespace ailee::audit
