// ailee-cli keys, the failures an outside review found, run end to end with
// the real binary, the real gpg and the real audit log:
//  - a passphrase file the tool reads differently from `gpg --passphrase-file`
//    (CR LF) must not produce a backup the stock-gpg recovery cannot open;
//  - `--passphrase-file <(pass show ...)` (a pipe) works;
//  - "already present" at a restore target also means safe (mode, owner,
//    a regular file and not a symlink);
//  - a URL where a directory belongs is refused, never a local "s3:" dir;
//  - key operations record their real duration in the audit log.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::ProcResult;
using keytest::RunTool;
using keytest::TempDir;

using keytest::CliPath;

class KeysCliSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KEYTEST_REQUIRE_CLI();
    ::mkdir((root / "tmp").c_str(), 0700);
    ::mkdir((root / "cwd").c_str(), 0700);
    key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    key_path = keytest::WriteKeyFile(root.path(), "signer-01.key", key);
    pub_path = keytest::WritePublicKey(root.path(), "signer-01.pub", key.public_key());
  }
  // ailee-cli run from root/cwd (so a relative "s3:" would land there).
  ProcResult Cli(std::vector<std::string> args, std::vector<std::string> env = {}, const std::string& input = "") {
    std::vector<std::string> argv = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", root / "cwd", CliPath()};
    for (auto& a : args) argv.push_back(a);
    for (auto& c : Common()) argv.push_back(c);
    env.push_back("TMPDIR=" + (root / "tmp"));
    return RunTool(argv, input, env);
  }
  // ailee-cli without the key options (repository commands).
  ProcResult Raw(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), CliPath());
    return RunTool(args, input, {"TMPDIR=" + (root / "tmp")});
  }
  std::vector<std::string> Common() {
    return {"--federation-key", "signer-01=" + pub_path, "--audit-log", root / "audit.log"};
  }
  // Stock gpg in a private home, as docs/keys.md "Recovery without this tool" runs it.
  ProcResult StockGpgDecrypt(const std::string& passphrase_file, const std::string& backup) {
    TempDir home;
    ::chmod(home.path().c_str(), 0700);
    auto r = RunTool({"gpg", "--homedir", home.path(), "--batch", "--quiet", "--pinentry-mode", "loopback",
                      "--passphrase-file", passphrase_file, "--decrypt", backup});
    RunTool({"gpgconf", "--homedir", home.path(), "--kill", "gpg-agent"});
    return r;
  }
  std::vector<nlohmann::json> AuditRecords(const std::string& operation) {
    std::vector<nlohmann::json> out;
    std::istringstream in(*fs::ReadFile(root / "audit.log"));
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j["operation"] == operation) out.push_back(j);
    }
    return out;
  }
  TempDir root;
  crypto::PrivateKey key;
  std::string key_path, pub_path;
};

// ------------------------------------------------------------ passphrase files

TEST_F(KeysCliSafetyTest, CrLfPassphraseFileIsRefusedAtBackupAndWritesNothing) {
  std::string pf = root / "pass.txt";
  ASSERT_TRUE(fs::WriteFileAtomic(pf, "emergency passphrase\r\n", 0600).ok());
  auto b = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "out", "--passphrase-file", pf});
  EXPECT_EQ(b.exit_code, 2) << b.out << b.err;
  EXPECT_NE(b.err.find(pf), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("CR"), std::string::npos) << b.err;
  EXPECT_FALSE(fs::Exists(root / "out")) << "a backup was written with a passphrase stock gpg reads differently";
}

TEST_F(KeysCliSafetyTest, EveryBackupMadeFromAPassphraseFileOpensWithStockGpgAndTheSameFile) {
  if (!keytest::HaveTool("gpg")) GTEST_SKIP() << "gpg absent";
  const std::string original = *fs::ReadFile(key_path);
  const std::vector<std::string> contents = {"plain line\n", "no newline", "  spaces kept  \n", "tab\there\n",
                                             "crlf line\r\n", "bare cr\r", "two\nlines\n"};
  int n = 0;
  for (const auto& content : contents) {
    std::string pf = root / ("pass" + std::to_string(n));
    std::string out = root / ("out" + std::to_string(n++));
    ASSERT_TRUE(fs::WriteFileAtomic(pf, content, 0600).ok());
    auto b = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", out, "--passphrase-file", pf});
    if (b.exit_code != 0) {
      // Refused: with a usage error naming the file, before writing anything.
      EXPECT_EQ(b.exit_code, 2) << b.err;
      EXPECT_NE(b.err.find(pf), std::string::npos) << b.err;
      EXPECT_FALSE(fs::Exists(out));
      continue;
    }
    auto dec = StockGpgDecrypt(pf, out + "/signer-01.key.gpg");
    EXPECT_EQ(dec.exit_code, 0) << "stock gpg cannot open a backup made from passphrase file content of "
                                << content.size() << " bytes: " << dec.err;
    EXPECT_EQ(dec.out, original);
    // And the tool itself opens it with the same file.
    auto v = Cli({"keys", "verify", "--id", "signer-01", out, "--passphrase-file", pf});
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }
}

