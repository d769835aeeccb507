// Helpers for the keys tests: temp dirs, running the real tools (gpg,
// gfcombine, softhsm2-util, openssl, ailee-cli) with stdin fed from a pipe,
// and a private SoftHSM2 token directory.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/fs.h"
#include "crypto/asymmetric.h"

extern char** environ;

namespace ailee::keys::keytest {

class TempDir {
 public:
  TempDir() {
    std::string t = "/tmp/ailee-keys-test-XXXXXX";
    path_ = ::mkdtemp(t.data()) ? t : "";
  }
  ~TempDir() { (void)fs::RemoveAll(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return fs::JoinPath(path_, name); }

 private:
  std::string path_;
};

struct ProcResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string DrainFd(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

// Runs argv[0] (looked up in PATH) with `input` on stdin; extra env "K=V" entries are added.
inline ProcResult RunTool(const std::vector<std::string>& argv, const std::string& input = "",
                      const std::vector<std::string>& extra_env = {}) {
  int in[2], out[2], err[2];
  if (::pipe(in) || ::pipe(out) || ::pipe(err)) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&fa, fd);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& kv : extra_env) env_store.push_back(kv);
  std::vector<char*> envp, args;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ProcResult r;
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    r.err = "spawn failed";
    return r;
  }
  // Inputs are small (a passphrase): write then close before draining.
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  r.out = DrainFd(out[0]);
  r.err = DrainFd(err[0]);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline bool HaveTool(const std::string& name) {
  return RunTool({"sh", "-c", "command -v " + name}).exit_code == 0;
}

inline std::string WriteKeyFile(const std::string& dir, const std::string& name, const crypto::PrivateKey& key) {
  std::string path = fs::JoinPath(dir, name);
  auto pem = key.ToPem();
  if (!pem.ok() || !fs::WriteFileAtomic(path, pem->view(), 0600).ok()) return "";
  return path;
}

inline std::string WritePublicKey(const std::string& dir, const std::string& name, const crypto::PublicKey& key) {
  std::string path = fs::JoinPath(dir, name);
  (void)fs::WriteFileAtomic(path, key.Pem());
  return path;
}

// Every regular file below `root` (recursively), skipping unreadable ones.
inline std::vector<std::string> FilesBelow(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.push_back(it->path().string());
  }
  return out;
}

#ifdef AILEE_BINARY_DIR
// The ailee-cli the tests drive: AILEE_TEST_CLI when set, else this build's.
// scripts/test.sh's sanitizer build builds no CLI (an ASan-built CLI run on
// SoftHSM reports the module's own leaks) and points AILEE_TEST_CLI at the
// Release build's, so these tests run under the sanitizers on their side.
inline std::string CliPath() {
  const char* chosen = std::getenv("AILEE_TEST_CLI");
  if (chosen != nullptr && *chosen != '\0') return chosen;
  return std::string(AILEE_BINARY_DIR) + "/src/cli/ailee-cli";
}
// For a test's SetUp: skips when this build has no ailee-cli, but fails when
// AILEE_TEST_CLI names one that is missing (CI must not skip them silently).
#define KEYTEST_REQUIRE_CLI()                                                                        \
  do {                                                                                               \
    const std::string cli_ = ::ailee::keys::keytest::CliPath();                                      \
    if (!::ailee::fs::Exists(cli_)) {                                                                \
      if (std::getenv("AILEE_TEST_CLI") != nullptr) FAIL() << "AILEE_TEST_CLI names no file: " << cli_; \
      GTEST_SKIP() << "ailee-cli not built (" << cli_ << ")";                                        \
    }                                                                                                \
  } while (0)
// Runs the built ailee-cli with `args` (stdin empty) and extra env "K=V" entries.
inline ProcResult RunCli(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), CliPath());
  return RunTool(args, "", env);
}

// Where the ailee-cli tests run it: a private root with tmp/ (its TMPDIR,
// where its gpg homes go), keys/, a passphrase file and an audit log.
class CliRoot {
 public:
  explicit CliRoot(const std::string& passphrase) {
    ::mkdir((root / "tmp").c_str(), 0700);
    ::mkdir((root / "keys").c_str(), 0700);
    pass_file = root / "pass";
    (void)fs::WriteFileAtomic(pass_file, passphrase + "\n", 0600);
  }
  // `args` after --audit-log, and the extra env with TMPDIR.
  std::vector<std::string> Args(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--audit-log", root / "audit.log"});
    return args;
  }
  std::vector<std::string> Env(std::vector<std::string> env) const {
    env.push_back("TMPDIR=" + (root / "tmp"));
    return env;
  }
  ProcResult Cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const {
    return RunCli(Args(args), Env(env));
  }
  std::string Audit() const {
    auto text = fs::ReadFile(root / "audit.log");
    return text.ok() ? *text : "";
  }

  TempDir root;
  std::string pass_file;
};
#endif

// Stock gpg decrypting `file` with the passphrase on stdin (never argv), in a
// private home whose agent is killed afterwards.
inline ProcResult GpgDecrypt(const std::string& file, const std::string& passphrase) {
  TempDir home;
  ::chmod(home.path().c_str(), 0700);
  auto dec = RunTool({"gpg", "--homedir", home.path(), "--batch", "--quiet", "--pinentry-mode", "loopback",
                      "--passphrase-fd", "0", "--decrypt", file},
                     passphrase + "\n");
  RunTool({"gpgconf", "--homedir", home.path(), "--kill", "gpg-agent"});
  return dec;
}

// A private SoftHSM2 token directory (SOFTHSM2_CONF is set for this process
// and its children) with one token labelled `label`, PIN 1234, SO PIN 5678.
class SoftHsm {
 public:
  static constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
  SoftHsm() {
    ::mkdir((dir_ / "tokens").c_str(), 0700);
    conf_ = dir_ / "softhsm2.conf";
    (void)fs::WriteFileAtomic(conf_, "directories.tokendir = " + (dir_ / "tokens") + "\nobjectstore.backend = file\nlog.level = ERROR\n");
    ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
  }
  static bool Available() { return fs::Exists(kModule) && HaveTool("softhsm2-util"); }
  ProcResult InitToken(const std::string& label) {
    return RunTool({"softhsm2-util", "--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678"});
  }
  std::string tokens_dir() const { return dir_ / "tokens"; }

 private:
  TempDir dir_;
  std::string conf_;
};

}  // namespace ailee::keys::keytest
