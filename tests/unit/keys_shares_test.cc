// Passphrase shares interoperate with Debian's gfsplit/gfcombine, and too
// few or mismatched shares never yield a key.
#include <gtest/gtest.h>

#include "base/fs.h"
#include "keys/backup.h"
#include "keys/secret_input.h"
#include "keys/shamir.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::RunTool;
using keytest::TempDir;

struct SharedBackup {
  TempDir tmp;
  crypto::PrivateKey key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  crypto::SecureBytes passphrase = GeneratePassphrase();
  Result<BackupResult> result = Status();

  explicit SharedBackup(ShareSpec spec, const std::string& id = "signer-01") {
    std::string key_path = keytest::WriteKeyFile(tmp.path(), "k.pem", key);
    BackupRequest req{id, key_path, {tmp / "backup"}, spec, tmp / "shares", nullptr, &Clock::Real()};
    result = BackupKey(req, passphrase);
  }
};

TEST(ShamirTest, SplitCombineRoundTripAndSpecParsing) {
  crypto::SecureBytes secret("the passphrase");
  auto shares = SplitSecret(secret, {3, 5});
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 5u);
  std::vector<Share> three;
  for (int i : {4, 0, 2}) three.push_back((*shares)[static_cast<size_t>(i)]);
  EXPECT_EQ(*CombineShares(three), secret);
  std::vector<Share> two((*shares).begin(), (*shares).begin() + 2);
  EXPECT_FALSE(*CombineShares(two) == secret);  // too few: garbage, never the secret
  EXPECT_EQ(ParseShareSpec("3/5")->threshold, 3);
  EXPECT_FALSE(ParseShareSpec("1/5").ok());
  EXPECT_FALSE(ParseShareSpec("6/5").ok());
  EXPECT_FALSE(ParseShareSpec("3/256").ok());
  EXPECT_FALSE(ParseShareSpec("3-5").ok());
}

TEST(ShamirTest, GfcombineReadsOurSharesAndWeReadGfsplits) {
  if (!keytest::HaveTool("gfcombine") || !keytest::HaveTool("gfsplit")) GTEST_SKIP() << "libgfshare-bin absent";
  SharedBackup b({3, 5});
  ASSERT_TRUE(b.result.ok()) << b.result.status().ToString();
  ASSERT_EQ(b.result->share_files.size(), 5u);
  auto& f = b.result->share_files;
  std::string out = b.tmp / "combined";
  auto r = RunTool({"gfcombine", "-o", out, f[1], f[3], f[4]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*fs::ReadFile(out), std::string(b.passphrase.view()));

  // gfsplit's shares of a passphrase file combine with our code.
  TempDir t;
  ASSERT_TRUE(fs::WriteFileAtomic(t / "pw", "split by gfsplit").ok());
  ASSERT_EQ(RunTool({"gfsplit", "-n", "2", "-m", "3", t / "pw", t / "pw"}).exit_code, 0);
  std::vector<Share> shares;
  std::vector<std::string> names = *fs::ListDir(t.path());
  for (const auto& name : names)
    if (name.rfind("pw.", 0) == 0) shares.push_back(*ReadShareFile(t / name));
  ASSERT_EQ(shares.size(), 3u);
  shares.pop_back();
  EXPECT_EQ(std::string(CombineShares(shares)->view()), "split by gfsplit");
}

TEST(ShamirTest, RestoreFromSharesAndBadShareSets) {
  SharedBackup b({3, 5});
  ASSERT_TRUE(b.result.ok()) << b.result.status().ToString();
  auto& f = b.result->share_files;
  std::string backup = b.result->backup_files[0];
  auto meta = ReadMetadata(backup);
  ASSERT_TRUE(meta.ok());
  ASSERT_TRUE(meta->shares.has_value());
  EXPECT_EQ(meta->shares->threshold, 3);

  auto pass = CombinePassphraseShares(*meta, {f[0], f[2], f[4]});
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  auto opened = OpenBackup("signer-01", backup, *pass, FederationCheck{nullptr, false});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->metadata.identity.fingerprint, b.key.public_key().FingerprintHex());

  // Too few (a repeated share counts once).
  auto few = CombinePassphraseShares(*meta, {f[0], f[2], f[2]});
  EXPECT_EQ(few.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(few.status().message().find("too few shares: got 2 distinct, this backup needs 3 of 5"), std::string::npos);

  // A share of another split (another backup).
  SharedBackup other({3, 5}, "signer-01");
  ASSERT_TRUE(other.result.ok());
  std::string foreign;
  for (const auto& s : other.result->share_files) {
    int n = std::stoi(s.substr(s.size() - 3));
    if (std::find(meta->shares->numbers.begin(), meta->shares->numbers.end(), n) == meta->shares->numbers.end()) foreign = s;
  }
  if (!foreign.empty()) {
    auto mixed = CombinePassphraseShares(*meta, {f[0], f[1], foreign});
    EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(mixed.status().message().find("mismatched share"), std::string::npos);
  }
  // A share with a valid number but the wrong content: the combined
  // passphrase is garbage and decryption refuses it.
  std::string forged = b.tmp / ("forged/" + fs::Basename(f[1]));
  ASSERT_TRUE(fs::MakeDirs(b.tmp / "forged").ok());
  std::string content = *fs::ReadFile(f[1]);
  content[0] ^= 0x55;
  ASSERT_TRUE(fs::WriteFileAtomic(forged, content).ok());
  auto bad = CombinePassphraseShares(*meta, {f[0], forged, f[2]});
  ASSERT_TRUE(bad.ok());
  auto refused = OpenBackup("signer-01", backup, *bad, FederationCheck{nullptr, false});
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
}

TEST(ShamirTest, SharesMustNotSitNextToTheBackup) {
  TempDir tmp;
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kP256);
  std::string key_path = keytest::WriteKeyFile(tmp.path(), "k.pem", key);
  BackupRequest req{"signer-01", key_path, {tmp / "b"}, ShareSpec{2, 3}, tmp / "b", nullptr, &Clock::Real()};
  auto r = BackupKey(req, GeneratePassphrase());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::Exists(tmp / "b"));
}

}  // namespace
}  // namespace ailee::keys
