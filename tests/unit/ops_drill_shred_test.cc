// Scratch directories of the key and config drills: every file below is
// overwritten before it goes, a symlink is removed without touching what it
// points at, and only a gone owner's scratch is removed by the next drill.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "base/scratch.h"
#include "ops/drill/shred.h"

namespace ailee::ops {
namespace {

namespace stdfs = std::filesystem;

std::string TempDir() {
  std::string t = (stdfs::temp_directory_path() / "ailee-shred-XXXXXX").string();
  return mkdtemp(t.data());
}

void Write(const std::string& path, const std::string& data, unsigned mode = 0400) {
  std::ofstream(path) << data;
  chmod(path.c_str(), mode);
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ShredTest, ATreeGoesWithItsFilesOverwrittenAndASymlinksTargetUntouched) {
  const std::string root = TempDir();
  const std::string outside = root + "/outside.key";
  Write(outside, "not the drill's", 0600);
  const std::string scratch = root + "/scratch";
  stdfs::create_directories(scratch + "/etc/ailee");
  Write(scratch + "/signer.key", "-----BEGIN PRIVATE KEY-----");
  Write(scratch + "/etc/ailee/secret", "s3cret");
  stdfs::create_symlink(outside, scratch + "/link");
  // The bytes of an open hard link show the overwrite happened before the unlink.
  const std::string witness = root + "/witness";
  ASSERT_EQ(link((scratch + "/signer.key").c_str(), witness.c_str()), 0);
  ASSERT_TRUE(ShredTree(scratch).ok());
  EXPECT_FALSE(stdfs::exists(scratch));
  EXPECT_EQ(Read(witness), std::string(27, '\0'));
  EXPECT_EQ(Read(outside), "not the drill's");
  EXPECT_TRUE(ShredTree(scratch).ok()) << "a missing directory is fine";
  stdfs::remove_all(root);
}

TEST(ShredTest, OnlyAGoneOwnersScratchIsShredded) {
  const std::string root = TempDir();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string tag = fs::OwnerTag();
    (void)!write(fds[1], tag.data(), tag.size());
    _exit(0);
  }
  close(fds[1]);
  char buf[64] = {};
  const ssize_t got = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  waitpid(child, nullptr, 0);
  ASSERT_GT(got, 0);
  const std::string gone = root + "/p-" + std::string(buf, static_cast<size_t>(got)) + "-x";
  const std::string live = root + "/p-" + fs::OwnerTag() + "-y";
  const std::string other = root + "/q-" + std::string(buf, static_cast<size_t>(got)) + "-z";
  for (const auto& d : {gone, live, other}) stdfs::create_directories(d);
  Write(gone + "/k", "key");
  ShredAbandoned(root, "p-");
  EXPECT_FALSE(stdfs::exists(gone));
  EXPECT_TRUE(stdfs::exists(live));
  EXPECT_TRUE(stdfs::exists(other)) << "another prefix is not this drill's";
  stdfs::remove_all(root);
}

}  // namespace
}  // namespace ailee::ops
