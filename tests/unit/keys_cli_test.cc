// ailee-cli keys/test-signer end to end, with the real gpg-compatible files,
// gfsplit-format shares, SoftHSM2 and the audit log; every bad input exits
// non-zero with a clear message and changes nothing; and no file anywhere
// under the working or temp dirs ends up holding the key.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/hex.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::ProcResult;
using keytest::RunTool;
using keytest::SoftHsm;
using keytest::TempDir;

using keytest::CliPath;

class KeysCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KEYTEST_REQUIRE_CLI();
    start_ = ::time(nullptr);
    ::mkdir((root / "tmp").c_str(), 0700);
    key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    key_path = keytest::WriteKeyFile(root.path(), "signer-01.key", key);
    pub_path = keytest::WritePublicKey(root.path(), "signer-01.pub", key.public_key());
  }
  ProcResult Cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), CliPath());
    env.push_back("TMPDIR=" + (root / "tmp"));
    return RunTool(args, "", env);
  }
  std::vector<std::string> Common() {
    return {"--federation-key", "signer-01=" + pub_path, "--audit-log", root / "audit.log"};
  }
  std::vector<std::string> With(std::vector<std::string> a) {
    for (auto& c : Common()) a.push_back(c);
    return a;
  }
  TempDir root;
  crypto::PrivateKey key;
  std::string key_path, pub_path;
  time_t start_ = 0;
};