TEST_F(KeysCliSafetyTest, PassphraseFromProcessSubstitutionAndStdinPipe) {
  if (!keytest::HaveTool("bash")) GTEST_SKIP() << "bash absent";
  // The secret travels in the environment to bash's printf builtin and
  // reaches ailee-cli through a pipe: never a command line, never a file.
  // Printed like a `pass show` entry: the password, then metadata lines.
  const std::string secret = "TEST_SECRET=piped passphrase 42";
  auto via_bash = [&](const std::string& sub_args) {
    return RunTool({"bash", "-c",
                    "cd \"$ROOT/cwd\" && exec \"$CLI\" " + sub_args +
                        " --passphrase-file <(printf '%s\\nlogin: ops\\n' \"$TEST_SECRET\") "
                        "--federation-key signer-01=\"$ROOT/signer-01.pub\" --audit-log \"$ROOT/audit.log\""},
                   "", {secret, "ROOT=" + root.path(), "CLI=" + CliPath(), "TMPDIR=" + (root / "tmp")});
  };
  auto b = via_bash("keys backup --id signer-01 --key \"$ROOT/signer-01.key\" --out \"$ROOT/out\"");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  auto v = via_bash("keys verify --id signer-01 \"$ROOT/out\"");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto r = via_bash("keys restore --id signer-01 --from \"$ROOT/out\" --to-file \"$ROOT/restored.key\"");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(*fs::ReadFile(root / "restored.key"), *fs::ReadFile(key_path));
  // /dev/stdin fed by a pipe.
  auto s = Cli({"keys", "verify", "--id", "signer-01", root / "out", "--passphrase-file", "/dev/stdin"}, {},
               "piped passphrase 42\n");
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  auto wrong = Cli({"keys", "verify", "--id", "signer-01", root / "out", "--passphrase-file", "/dev/stdin"}, {},
                   "not it\n");
  EXPECT_EQ(wrong.exit_code, 5) << wrong.err;
}

TEST_F(KeysCliSafetyTest, RepositoryPassphraseFilesFollowTheSameRuleAndKeyFilesStillOpen) {
  const std::string repo = "file://" + (root / "repo");
  const std::vector<std::string> cheap = {"--kdf-memory-mib", "8", "--kdf-iterations", "1"};
  std::string crlf = root / "repo-crlf.pass", lf = root / "repo.pass";
  ASSERT_TRUE(fs::WriteFileAtomic(crlf, "repository passphrase\r\n", 0600).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(lf, "repository passphrase\n", 0600).ok());
  std::vector<std::string> init = {"repo", "init", "--repo", repo, "--passphrase-file", crlf};
  init.insert(init.end(), cheap.begin(), cheap.end());
  auto refused = Raw(init);
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(crlf), std::string::npos) << refused.err;
  init[5] = lf;
  auto ok = Raw(init);
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // A key-file slot: the key file as written (one line, LF), without its LF,
  // and the passphrase through a pipe all open the repository.
  std::string key_file = root / "repo.key";
  auto add = Raw({"repo", "key", "add", "--repo", repo, "--passphrase-file", lf, "--key-file", key_file});
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  auto by_key = Raw({"repo", "key", "list", "--repo", repo, "--passphrase-file", key_file});
  EXPECT_EQ(by_key.exit_code, 0) << by_key.out << by_key.err;
  std::string written = *fs::ReadFile(key_file);
  ASSERT_EQ(written.back(), '\n');
  ASSERT_TRUE(fs::WriteFileAtomic(key_file, written.substr(0, written.size() - 1), 0600).ok());
  auto by_key_no_lf = Raw({"repo", "key", "list", "--repo", repo, "--passphrase-file", key_file});
  EXPECT_EQ(by_key_no_lf.exit_code, 0) << by_key_no_lf.out << by_key_no_lf.err;
  auto by_pipe = Raw({"repo", "key", "list", "--repo", repo, "--passphrase-file", "/dev/stdin"}, "repository passphrase\n");
  EXPECT_EQ(by_pipe.exit_code, 0) << by_pipe.out << by_pipe.err;
}

