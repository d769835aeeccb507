// Backups written through GPGME are opened by the real gpg, verified, and
// every kind of damage is reported without touching anything on disk.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "base/fs.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "keys/backup.h"
#include "keys/gpg_envelope.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::RunTool;
using keytest::TempDir;

const crypto::SecureBytes kPass("correct horse battery staple");

std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> m;
  for (const auto& f : keytest::FilesBelow(root)) m[f] = *fs::ReadFile(f);
  return m;
}

struct Fixture {
  TempDir tmp;
  crypto::PrivateKey key;
  std::string key_path;
  std::vector<std::string> outs;
  FederationKeys federation;

  explicit Fixture(crypto::KeyType type) {
    key = *crypto::PrivateKey::Generate(type);
    key_path = keytest::WriteKeyFile(tmp.path(), "signer-01.key", key);
    outs = {tmp / "primary", tmp / "usb1", tmp / "usb2"};
    federation.emplace("signer-01", key.public_key());
  }
  Result<BackupResult> Backup() {
    BackupRequest req;
    req.signer_id = "signer-01";
    req.key_path = key_path;
    req.out_dirs = outs;
    req.federation = &federation;
    return BackupKey(req, kPass);
  }
};

class BackupAllTypes : public ::testing::TestWithParam<crypto::KeyType> {};