TEST_F(KeysCliTest, BackupVerifyRestoreTestSignerAndNoPlaintextLeft) {
  // Config absent: --federation-key carries the federation.
  const std::string pass = "AILEE_KEY_PASSPHRASE=cli test passphrase";
  auto b = Cli(With({"--json", "keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "d1", "--out",
                     root / "d2", "--out", root / "d3"}),
               {pass});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  auto j = nlohmann::json::parse(b.out);
  EXPECT_EQ(j["fingerprint"], key.public_key().FingerprintHex());

  auto v = Cli(With({"--json", "keys", "verify", "--id", "signer-01", root / "d1", root / "d2", root / "d3"}), {pass});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  auto vj = nlohmann::json::parse(v.out);
  ASSERT_EQ(vj["copies"].size(), 3u);
  EXPECT_EQ(vj["copies"][0]["federation"], "match");
  EXPECT_GE(vj["copies"][0]["age_seconds"].get<int64_t>(), 0);

  // Shares: 2 of 3, passphrase generated and held only by the shares.
  auto s = Cli(With({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "s1", "--shares", "2/3",
                     "--shares-out", root / "shares"}));
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  std::vector<std::string> shares;
  std::vector<std::string> names = *fs::ListDir(root / "shares");
  for (const auto& n : names) shares.push_back(root / ("shares/" + n));
  ASSERT_EQ(shares.size(), 3u);
  auto vs = Cli(With({"keys", "verify", "--id", "signer-01", root / "s1", "--shares", shares[0], shares[2]}));
  EXPECT_EQ(vs.exit_code, 0) << vs.out << vs.err;

  // Restore to a file from shares; again: idempotent.
  std::string target = root / "restored/signer-01.key";
  ::mkdir((root / "restored").c_str(), 0700);
  auto r = Cli(With({"keys", "restore", "--id", "signer-01", "--from", root / "s1", "--to-file", target, "--shares",
                     shares[1], shares[2]}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  struct stat sb {};
  ASSERT_EQ(::stat(target.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0400u);
  EXPECT_EQ(*fs::ReadFile(target), *fs::ReadFile(key_path));
  auto again = Cli(With({"keys", "restore", "--id", "signer-01", "--from", root / "d2", "--to-file", target}), {pass});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already present"), std::string::npos);
  auto ts = Cli(With({"test-signer", "--id", "signer-01", "--key", target}));
  EXPECT_EQ(ts.exit_code, 0) << ts.out << ts.err;

  // Restore into SoftHSM2, then test-signer signs with the token.
  std::unique_ptr<SoftHsm> hsm;
  if (SoftHsm::Available()) {
    hsm = std::make_unique<SoftHsm>();
    ASSERT_EQ(hsm->InitToken("test").exit_code, 0);
    std::string conf = std::string("SOFTHSM2_CONF=") + std::getenv("SOFTHSM2_CONF");
    auto p = Cli(With({"keys", "restore", "--id", "signer-01", "--from", root / "d3", "--to-pkcs11", "--pkcs11-module",
                       SoftHsm::kModule, "--token-label", "test", "--key-label", "ailee-signer-01", "--key-id", "01"}),
                 {pass, "AILEE_PKCS11_PIN=1234", conf});
    ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
    auto t = Cli(With({"--json", "test-signer", "--id", "signer-01", "--pkcs11-module", SoftHsm::kModule, "--token-label",
                       "test", "--key-label", "ailee-signer-01"}),
                 {"AILEE_PKCS11_PIN=1234", conf});
    ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
    EXPECT_NE(nlohmann::json::parse(t.out)["signer"].get<std::string>().find("token=test"), std::string::npos);
    auto missing = Cli(With({"test-signer", "--id", "signer-01", "--pkcs11-module", SoftHsm::kModule, "--token-label",
                             "gone", "--key-label", "ailee-signer-01"}),
                       {"AILEE_PKCS11_PIN=1234", conf});
    EXPECT_EQ(missing.exit_code, 4) << missing.err;
    EXPECT_NE(missing.err.find("no initialised PKCS#11 token labelled 'gone'"), std::string::npos) << missing.err;
  } else {
    ADD_FAILURE() << "softhsm2 absent: run scripts/install-deps.sh";
  }

  // Every operation is in the audit log, which verifies, and holds no key.
  auto audit = Cli({"audit", "verify", root / "audit.log"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  std::string log = *fs::ReadFile(root / "audit.log");
  for (const char* op : {"key.backup", "key.verify", "key.restore", "key.test-signer"})
    EXPECT_NE(log.find(op), std::string::npos) << op;

  // The key's PEM body lines, raw private bytes (and their hex) must appear
  // in no file except the original and the restored key file.
  std::string pem = *fs::ReadFile(key_path);
  std::vector<std::string> needles;
  size_t pos = 0;
  while ((pos = pem.find('\n', pos)) != std::string::npos) {
    size_t end = pem.find('\n', pos + 1);
    if (end == std::string::npos) break;
    std::string line = pem.substr(pos + 1, end - pos - 1);
    if (line.find("-----") == std::string::npos && line.size() >= 16) needles.push_back(line);
    pos = end;
  }
  auto raw = key.RawPrivate();
  ASSERT_TRUE(raw.ok());
  needles.emplace_back(raw->view());
  needles.push_back(HexEncode(raw->view()));
  ASSERT_GE(needles.size(), 3u);
  std::vector<std::string> files = keytest::FilesBelow(root.path());
  if (hsm) for (const auto& f : keytest::FilesBelow(hsm->tokens_dir())) files.push_back(f);
  for (const auto& f : keytest::FilesBelow("/tmp")) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0 && st.st_mtime >= start_ && st.st_size < (8 << 20)) files.push_back(f);
  }
  int scanned = 0;
  for (const auto& f : files) {
    if (f == key_path || f == target) continue;
    auto content = fs::ReadFile(f);
    if (!content.ok()) continue;
    ++scanned;
    for (const auto& n : needles) EXPECT_EQ(content->find(n), std::string::npos) << "key material in " << f;
  }
  EXPECT_GT(scanned, 10);
  // The private gpg homes were removed.
  std::vector<std::string> left = *fs::ListDir(root / "tmp");
  for (const auto& n : left) ADD_FAILURE() << "left behind in TMPDIR: " << n;
}

TEST_F(KeysCliTest, BadInputsExitNonZeroAndChangeNothing) {
  const std::string pass = "AILEE_KEY_PASSPHRASE=bad input test";
  ASSERT_EQ(Cli(With({"keys", "backup", "--id", "signer-01", "--key", key_path, "--out", root / "d1", "--out", root / "d2",
                      "--shares", "3/5", "--shares-out", root / "sh"}), {pass}).exit_code, 0);
  std::map<std::string, std::string> before;
  for (const auto& f : keytest::FilesBelow(root.path()))
    if (f.find("audit.log") == std::string::npos) before[f] = *fs::ReadFile(f);
  auto unchanged = [&] {
    for (const auto& [f, c] : before) EXPECT_EQ(*fs::ReadFile(f), c) << f;
  };

  auto wrong = Cli(With({"keys", "verify", "--id", "signer-01", root / "d1"}), {"AILEE_KEY_PASSPHRASE=nope"});
  EXPECT_EQ(wrong.exit_code, 5) << wrong.err;
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;

  std::vector<std::string> shares;
  std::vector<std::string> names = *fs::ListDir(root / "sh");
  for (const auto& n : names) shares.push_back(root / ("sh/" + n));
  auto few = Cli(With({"keys", "restore", "--id", "signer-01", "--from", root / "d1", "--to-file", root / "x.key",
                       "--shares", shares[0], shares[1]}));
  EXPECT_EQ(few.exit_code, 2) << few.err;
  EXPECT_NE(few.err.find("too few shares"), std::string::npos) << few.err;
  EXPECT_FALSE(fs::Exists(root / "x.key"));

  auto wrong_fed = keytest::WritePublicKey(root.path(), "other.pub", crypto::PrivateKey::Generate(crypto::KeyType::kEd25519)->public_key());
  auto fed = Cli({"keys", "verify", "--id", "signer-01", root / "d1", "--federation-key", "signer-01=" + wrong_fed,
                  "--audit-log", root / "audit.log"}, {pass});
  EXPECT_EQ(fed.exit_code, 3) << fed.err;
  EXPECT_NE(fed.err.find("does not match the federation key"), std::string::npos) << fed.err;
  auto fed_restore = Cli({"keys", "restore", "--id", "signer-01", "--from", root / "d1", "--to-file", root / "y.key",
                          "--federation-key", "signer-01=" + wrong_fed, "--audit-log", root / "audit.log"}, {pass});
  EXPECT_EQ(fed_restore.exit_code, 3) << fed_restore.err;
  EXPECT_FALSE(fs::Exists(root / "y.key"));

  std::string other_key = keytest::WriteKeyFile(root.path(), "existing.key", *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  std::string existing = *fs::ReadFile(other_key);
  auto exists = Cli(With({"keys", "restore", "--id", "signer-01", "--from", root / "d1", "--to-file", other_key}), {pass});
  EXPECT_EQ(exists.exit_code, 7) << exists.err;
  EXPECT_EQ(*fs::ReadFile(other_key), existing);

  // Truncated copy: verify names it and fails.
  std::string b2 = root / "d2/signer-01.key.gpg";
  std::string data = *fs::ReadFile(b2);
  ASSERT_TRUE(fs::WriteFileAtomic(b2, data.substr(0, 40)).ok());
  before[b2] = data.substr(0, 40);
  auto trunc = Cli(With({"keys", "verify", "--id", "signer-01", root / "d1", root / "d2"}), {pass});
  EXPECT_EQ(trunc.exit_code, 3) << trunc.err;
  EXPECT_NE(trunc.out.find("FAILED  " + b2), std::string::npos) << trunc.out;
  EXPECT_NE(trunc.err.find("1 of 2 backup copies"), std::string::npos) << trunc.err;

  auto no_copy = Cli(With({"keys", "verify", "--id", "signer-01", root / "d1", root / "nowhere"}), {pass});
  EXPECT_EQ(no_copy.exit_code, 4) << no_copy.err;

  // A passphrase on the command line is not even an option.
  auto argv_pass = Cli(With({"keys", "verify", "--id", "signer-01", root / "d1", "--passphrase", "x"}));
  EXPECT_EQ(argv_pass.exit_code, 2);
  unchanged();
}

}  // namespace
}  // namespace ailee::keys