// ------------------------------------------------------------ restore targets

class KeysCliRestoreTargetTest : public KeysCliSafetyTest {
 protected:
  void SetUp() override {
    KeysCliSafetyTest::SetUp();
    if (IsSkipped()) return;
    auto b = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "b"}, {pass});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    ::mkdir((root / "etc").c_str(), 0755);
    target = root / "etc/signer-01.key";
  }
  ProcResult Restore(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"--json", "keys", "restore", "--id", "signer-01", "--from", root / "b", "--to-file", target};
    for (auto& e : extra) a.push_back(e);
    return Cli(a, {pass});
  }
  const std::string pass = "AILEE_KEY_PASSPHRASE=restore target passphrase";
  std::string target;
};

TEST_F(KeysCliRestoreTargetTest, AlreadyPresentKeyWithMode0644IsMadeSafeNotJustReported) {
  ASSERT_TRUE(fs::WriteFileAtomic(target, *fs::ReadFile(key_path), 0644).ok());
  ::chmod(target.c_str(), 0644);
  auto r = Restore();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j["outcome"].get<std::string>().find("already present"), std::string::npos) << r.out;
  EXPECT_NE(j["outcome"].get<std::string>().find("0644"), std::string::npos) << r.out;
  struct stat sb {};
  ASSERT_EQ(::lstat(target.c_str(), &sb), 0);
  // What validate-config demands (no access for others), and no group write.
  EXPECT_EQ(sb.st_mode & 0027, 0u) << std::oct << (sb.st_mode & 07777);
  EXPECT_EQ(*fs::ReadFile(target), *fs::ReadFile(key_path));
  auto rec = AuditRecords("key.restore");
  ASSERT_FALSE(rec.empty());
  EXPECT_NE(rec.back()["args"]["outcome"].get<std::string>().find("0644"), std::string::npos) << rec.back().dump();
  // Rerun: nothing left to fix.
  auto again = Restore();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["outcome"], "already present");
}

