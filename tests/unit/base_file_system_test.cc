// The filesystem seam: the POSIX implementation behind fs::WriteFileAtomic,
// and FaultInjectionFileSystem's power loss, failed calls and full disk.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/fault_injection_file_system.h"
#include "base/file_system.h"
#include "base/fs.h"

namespace ailee::fs {
namespace {

using Op = FaultInjectionFileSystem::Op;

class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-fsys-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }
  std::string Content(const std::string& name) const {
    auto r = ReadFile(Path(name));
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }
  // Creates `name` with `data`, synced, optionally with its entry synced.
  void Write(FileSystem& files, const std::string& name, const std::string& data, bool sync_dir) {
    auto f = files.NewWritableFile(Path(name), 0644, false);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
    if (sync_dir) {
      ASSERT_TRUE(files.SyncDir(dir_).ok());
    }
  }

  std::string dir_;
  FaultInjectionFileSystem faulty_;
};

TEST_F(FileSystemTest, DefaultIsPosixAndCanBeReplacedForATest) {
  FileSystem* posix = FileSystem::Default();
  EXPECT_EQ(FileSystem::SetDefault(&faulty_), posix);
  EXPECT_EQ(FileSystem::Default(), &faulty_);
  ASSERT_TRUE(WriteFileAtomic(Path("a"), "x").ok());
  EXPECT_GT(faulty_.calls(), 0u);  // the helpers of base/fs.h went through it
  EXPECT_EQ(FileSystem::SetDefault(nullptr), &faulty_);
  EXPECT_EQ(FileSystem::Default(), posix);
}

TEST_F(FileSystemTest, PosixWritableFileAppendsSyncsAndSetsAttributes) {
  PosixFileSystem posix;
  auto f = posix.NewWritableFile(Path("f"), 0600, true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  EXPECT_EQ((*f)->size(), 11u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->SetAttributes({.mode = 0640, .uid = {}, .gid = 0, .mtime_ns = 1700000000123456789}).ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Content("f"), "hello world");
  struct stat sb {};
  ASSERT_EQ(::stat(Path("f").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0640u);
  EXPECT_EQ(sb.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(sb.st_mtim.tv_nsec, 123456789);
  // Exclusive creation refuses an existing file.
  EXPECT_EQ(posix.NewWritableFile(Path("f"), 0600, true).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(posix.Link(Path("f"), Path("f")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(posix.Unlink(Path("missing")).code(), StatusCode::kNotFound);
  EXPECT_EQ(posix.Mkdir(Path("f"), 0755, true).code(), StatusCode::kNotFound);  // ENOTDIR: not a directory
}

TEST_F(FileSystemTest, PowerLossDropsDataWrittenAfterTheLastSync) {
  auto f = faulty_.NewWritableFile(Path("log"), 0644, true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("synced|").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(faulty_.SyncDir(dir_).ok());
  ASSERT_TRUE((*f)->Append("not synced").ok());
  EXPECT_EQ(Content("log"), "synced|not synced");
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("log"), "synced|");
}

TEST_F(FileSystemTest, PowerLossUndoesEntryChangesWhoseDirectoryWasNotSynced) {
  Write(faulty_, "kept", "old", true);
  Write(faulty_, "gone", "data", true);
  faulty_.MarkAllDurable();
  ASSERT_TRUE(faulty_.Mkdir(Path("sub"), 0755, false).ok());
  Write(faulty_, "new", "fresh", false);                     // created, dir not synced
  ASSERT_TRUE(faulty_.Unlink(Path("gone")).ok());            // unlinked, not synced
  Write(faulty_, "tmp", "replacement", false);
  ASSERT_TRUE(faulty_.Rename(Path("tmp"), Path("kept")).ok());  // replaced, not synced
  EXPECT_EQ(Content("kept"), "replacement");
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("kept"), "old");
  EXPECT_EQ(Content("gone"), "data");
  EXPECT_FALSE(Exists(Path("new")));
  EXPECT_FALSE(Exists(Path("tmp")));
  EXPECT_FALSE(Exists(Path("sub")));
}

TEST_F(FileSystemTest, SyncingTheDirectoryMakesEntryChangesDurable) {
  Write(faulty_, "kept", "old", true);
  Write(faulty_, "tmp", "new", false);
  ASSERT_TRUE(faulty_.Rename(Path("tmp"), Path("kept")).ok());
  ASSERT_TRUE(faulty_.SyncDir(dir_).ok());
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("kept"), "new");
  EXPECT_FALSE(Exists(Path("tmp")));
}

// The harness must catch the classic ordering bug: renaming a file into
// place before its data is synced leaves an empty file after a power loss.
TEST_F(FileSystemTest, ARenameBeforeTheDataSyncLosesTheDataAfterAPowerLoss) {
  auto f = faulty_.NewWritableFile(Path("tmp"), 0644, true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("important").ok());
  ASSERT_TRUE((*f)->Close().ok());  // no Sync: the bug
  ASSERT_TRUE(faulty_.Rename(Path("tmp"), Path("final")).ok());
  ASSERT_TRUE(faulty_.SyncDir(dir_).ok());
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("final"), "");
}

TEST_F(FileSystemTest, ChangesInsideARenamedDirectoryFollowIt) {
  ASSERT_TRUE(faulty_.Mkdir(Path("staging"), 0755, false).ok());
  ASSERT_TRUE(faulty_.SyncDir(dir_).ok());
  Write(faulty_, "staging/synced", "s", false);
  ASSERT_TRUE(faulty_.SyncDir(Path("staging")).ok());
  Write(faulty_, "staging/unsynced", "u", false);
  ASSERT_TRUE(faulty_.Rename(Path("staging"), Path("target")).ok());
  ASSERT_TRUE(faulty_.SyncDir(dir_).ok());
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("target/synced"), "s");
  EXPECT_FALSE(Exists(Path("target/unsynced")));
  EXPECT_FALSE(Exists(Path("staging")));
}

TEST_F(FileSystemTest, AnUnsyncedExchangeAndRemovalAreUndone) {
  ASSERT_TRUE(MakeDirs(Path("a")).ok());
  ASSERT_TRUE(MakeDirs(Path("b")).ok());
  Write(faulty_, "a/f", "A", false);
  Write(faulty_, "b/f", "B", false);
  faulty_.MarkAllDurable();
  auto exchanged = faulty_.RenameExchange(Path("a"), Path("b"));
  ASSERT_TRUE(exchanged.ok() && *exchanged) << exchanged.status().ToString();
  EXPECT_EQ(Content("a/f"), "B");
  ASSERT_TRUE(faulty_.RemoveAll(Path("b")).ok());
  EXPECT_FALSE(Exists(Path("b")));
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_EQ(Content("a/f"), "A");
  EXPECT_EQ(Content("b/f"), "B");
}

// Every point of fs::WriteFileAtomic: after a power loss the file holds
// the old content or the new one, and no temporary is visible as the file.
TEST_F(FileSystemTest, WriteFileAtomicSurvivesAPowerLossAfterEveryCall) {
  ASSERT_TRUE(WriteFileAtomic(Path("config"), "old content", 0644, &faulty_).ok());
  faulty_.MarkAllDurable();
  const uint64_t before = faulty_.calls();
  ASSERT_TRUE(WriteFileAtomic(Path("config"), "new content", 0644, &faulty_).ok());
  const uint64_t total = faulty_.calls() - before;
  ASSERT_GE(total, 5u);  // create, append, sync, attributes, close, rename, sync dir
  ASSERT_TRUE(WriteFileAtomic(Path("config"), "old content", 0644, &faulty_).ok());
  faulty_.MarkAllDurable();
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after call " + std::to_string(k));
    faulty_.CutPowerAfter(k);
    Status st = WriteFileAtomic(Path("config"), "new content", 0644, &faulty_);
    EXPECT_EQ(st.ok(), k == total) << st.ToString();
    ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
    const std::string got = Content("config");
    EXPECT_TRUE(got == "old content" || (k == total && got == "new content")) << got;
    ASSERT_TRUE(WriteFileAtomic(Path("config"), "old content", 0644, &faulty_).ok());
    (void)faulty_.SimulatePowerLoss();  // nothing to drop: all synced
    EXPECT_EQ(Content("config"), "old content");
    faulty_.MarkAllDurable();
  }
}

TEST_F(FileSystemTest, CallsAfterThePowerCutFailAndChangeNothing) {
  faulty_.CutPowerAfter(1);
  ASSERT_TRUE(faulty_.Mkdir(Path("d"), 0755, false).ok());
  EXPECT_TRUE(faulty_.power_is_out());
  Status st = faulty_.Mkdir(Path("e"), 0755, false);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();  // EIO
  EXPECT_FALSE(Exists(Path("e")));
  ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());
  EXPECT_FALSE(faulty_.power_is_out());
  EXPECT_FALSE(Exists(Path("d")));
  EXPECT_TRUE(faulty_.Mkdir(Path("e"), 0755, false).ok());
}

