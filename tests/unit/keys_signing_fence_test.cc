// The signing fence (keys/signing_fence.h): a signer never signs a height at
// or below the highest block it signed, the record survives reopening, and a
// fence file that was damaged, hand-edited or replaced by a symlink is refused
// (fail closed) rather than read as "no history".
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "keys/backup.h"
#include "keys/signing_fence.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::TempDir;

crypto::Hash256 H(char c) { return crypto::Sha256(std::string(1, c)); }

TEST(SigningFence, RefusesAtOrBelowAndAllowsTheSameBlockAgain) {
  TempDir dir;
  auto fence = SigningFence::Open(dir / "k.key.fence");
  ASSERT_TRUE(fence.ok()) << fence.status().ToString();
  EXPECT_FALSE((*fence)->has_history());
  EXPECT_FALSE((*fence)->CheckSign(0, H('z')).ok());  // height 0 is never a block
  ASSERT_TRUE((*fence)->Advance(5, H('a'), "block-5").ok());
  EXPECT_TRUE((*fence)->CheckSign(6, H('b')).ok());
  EXPECT_TRUE((*fence)->CheckSign(5, H('a')).ok()) << "the very same block may be signed again";
  Status same_height = (*fence)->CheckSign(5, H('b'));
  EXPECT_EQ(same_height.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(same_height.message().find("block 5"), std::string::npos) << same_height.ToString();
  EXPECT_EQ((*fence)->CheckSign(4, H('c')).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*fence)->Advance(3, H('c'), "").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*fence)->state().height, 5u) << "a refused Advance leaves the fence where it was";
}

TEST(SigningFence, GuardSignsOnlyABlockTheFenceAllowsAndThenItsLaterMessages) {
  TempDir dir;
  auto fence = SigningFence::Open(dir / "k.key.fence");
  ASSERT_TRUE(fence.ok()) << fence.status().ToString();
  ASSERT_TRUE((*fence)->Advance(5, H('a'), "block-5").ok());
  int signed_count = 0;
  auto sign = [&](std::string_view m) -> Result<std::string> {
    ++signed_count;
    return "sig:" + std::string(m);
  };
  const crypto::Hash256 a = H('a'), b = H('b');
  const std::string hash_a(a.begin(), a.end()), hash_b(b.begin(), b.end());
  // Another block at the fence height: nothing reaches the signer.
  auto other = (*fence)->Guard(5, sign);
  EXPECT_EQ(other(hash_b).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(signed_count, 0);
  // A first message that is not a header hash is never signed.
  EXPECT_FALSE((*fence)->Guard(6, sign)("an anchor commitment first").ok());
  EXPECT_EQ(signed_count, 0);
  // Above the fence: the header, then its anchor commitment (any message).
  auto next = (*fence)->Guard(6, sign);
  ASSERT_TRUE(next(hash_b).ok());
  auto anchor = next("anchor commitment of block 6");
  ASSERT_TRUE(anchor.ok()) << anchor.status().ToString();
  EXPECT_EQ(signed_count, 2);
  // The fenced block itself again (a retry).
  EXPECT_TRUE((*fence)->Guard(5, sign)(hash_a).ok());
}

TEST(SigningFence, SurvivesReopenWith0600AndThePendingBlock) {
  TempDir dir;
  const std::string path = dir / "k.key.fence";
  {
    auto fence = SigningFence::Open(path);
    ASSERT_TRUE(fence.ok());
    ASSERT_TRUE((*fence)->Advance(41, H('x'), std::string("\0\x01pending", 9)).ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = SigningFence::Open(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->state().height, 41u);
  EXPECT_EQ((*again)->state().block_hash, H('x'));
  EXPECT_EQ((*again)->state().pending_block, std::string("\0\x01pending", 9));
  EXPECT_FALSE((*again)->CheckSign(41, H('y')).ok());
  EXPECT_FALSE((*again)->CheckSign(2, H('y')).ok());
}

TEST(SigningFence, SecondHolderOfTheSameFenceIsRefused) {
  TempDir dir;
  auto first = SigningFence::Open(dir / "k.key.fence");
  ASSERT_TRUE(first.ok());
  auto second = SigningFence::Open(dir / "k.key.fence");
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
}

// Break10: an operator deleting the "stale" lock while the node runs let a
// second process lock a new lock file and sign with the same key.
TEST(SigningFence, DeletedLockStopsTheHolderFromSigning) {
  TempDir dir;
  const std::string path = dir / "k.key.fence";
  auto first = SigningFence::Open(path);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Advance(5, H('a'), "").ok());
  ASSERT_EQ(::unlink((path + ".lock").c_str()), 0);
  auto second = SigningFence::Open(path);
  ASSERT_TRUE(second.ok()) << "a new lock file can be locked: the first holder must notice";
  Status st = (*first)->Advance(6, H('b'), "");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("deleted or replaced"), std::string::npos) << st.ToString();
  EXPECT_TRUE((*second)->Advance(6, H('c'), "").ok()) << "the process that holds the lock signs";
}

// A fence file raised behind this holder's back (another signer with the
// same file) stops it; one lowered or deleted behind its back does not lower
// what it refuses (its own record is the higher one).
TEST(SigningFence, FenceChangedBehindItsBackNeverLowersItAndAHigherOneStopsIt) {
  TempDir dir;
  const std::string path = dir / "k.key.fence";
  auto fence = SigningFence::Open(path);
  ASSERT_TRUE(fence.ok());
  ASSERT_TRUE((*fence)->Advance(10, H('a'), "").ok());
  ASSERT_TRUE(fs::WriteFileAtomic(path, SerializeFence({3, H('x'), ""}), 0600).ok());
  EXPECT_EQ((*fence)->CheckSign(4, H('y')).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*fence)->Advance(11, H('b'), "").ok());
  EXPECT_EQ(ReadFenceFile(path)->height, 11u);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_TRUE((*fence)->Advance(12, H('c'), "").ok());
  EXPECT_EQ(ReadFenceFile(path)->height, 12u) << "a deleted fence is written again at the held height";
  ASSERT_TRUE(fs::WriteFileAtomic(path, SerializeFence({20, H('z'), ""}), 0600).ok());
  Status st = (*fence)->Advance(13, H('d'), "");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(ReadFenceFile(path)->height, 20u);
}

