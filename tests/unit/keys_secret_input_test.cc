// Passphrase and PIN files (ReadSecret with SecretSource::file): what is taken
// from a file is exactly what `gpg --passphrase-file` takes from it (the first
// line), files gpg would read differently (a CR before the LF) are refused
// with a message saying how to fix them, and pipes (`<(pass show ...)`,
// /dev/stdin) are read once like a file. Stock gpg is the reference: every
// accepted file form is checked against the real gpg in keys_cli_secret_test.cc.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "base/fs.h"
#include "keys/secret_input.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::TempDir;

Result<crypto::SecureBytes> FromFile(const std::string& path) {
  SecretSource src;
  src.file = path;
  src.allow_tty = false;
  return ReadSecret(src);
}

TEST(SecretFileTest, CrLfPassphraseFileIsRefusedNotSilentlyStripped) {
  // gpg --passphrase-file keeps the CR; stripping it here made backups that
  // the documented stock-gpg recovery could not open ("Bad session key").
  TempDir tmp;
  std::string f = tmp / "pass.txt";
  ASSERT_TRUE(fs::WriteFileAtomic(f, "hunter2 correct horse\r\n", 0600).ok());
  auto r = FromFile(f);
  ASSERT_FALSE(r.ok()) << "a CRLF passphrase file was accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(f), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("CR"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("sed -i 's/\\r$//' " + f), std::string::npos) << r.status().message();
  // A lone CR at the end (no LF) is the same problem.
  ASSERT_TRUE(fs::WriteFileAtomic(f, "hunter2\r", 0600).ok());
  EXPECT_EQ(FromFile(f).status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretFileTest, OneLineWithOrWithoutLfIsTakenByteForByte) {
  TempDir tmp;
  std::string f = tmp / "pass.txt";
  for (const std::string& content : {std::string("  spaced passphrase \t\n"), std::string("no newline at all"),
                                     std::string("\xc3\xa9t\xc3\xa9 utf-8\n")}) {
    ASSERT_TRUE(fs::WriteFileAtomic(f, content, 0600).ok());
    auto r = FromFile(f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::string expected = content.back() == '\n' ? content.substr(0, content.size() - 1) : content;
    EXPECT_EQ(std::string(r->view()), expected);
  }
}

TEST(SecretFileTest, OnlyTheFirstLineCountsAsForGpgAndAnEmptyOneIsRefused) {
  TempDir tmp;
  std::string f = tmp / "pass.txt";
  // gpg takes the first line and ignores the rest (a `pass` entry's metadata).
  for (const std::string& content : {std::string("first\nlogin: ops\n"), std::string("first\n\n"),
                                     std::string("first\nsecond\r\n")}) {
    ASSERT_TRUE(fs::WriteFileAtomic(f, content, 0600).ok());
    auto r = FromFile(f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(std::string(r->view()), "first");
  }
  for (const std::string& content : {std::string("\n"), std::string(""), std::string("\nsecond\n"),
                                     std::string("nul\0byte\n", 9)}) {
    ASSERT_TRUE(fs::WriteFileAtomic(f, content, 0600).ok());
    auto r = FromFile(f);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << "content of " << content.size() << " bytes";
  }
}

TEST(SecretFileTest, RepositoryKeyFileIsReadUnchanged) {
  // `repo key add --key-file` writes the key without a newline; an editor may add one.
  TempDir tmp;
  std::string f = tmp / "repo.key";
  const std::string key = "ailee-repo-key-v1:" + std::string(64, 'a');
  for (const std::string& content : {key, key + "\n"}) {
    ASSERT_TRUE(fs::WriteFileAtomic(f, content, 0600).ok());
    auto r = FromFile(f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(std::string(r->view()), key);
  }
}

TEST(SecretFileTest, PassphraseFromAPipeIsReadOnce) {
  // What `--passphrase-file <(pass show x)` hands over: /dev/fd/N, a pipe.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::thread writer([fd = p[1]] {
    const std::string s = "from a pipe\n";
    (void)!::write(fd, s.data(), s.size());
    ::close(fd);
  });
  auto r = FromFile("/dev/fd/" + std::to_string(p[0]));
  writer.join();
  ::close(p[0]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::string(r->view()), "from a pipe");
}

TEST(SecretFileTest, PassphraseFromANamedFifoIsRead) {
  TempDir tmp;
  std::string fifo = tmp / "pass.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // blocks until the reader opens
    if (fd < 0) return;
    const std::string a = "slow ", b = "writer\n";
    (void)!::write(fd, a.data(), a.size());
    ::usleep(50 * 1000);  // a second write after a pause: the reader must wait for EOF
    (void)!::write(fd, b.data(), b.size());
    ::close(fd);
  });
  auto r = FromFile(fifo);
  writer.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::string(r->view()), "slow writer");
}

TEST(SecretFileTest, CrLfFromAPipeIsRefusedToo) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const std::string s = "piped\r\n";
  ASSERT_EQ(::write(p[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  ::close(p[1]);
  auto r = FromFile("/dev/fd/" + std::to_string(p[0]));
  ::close(p[0]);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretFileTest, DeviceDirectoryOrMissingFileIsRefusedClearly) {
  // /dev/zero where a passphrase file belongs: refused, never read forever.
  auto dev = FromFile("/dev/zero");
  EXPECT_EQ(dev.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dev.status().message().find("/dev/zero"), std::string::npos) << dev.status().message();
  EXPECT_NE(dev.status().message().find("pipe"), std::string::npos) << dev.status().message();
  TempDir tmp;
  EXPECT_EQ(FromFile(tmp.path()).status().code(), StatusCode::kInvalidArgument);
  auto missing = FromFile(tmp / "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(tmp / "nope"), std::string::npos);
}

TEST(SecretFileTest, OversizedPipeIsRefused) {
  ::signal(SIGPIPE, SIG_IGN);  // the writer outlives the reader
  // A pipe that never ends (or is far too long for a passphrase) is cut off at 1 MiB.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::thread writer([fd = p[1]] {
    std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 20; ++i)
      if (::write(fd, chunk.data(), chunk.size()) < 0) break;  // EPIPE once the reader gave up
    ::close(fd);
  });
  auto r = FromFile("/dev/fd/" + std::to_string(p[0]));
  ::close(p[0]);
  writer.join();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ailee::keys