TEST_F(KeysCliRestoreTargetTest, AlreadyPresentKeyOwnedBySomeoneElseIsRefusedOrChownedOnRequest) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the target to another user";
  ASSERT_TRUE(fs::WriteFileAtomic(target, *fs::ReadFile(key_path), 0400).ok());
  ASSERT_EQ(::chown(target.c_str(), 1234, 1234), 0);
  auto refused = Restore();
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("uid 1234"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--owner"), std::string::npos) << refused.err;
  struct stat sb {};
  ASSERT_EQ(::stat(target.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_uid, 1234u);  // refused means untouched
  // Confirming that owner is fine; naming another makes it so.
  auto same = Restore({"--owner", "1234:1234"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  auto fixed = Restore({"--owner", "0:0"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_NE(nlohmann::json::parse(fixed.out)["outcome"].get<std::string>().find("owner"), std::string::npos) << fixed.out;
  ASSERT_EQ(::stat(target.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_uid, 0u);
  EXPECT_EQ(sb.st_gid, 0u);
}

TEST_F(KeysCliRestoreTargetTest, SymlinkToTheSameKeyAtTheTargetIsRefusedAndLeftAlone) {
  // An attacker (or an old setup) points the target at a copy elsewhere:
  // "already present" would leave the node reading a file we never checked.
  std::string elsewhere = root / "elsewhere.key";
  ASSERT_TRUE(fs::WriteFileAtomic(elsewhere, *fs::ReadFile(key_path), 0644).ok());
  ASSERT_EQ(::symlink(elsewhere.c_str(), target.c_str()), 0);
  auto r = Restore();
  EXPECT_EQ(r.exit_code, 7) << r.out << r.err;
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  struct stat sb {};
  ASSERT_EQ(::lstat(target.c_str(), &sb), 0);
  EXPECT_TRUE(S_ISLNK(sb.st_mode));
  ASSERT_EQ(::stat(elsewhere.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0644u);
}

TEST_F(KeysCliRestoreTargetTest, FifoAtTheTargetIsRefusedWithoutHanging) {
  ASSERT_EQ(::mkfifo(target.c_str(), 0600), 0);
  auto r = Restore();
  EXPECT_EQ(r.exit_code, 7) << r.out << r.err;
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  struct stat sb {};
  ASSERT_EQ(::lstat(target.c_str(), &sb), 0);
  EXPECT_TRUE(S_ISFIFO(sb.st_mode));
}

// ------------------------------------------------------------ URLs

TEST_F(KeysCliSafetyTest, BackupToAnS3UrlIsRefusedAndCreatesNoS3Directory) {
  const std::string pass = "AILEE_KEY_PASSPHRASE=url test passphrase";
  auto b = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", "s3://bucket/prefix"}, {pass});
  EXPECT_EQ(b.exit_code, 2) << b.out << b.err;
  EXPECT_NE(b.err.find("s3://bucket/prefix"), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("local directory"), std::string::npos) << b.err;
  EXPECT_FALSE(fs::Exists(root / "cwd/s3:"));
  EXPECT_TRUE(fs::ListDir(root / "cwd")->empty());

  // A URL among local directories: refused before the local copy is written.
  auto mixed = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "local", "--out",
                    "file:///tmp/x"}, {pass});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
  EXPECT_FALSE(fs::Exists(root / "local"));
  auto shares = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "local", "--shares",
                     "2/3", "--shares-out", "s3://bucket/shares"});
  EXPECT_EQ(shares.exit_code, 2) << shares.err;
  EXPECT_FALSE(fs::Exists(root / "local"));
  EXPECT_TRUE(fs::ListDir(root / "cwd")->empty());
}

TEST_F(KeysCliSafetyTest, VerifyAndRestoreFromAUrlAreRefusedNotReportedMissing) {
  const std::string pass = "AILEE_KEY_PASSPHRASE=url test passphrase";
  ASSERT_EQ(Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "b"}, {pass}).exit_code, 0);
  auto v = Cli({"keys", "verify", "--id", "signer-01", root / "b", "s3://bucket/prefix"}, {pass});
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_NE(v.err.find("s3://bucket/prefix"), std::string::npos) << v.err;
  auto r = Cli({"keys", "restore", "--id", "signer-01", "--from", "s3://bucket/prefix", "--to-file", root / "k.key"},
               {pass});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(fs::Exists(root / "k.key"));
  // A local directory that happens to contain a colon stays usable as ./name.
  auto local = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", "./s3:/bucket"}, {pass});
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(fs::Exists(root / "cwd/s3:/bucket/signer-01.key.gpg"));
}

// ------------------------------------------------------------ audit

TEST_F(KeysCliSafetyTest, KeyOperationsRecordTheirRealDurationInTheAuditLog) {
  const std::string pass = "AILEE_KEY_PASSPHRASE=duration test passphrase";
  auto t0 = std::chrono::steady_clock::now();
  auto b = Cli({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "d1", "--out", root / "d2"},
               {pass});
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto backups = AuditRecords("key.backup");
  ASSERT_EQ(backups.size(), 1u);
  ASSERT_TRUE(backups[0].contains("duration_ms"));
  int64_t d = backups[0]["duration_ms"].get<int64_t>();
  // The backup ran gpg (encrypt, then decrypt each copy): it took time, and
  // no more than the whole process as seen from outside.
  EXPECT_GT(d, 0);
  EXPECT_LE(d, elapsed_ms);

  ASSERT_EQ(Cli({"keys", "verify", "--id", "signer-01", root / "d1", root / "d2"}, {pass}).exit_code, 0);
  ASSERT_EQ(Cli({"keys", "restore", "--id", "signer-01", "--from", root / "d1", "--to-file", root / "r.key"}, {pass}).exit_code, 0);
  ASSERT_EQ(Cli({"test-signer", "--id", "signer-01", "--key", root / "r.key"}).exit_code, 0);
  for (const char* op : {"key.verify", "key.restore", "key.test-signer"}) {
    auto recs = AuditRecords(op);
    ASSERT_EQ(recs.size(), 1u) << op;
    EXPECT_GE(recs[0]["duration_ms"].get<int64_t>(), op == std::string("key.test-signer") ? 0 : 1) << op;
  }
  // A failed operation is timed too (wrong passphrase: gpg ran).
  EXPECT_EQ(Cli({"keys", "verify", "--id", "signer-01", root / "d1"}, {"AILEE_KEY_PASSPHRASE=wrong"}).exit_code, 5);
  auto verifies = AuditRecords("key.verify");
  ASSERT_EQ(verifies.size(), 2u);
  EXPECT_EQ(verifies[1]["result"], "permission_denied");
  EXPECT_GT(verifies[1]["duration_ms"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace ailee::keys