// Each damaged form is refused with a message naming the file; never treated
// as an absent fence (which would let the signer sign from height 1 again).
TEST(SigningFence, DamagedFenceFailsClosed) {
  TempDir dir;
  const std::string good = SerializeFence({7, H('g'), "abc"});
  std::string crlf;
  for (char c : good) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::string edited = good;
  edited.replace(edited.find("height 7"), 8, "height 9");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"crlf", crlf},
      {"truncated", good.substr(0, good.size() - 10)},
      {"truncated-at-line", good.substr(0, good.find("checksum"))},
      {"empty", ""},
      {"garbage", "height: 7\n"},
      {"hand-edited", edited},
      {"extra-line", good + "height 8\n"},
  };
  for (const auto& [name, text] : cases) {
    const std::string path = dir / (name + ".fence");
    ASSERT_TRUE(fs::WriteFileAtomic(path, text, 0600).ok());
    auto fence = SigningFence::Open(path);
    ASSERT_FALSE(fence.ok()) << name << " was accepted";
    EXPECT_EQ(fence.status().code(), StatusCode::kDataLoss) << name << ": " << fence.status().ToString();
    EXPECT_NE(fence.status().message().find(path), std::string::npos) << name << ": " << fence.status().ToString();
    EXPECT_NE(fence.status().message().find("docs/keys.md"), std::string::npos) << fence.status().ToString();
  }
  auto parsed = ParseFence(good, "good");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->height, 7u);
}

TEST(SigningFence, SymlinkInPlaceOfTheFenceIsRefused) {
  TempDir dir;
  const std::string target = dir / "elsewhere.fence";
  ASSERT_TRUE(fs::WriteFileAtomic(target, SerializeFence({1, H('a'), ""}), 0600).ok());
  const std::string path = dir / "k.key.fence";
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  auto fence = SigningFence::Open(path);
  ASSERT_FALSE(fence.ok());
  EXPECT_EQ(fence.status().code(), StatusCode::kPermissionDenied) << fence.status().ToString();
  EXPECT_NE(fence.status().message().find("symlink"), std::string::npos) << fence.status().ToString();
}

TEST(SigningFence, RaiseNeverLowers) {
  TempDir dir;
  const std::string path = dir / "k.key.fence";
  ASSERT_TRUE(RaiseFenceFile(path, {10, H('a'), ""}).ok());
  EXPECT_EQ(RaiseFenceFile(path, {9, H('b'), ""}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RaiseFenceFile(path, {10, H('b'), ""}).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(RaiseFenceFile(path, {10, H('a'), ""}).ok());
  ASSERT_TRUE(RaiseFenceFile(path, {12, H('c'), ""}).ok());
  auto now = ReadFenceFile(path);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->height, 12u);
}

TEST(SigningFence, PathsLiveBesideTheKeyOrTheConfig) {
  EXPECT_EQ(FencePathForKeyFile("/etc/ailee/keys/signer-01.key"), "/etc/ailee/keys/signer-01.key.fence");
  EXPECT_EQ(FencePathForPkcs11("/etc/ailee", "ailee hsm", "signer/01"), "/etc/ailee/pkcs11-ailee_hsm-signer_01.fence");
}

// keys backup carries the fence; keys restore puts it back beside the key and
// never lowers a higher fence already there.
TEST(SigningFence, KeyBackupCarriesItAndRestoreNeverLowersIt) {
  TempDir dir;
  crypto::PrivateKey key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const std::string key_path = keytest::WriteKeyFile(dir.path(), "signer-01.key", key);
  ASSERT_TRUE(RaiseFenceFile(FencePathForKeyFile(key_path), {30, H('a'), "b30"}).ok());
  BackupRequest req;
  req.signer_id = "signer-01";
  req.key_path = key_path;
  req.out_dirs = {dir / "usb"};
  auto r = BackupKey(req, crypto::SecureBytes("correct horse battery staple"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->fence_files.size(), 1u);

  // A new machine: the key restored without a fence gets the backed-up one.
  const std::string restored = dir / "new-machine.key";
  auto fence = RestoreFenceFromBackup("signer-01", dir / "usb", restored);
  ASSERT_TRUE(fence.ok()) << fence.status().ToString();
  EXPECT_EQ(fence->value_or(0), 30u);
  // A machine whose fence moved on since the backup keeps its higher fence.
  ASSERT_TRUE(RaiseFenceFile(FencePathForKeyFile(restored), {55, H('c'), ""}).ok());
  fence = RestoreFenceFromBackup("signer-01", dir / "usb", restored);
  ASSERT_TRUE(fence.ok()) << fence.status().ToString();
  EXPECT_EQ(fence->value_or(0), 55u);

  // A damaged fence is not backed up as if it were fine.
  ASSERT_TRUE(fs::WriteFileAtomic(FencePathForKeyFile(key_path), "height 30\r\n", 0600).ok());
  req.out_dirs = {dir / "usb2"};
  auto bad = BackupKey(req, crypto::SecureBytes("correct horse battery staple"));
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss) << bad.status().ToString();
}

}  // namespace
}  // namespace ailee::keys