TEST_P(BackupAllTypes, ThreeCopiesThatStockGpgDecryptsAndVerifyAccepts) {
  Fixture f(GetParam());
  auto r = f.Backup();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->backup_files.size(), 3u);
  EXPECT_EQ(r->identity.fingerprint, f.key.public_key().FingerprintHex());
  std::string original = *fs::ReadFile(f.key_path);
  for (const auto& b : r->backup_files) {
    struct stat sb {};
    ASSERT_EQ(::stat(b.c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0600u);
    // Stock gpg, passphrase through stdin (fd 0), never argv.
    TempDir home;
    ::chmod(home.path().c_str(), 0700);
    auto dec = RunTool({"gpg", "--homedir", home.path(), "--batch", "--quiet", "--pinentry-mode", "loopback",
                    "--passphrase-fd", "0", "--decrypt", b},
                   std::string(kPass.view()) + "\n");
    RunTool({"gpgconf", "--homedir", home.path(), "--kill", "gpg-agent"});
    ASSERT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, original);
    // AES-256 (OpenPGP cipher algorithm 9).
    auto packets = RunTool({"gpg", "--homedir", home.path(), "--batch", "--list-packets", "--pinentry-mode", "loopback",
                        "--passphrase-fd", "0", b},
                       std::string(kPass.view()) + "\n");
    RunTool({"gpgconf", "--homedir", home.path(), "--kill", "gpg-agent"});
    EXPECT_NE(packets.out.find("symkey enc packet: version 4, cipher 9"), std::string::npos) << packets.out;
  }
  auto meta = ReadMetadata(r->backup_files[0]);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->identity.signer_id, "signer-01");
  EXPECT_EQ(meta->identity.type, GetParam());
  EXPECT_EQ(meta->identity.fingerprint, f.key.public_key().FingerprintHex());
  std::string meta_text = *fs::ReadFile(MetadataPathFor(r->backup_files[0]));
  EXPECT_EQ(meta_text.find("PRIVATE"), std::string::npos);

  auto report = VerifyBackups("signer-01", f.outs, kPass, FederationCheck{&f.federation, true});
  EXPECT_TRUE(report.overall.ok()) << report.overall.ToString();
  ASSERT_EQ(report.copies.size(), 3u);
  for (const auto& c : report.copies) {
    EXPECT_TRUE(c.status.ok());
    EXPECT_EQ(c.federation, "match");
    EXPECT_GT(c.created_unix, 0);
    EXPECT_GT(c.mtime_unix, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, BackupAllTypes,
                         ::testing::Values(crypto::KeyType::kEd25519, crypto::KeyType::kSecp256k1,
                                           crypto::KeyType::kP256));

TEST(BackupTest, OpensslGenpkeyKeysAreBackedUpByteForByte) {
  if (!keytest::HaveTool("openssl")) GTEST_SKIP() << "openssl binary absent";
  TempDir tmp;
  int n = 0;
  for (std::vector<std::string> args : {std::vector<std::string>{"-algorithm", "ed25519"},
                                        std::vector<std::string>{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
                                        std::vector<std::string>{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"}}) {
    ++n;
    std::string key = tmp / ("k" + std::to_string(n) + ".pem");
    std::vector<std::string> argv{"openssl", "genpkey"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-out", key});
    ASSERT_EQ(RunTool(argv).exit_code, 0);
    std::string dir = tmp / ("out" + std::to_string(n));
    BackupRequest req{"signer-07", key, {dir}, std::nullopt, "", nullptr, &Clock::Real()};
    auto r = BackupKey(req, kPass);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto opened = OpenBackup("signer-07", dir, kPass, FederationCheck{nullptr, false});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(std::string(opened->key_pem.view()), *fs::ReadFile(key));
    // Fingerprint matches `openssl pkey -pubout -outform DER | sha256sum`.
    auto der = RunTool({"openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"});
    EXPECT_EQ(opened->metadata.identity.fingerprint, crypto::HashToHex(crypto::Sha256(der.out)));
  }
}

TEST(BackupTest, RefusesExistingTargetsAndLeavesThemAlone) {
  Fixture f(crypto::KeyType::kEd25519);
  ASSERT_TRUE(f.Backup().ok());
  auto before = Snapshot(f.tmp.path());
  // A second, different key for the same signer into the same dirs.
  Fixture other(crypto::KeyType::kEd25519);
  BackupRequest req{"signer-01", other.key_path, f.outs, std::nullopt, "", nullptr, &Clock::Real()};
  auto r = BackupKey(req, kPass);
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("already exists"), std::string::npos);
  EXPECT_EQ(Snapshot(f.tmp.path()), before);
}

TEST(BackupTest, RefusesKeyThatIsNotTheFederations) {
  Fixture f(crypto::KeyType::kP256);
  f.federation["signer-01"] = crypto::PrivateKey::Generate(crypto::KeyType::kP256)->public_key();
  auto r = f.Backup();
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("does not match the federation key"), std::string::npos);
  for (const auto& d : f.outs) EXPECT_FALSE(fs::Exists(d));
}

TEST(BackupTest, RejectsNonKeyInput) {
  TempDir tmp;
  ASSERT_TRUE(fs::WriteFileAtomic(tmp / "junk.key", "not a key\n").ok());
  BackupRequest req{"signer-01", tmp / "junk.key", {tmp / "out"}, std::nullopt, "", nullptr, &Clock::Real()};
  EXPECT_EQ(BackupKey(req, kPass).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::Exists(tmp / "out"));
  req.signer_id = "../evil";
  EXPECT_EQ(BackupKey(req, kPass).status().code(), StatusCode::kInvalidArgument);
}

class VerifyDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f.Backup().ok());
    before = Snapshot(f.tmp.path());
  }
  Status VerifyAll(const crypto::SecureBytes& pass = kPass) {
    auto rep = VerifyBackups("signer-01", f.outs, pass, FederationCheck{&f.federation, true});
    return rep.overall;
  }
  Fixture f{crypto::KeyType::kSecp256k1};
  std::map<std::string, std::string> before;
};

TEST_F(VerifyDamage, TruncatedBackup) {
  std::string b = fs::JoinPath(f.outs[1], "signer-01.key.gpg");
  std::string data = *fs::ReadFile(b);
  ASSERT_TRUE(fs::WriteFileAtomic(b, data.substr(0, data.size() / 2)).ok());
  auto rep = VerifyBackups("signer-01", f.outs, kPass, FederationCheck{&f.federation, true});
  EXPECT_EQ(rep.overall.code(), StatusCode::kDataLoss);
  EXPECT_NE(rep.overall.message().find("modified or truncated"), std::string::npos);
  EXPECT_TRUE(rep.copies[0].status.ok());
  EXPECT_FALSE(rep.copies[1].status.ok());
  EXPECT_TRUE(rep.copies[2].status.ok());
}

