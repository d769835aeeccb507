// Damaged key slots and a damaged config: every key slot is named by the
// SHA-256 of its bytes, so a flipped byte is damage, found by verify and by
// `repo key list`, and never reported as a wrong passphrase.
#include <gtest/gtest.h>

#include "repo/key_slots.h"
#include "repo/repository.h"
#include "repo/verify.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class KeyDamageTest : public RepoTest {
 protected:
  // Adds a key-file slot and returns its id; the key file's content in *key_file.
  std::string AddKeyFileSlot(std::string* key_file) {
    crypto::SecureBytes secret = NewKeyFile();
    *key_file = std::string(secret.view());
    auto id = repo_->AddKeyFile(secret.view());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  // Flips one byte of an object in the store, keeping its name.
  void FlipByte(const std::string& key, size_t offset_from_end) {
    auto bytes = store_->Get(key);
    ASSERT_TRUE(bytes.ok()) << key;
    std::string b = *bytes;
    ASSERT_GT(b.size(), offset_from_end);
    b[b.size() - 1 - offset_from_end] ^= 0x01;
    ASSERT_TRUE(store_->Delete(key).ok());
    ASSERT_TRUE(store_->Put(key, b).ok());
  }
};

// The scenario: the key file's slot rots; the next backup with that
// key file must say which slot is damaged, not "wrong passphrase".
TEST_F(KeyDamageTest, OpeningWithADamagedKeySlotSaysDamagedNotWrongPassphrase) {
  std::string key_file;
  const std::string id = AddKeyFileSlot(&key_file);
  FlipByte("keys/" + id, 40);  // inside the sealed master key
  auto r = Repository::Open(store_, key_file, {&clock_});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("damaged key slot " + id), std::string::npos) << r.status().ToString();
  EXPECT_EQ(r.status().message().find("wrong passphrase"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(Repository::Open(store_, "correct horse", {&clock_}).ok()) << "the intact slot still opens";
}

// A byte in the slot's metadata: the sealed key would still open, but the
// slot is not what was written, and its KDF parameters are not trusted.
TEST_F(KeyDamageTest, FlippedMetadataByteIsDamageToo) {
  std::string key_file;
  const std::string id = AddKeyFileSlot(&key_file);
  auto bytes = *store_->Get("keys/" + id);
  size_t host = bytes.find("\"host\"");
  ASSERT_NE(host, std::string::npos);
  FlipByte("keys/" + id, bytes.size() - 1 - (host + 9));
  auto r = Repository::Open(store_, key_file, {&clock_});
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("damaged key slot " + id), std::string::npos) << r.status().ToString();
}

TEST_F(KeyDamageTest, VerifyReportsADamagedKeySlotItDidNotOpenWith) {
  std::string key_file;
  const std::string id = AddKeyFileSlot(&key_file);
  FlipByte("keys/" + id, 40);
  auto repo = OpenRepo(store_);  // through the intact passphrase slot
  ASSERT_TRUE(repo);
  for (bool read_data : {false, true}) {
    VerifyOptions vo;
    vo.read_data = read_data;
    auto report = Verify(*repo, vo);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->problems.size(), 1u) << (report->problems.empty() ? "" : report->problems[0].ToString());
    EXPECT_EQ(report->problems[0].object, "key slot " + id);
    EXPECT_NE(report->problems[0].ToString().find("damaged key slot " + id), std::string::npos)
        << report->problems[0].ToString();
  }
}

TEST_F(KeyDamageTest, KeyListMarksADamagedSlot) {
  std::string key_file;
  const std::string id = AddKeyFileSlot(&key_file);
  FlipByte("keys/" + id, 40);
  auto keys = repo_->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  for (const auto& k : *keys) EXPECT_EQ(k.damaged, k.id == id) << k.id;
  // The damaged slot can be removed; the last intact one cannot.
  EXPECT_TRUE(repo_->RemoveKey(id).ok());
  EXPECT_EQ(repo_->RemoveKey(repo_->current_key_id()).code(), StatusCode::kFailedPrecondition);
}

// The repository id in the config is bound into every key slot: a flipped
// digit there made every slot fail as if the passphrase were wrong, with no
// word about the config. (A slot that does not open cannot prove it belongs
// to this repository, so this stays a suspicion beside "wrong passphrase".)
TEST_F(KeyDamageTest, DamagedConfigIsSuspectedWhenNoSlotOpens) {
  auto config = *store_->Get("config");
  size_t id = config.find("\"id\": \"");
  ASSERT_NE(id, std::string::npos);
  FlipByte("config", config.size() - 1 - (id + 8));
  auto r = Repository::Open(store_, "correct horse", {&clock_});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("or the config is damaged"), std::string::npos) << r.status().ToString();
}

TEST_F(KeyDamageTest, VerifyReportsADamagedConfig) {
  auto config = *store_->Get("config");
  size_t chunk = config.find("\"chunk_size\": 65536");
  ASSERT_NE(chunk, std::string::npos);
  FlipByte("config", config.size() - 1 - (chunk + 15));  // a digit of chunk_size: still parses, still opens
  auto repo = OpenRepo(store_);
  ASSERT_TRUE(repo);
  auto report = Verify(*repo, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].object, "config");
  EXPECT_NE(report->problems[0].message.find("damaged"), std::string::npos) << report->problems[0].ToString();
}

}  // namespace
}  // namespace ailee::repo::testing