TEST_F(FileSystemTest, TheNthCallFailsWithTheChosenErrno) {
  faulty_.FailCall(2, EACCES);  // the append of WriteFileAtomic's temporary
  Status st = WriteFileAtomic(Path("f"), "data", 0644, &faulty_);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("injected"), std::string::npos);
  EXPECT_FALSE(Exists(Path("f")));
  auto names = ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty()) << "the temporary was removed";
  EXPECT_TRUE(WriteFileAtomic(Path("f"), "data", 0644, &faulty_).ok());  // once only
}

TEST_F(FileSystemTest, EveryCallOfAnOperationFails) {
  faulty_.FailOp(Op::kSyncDir, EIO);
  EXPECT_FALSE(WriteFileAtomic(Path("f"), "a", 0644, &faulty_).ok());
  EXPECT_FALSE(WriteFileAtomic(Path("f"), "b", 0644, &faulty_).ok());
  faulty_.FailOp(Op::kSyncDir, 0);
  EXPECT_TRUE(WriteFileAtomic(Path("f"), "c", 0644, &faulty_).ok());
}

TEST_F(FileSystemTest, AFullDiskWritesWhatFitsThenFailsWithNoSpace) {
  faulty_.SetSpaceLimit(10);
  auto f = faulty_.NewWritableFile(Path("big"), 0644, true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("123456").ok());
  Status st = (*f)->Append("789abc");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(Content("big"), "123456789a");
  EXPECT_EQ(WriteFileAtomic(Path("other"), "x", 0644, &faulty_).code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(Exists(Path("other")));
  faulty_.ClearFaults();
  EXPECT_TRUE(WriteFileAtomic(Path("other"), "x", 0644, &faulty_).ok());
}

}  // namespace
}  // namespace ailee::fs