TEST_F(VerifyDamage, EditedByte) {
  std::string b = fs::JoinPath(f.outs[2], "signer-01.key.gpg");
  std::string data = *fs::ReadFile(b);
  data[data.size() - 5] ^= 0x01;
  ASSERT_TRUE(fs::WriteFileAtomic(b, data).ok());
  EXPECT_EQ(VerifyAll().code(), StatusCode::kDataLoss);
  // Without the recorded hash, gpg's integrity check (MDC) still refuses it.
  auto direct = GpgDecryptSymmetric(data, kPass);
  EXPECT_EQ(direct.status().code(), StatusCode::kDataLoss) << direct.status().ToString();
}

TEST_F(VerifyDamage, WrongPassphrase) {
  Status st = VerifyAll(crypto::SecureBytes("wrong passphrase"));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("wrong passphrase"), std::string::npos);
  EXPECT_EQ(Snapshot(f.tmp.path()), before);
}

TEST_F(VerifyDamage, MissingCopyAndMissingMetadata) {
  ASSERT_EQ(::unlink(fs::JoinPath(f.outs[0], "signer-01.key.gpg").c_str()), 0);
  ASSERT_EQ(::unlink(fs::JoinPath(f.outs[1], "signer-01.key.json").c_str()), 0);
  auto rep = VerifyBackups("signer-01", f.outs, kPass, FederationCheck{&f.federation, true});
  EXPECT_EQ(rep.copies[0].status.code(), StatusCode::kNotFound);
  EXPECT_NE(rep.copies[0].status.message().find("is missing"), std::string::npos);
  EXPECT_EQ(rep.copies[1].status.code(), StatusCode::kNotFound);
  EXPECT_NE(rep.copies[1].status.message().find("metadata"), std::string::npos);
  EXPECT_TRUE(rep.copies[2].status.ok());
  EXPECT_FALSE(rep.overall.ok());
}

TEST_F(VerifyDamage, FingerprintDoesNotMatchFederation) {
  f.federation["signer-01"] = crypto::PrivateKey::Generate(crypto::KeyType::kSecp256k1)->public_key();
  Status st = VerifyAll();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("does not match the federation key"), std::string::npos);
  f.federation.clear();
  EXPECT_EQ(VerifyAll().code(), StatusCode::kNotFound);  // required but not configured
}

TEST_F(VerifyDamage, WrongKeyType) {
  // Federation key of another type.
  f.federation["signer-01"] = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519)->public_key();
  Status st = VerifyAll();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("ed25519"), std::string::npos);
  // Metadata that claims another type.
  std::string m = fs::JoinPath(f.outs[0], "signer-01.key.json");
  auto j = nlohmann::json::parse(*fs::ReadFile(m));
  j["key_type"] = "p256";
  ASSERT_TRUE(fs::WriteFileAtomic(m, j.dump()).ok());
  f.federation["signer-01"] = f.key.public_key();
  auto rep = VerifyBackups("signer-01", {f.outs[0]}, kPass, FederationCheck{&f.federation, true});
  EXPECT_EQ(rep.overall.code(), StatusCode::kDataLoss);
  EXPECT_NE(rep.overall.message().find("metadata records p256"), std::string::npos) << rep.overall.ToString();
}

TEST_F(VerifyDamage, BackupOfAnotherSigner) {
  auto opened = OpenBackup("signer-02", fs::JoinPath(f.outs[0], "signer-01.key.gpg"), kPass, FederationCheck{&f.federation, true});
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().message().find("not of 'signer-02'"), std::string::npos);
}

}  // namespace
}  // namespace ailee::keys
