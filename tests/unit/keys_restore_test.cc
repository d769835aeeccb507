// Restoring to a file: mode 0400, idempotent, never replaces another key,
// and a full backup/restore run leaves no plaintext key anywhere else.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "base/fs.h"
#include "base/hex.h"
#include "keys/backup.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::TempDir;

const crypto::SecureBytes kRestorePass("restore-test-passphrase");

TEST(RestoreTest, ToFileIsReadOnlyIdempotentAndNeverReplacesAnotherKey) {
  TempDir tmp;
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kSecp256k1);
  std::string key_path = keytest::WriteKeyFile(tmp.path(), "orig.pem", key);
  BackupRequest req{"signer-01", key_path, {tmp / "b"}, std::nullopt, "", nullptr, &Clock::Real()};
  ASSERT_TRUE(BackupKey(req, kRestorePass).ok());
  FederationKeys fed{{"signer-01", key.public_key()}};
  auto opened = OpenBackup("signer-01", tmp / "b", kRestorePass, FederationCheck{&fed, true});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();

  std::string target = tmp / "signer-01.key";
  auto r = RestoreToFile(*opened, target, FileOwner{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, RestoreOutcome::kWritten);
  struct stat sb {};
  ASSERT_EQ(::stat(target.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0400u);
  EXPECT_EQ(*fs::ReadFile(target), *fs::ReadFile(key_path));
  EXPECT_EQ(*RestoreToFile(*opened, target, FileOwner{}), RestoreOutcome::kAlreadyPresent);

  // A different key already at the target: refused, untouched.
  std::string other = keytest::WriteKeyFile(tmp.path(), "other.pem", *crypto::PrivateKey::Generate(crypto::KeyType::kSecp256k1));
  std::string before = *fs::ReadFile(other);
  auto refused = RestoreToFile(*opened, other, FileOwner{});
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("different key"), std::string::npos);
  EXPECT_EQ(*fs::ReadFile(other), before);
  // Some other file: refused, untouched.
  ASSERT_TRUE(fs::WriteFileAtomic(tmp / "notes.txt", "hello").ok());
  EXPECT_EQ(RestoreToFile(*opened, tmp / "notes.txt", FileOwner{}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs::ReadFile(tmp / "notes.txt"), "hello");
}

TEST(RestoreTest, OwnerParsing) {
  auto root = ParseOwner("root:root");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root->uid, 0u);
  EXPECT_EQ(*root->gid, 0u);
  EXPECT_EQ(*ParseOwner("1234")->uid, 1234u);
  EXPECT_FALSE(ParseOwner("no-such-user-xyz").ok());
  EXPECT_FALSE(ParseOwner("root:no-such-group-xyz").ok());
}

TEST(RestoreTest, OwnerIsApplied) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  TempDir tmp;
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  std::string key_path = keytest::WriteKeyFile(tmp.path(), "k.pem", key);
  BackupRequest req{"signer-01", key_path, {tmp / "b"}, std::nullopt, "", nullptr, &Clock::Real()};
  ASSERT_TRUE(BackupKey(req, kRestorePass).ok());
  auto opened = OpenBackup("signer-01", tmp / "b", kRestorePass, FederationCheck{nullptr, false});
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(RestoreToFile(*opened, tmp / "out.key", FileOwner{1234, 4321}).ok());
  struct stat sb {};
  ASSERT_EQ(::stat((tmp / "out.key").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_uid, 1234u);
  EXPECT_EQ(sb.st_gid, 4321u);
}

}  // namespace
}  // namespace ailee::keys
