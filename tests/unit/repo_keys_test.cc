#include <gtest/gtest.h>

#include "repo/repository.h"
#include "repo_test_util.h"
#include "storage/local_object_store.h"

namespace ailee::repo::testing {
namespace {

TEST_F(RepoTest, OpenWithTheRightPassphraseSharesTheMasterKey) {
  auto again = OpenRepo(store_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->config().id, repo_->config().id);
  EXPECT_EQ(again->master_key().data_key, repo_->master_key().data_key);
  EXPECT_EQ(again->config().chunk_size, 64u << 10);
  auto config = store_->Get("config");
  EXPECT_NE(config->find("\"chunk_size\": 65536"), std::string::npos) << *config;
}

TEST_F(RepoTest, WrongPassphraseIsPermissionDeniedNamingTheLocation) {
  auto r = Repository::Open(store_, "wrong", {&clock_});
  ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("wrong passphrase (no key slot in mem:// opens with it)"), std::string::npos)
      << r.status().ToString();
}

TEST_F(RepoTest, MissingRepositorySaysHowToCreateOne) {
  auto store = std::make_shared<storage::LocalObjectStore>(dir_ + "/nothing-here");
  auto r = Repository::Open(store, "x", {&clock_});
  ASSERT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no repository at file://" + dir_ + "/nothing-here: run `ailee-cli repo init`");
}

TEST_F(RepoTest, InitRefusesAnExistingRepository) {
  InitOptions init;
  init.kdf = crypto::Argon2Params::ForTests();
  EXPECT_EQ(Repository::Init(store_, "other", init).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(RepoTest, AddListAndRemoveKeySlots) {
  auto second = repo_->AddKey("second passphrase", crypto::Argon2Params::ForTests());
  ASSERT_TRUE(second.ok());
  auto keys = repo_->ListKeys();
  ASSERT_EQ(keys->size(), 2u);
  int current = 0;
  for (const auto& k : *keys) {
    current += k.current;
    EXPECT_FALSE(k.host.empty());
    EXPECT_EQ(k.created_ms, clock_.NowMillis());
  }
  EXPECT_EQ(current, 1);

  auto via_second = Repository::Open(store_, "second passphrase", {&clock_});
  ASSERT_TRUE(via_second.ok());
  EXPECT_EQ((*via_second)->current_key_id(), *second);

  // The slot in use may go while another exists; the last one never.
  ASSERT_TRUE(repo_->RemoveKey(repo_->current_key_id().substr(0, 10)).ok());
  EXPECT_EQ(Repository::Open(store_, "correct horse").status().code(), StatusCode::kPermissionDenied);
  Status last = (*via_second)->RemoveKey(*second);
  EXPECT_EQ(last.code(), StatusCode::kFailedPrecondition) << last.ToString();
  EXPECT_EQ(repo_->RemoveKey("ffff").code(), StatusCode::kNotFound);
}

TEST_F(RepoTest, KeyFileSlotOpensWithTheKeyFileOnly) {
  crypto::SecureBytes key = NewKeyFile();
  ASSERT_TRUE(IsKeyFile(key.view())) << key.view();
  EXPECT_EQ(key.view().substr(0, 18), "ailee-repo-key-v1:");
  EXPECT_FALSE(IsKeyFile("correct horse"));
  EXPECT_FALSE(IsKeyFile(std::string(key.view()) + "\n"));
  EXPECT_EQ(repo_->AddKeyFile("correct horse").status().code(), StatusCode::kInvalidArgument);

  auto id = repo_->AddKeyFile(key.view());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto slot = store_->Get("keys/" + *id);
  EXPECT_NE(slot->find("\"hkdf-sha256\""), std::string::npos) << *slot;
  EXPECT_EQ(slot->find(std::string(key.view().substr(18))), std::string::npos) << "the key itself is not stored";

  auto via_key = Repository::Open(store_, key.view(), {&clock_});
  ASSERT_TRUE(via_key.ok()) << via_key.status().ToString();
  EXPECT_EQ((*via_key)->current_key_id(), *id);
  EXPECT_EQ((*via_key)->master_key().data_key, repo_->master_key().data_key);
  EXPECT_EQ((*via_key)->master_key().id_key, repo_->master_key().id_key);
  auto via_pass = Repository::Open(store_, "correct horse", {&clock_});
  ASSERT_TRUE(via_pass.ok());
  EXPECT_EQ((*via_pass)->current_key_id(), repo_->current_key_id());

  crypto::SecureBytes other = NewKeyFile();
  EXPECT_EQ(Repository::Open(store_, other.view(), {&clock_}).status().code(), StatusCode::kPermissionDenied);

  auto keys = repo_->ListKeys();
  ASSERT_EQ(keys->size(), 2u);
  for (const auto& k : *keys) {
    EXPECT_EQ(k.kind, k.id == *id ? KeySlotKind::kKeyFile : KeySlotKind::kPassphrase) << k.id;
  }
}

TEST_F(RepoTest, KeyFileSlotsAreTriedBeforeAnyArgon2Derivation) {
  crypto::SecureBytes key = NewKeyFile();
  ASSERT_TRUE(repo_->AddKeyFile(key.view()).ok());
  // A passphrase slot whose Argon2id would need 1 PiB: deriving it fails
  // with kResourceExhausted, which aborts Open. Opening with the key file
  // must never get there.
  std::string huge = R"({"version":1,"created_ms":0,"host":"h","user":"u",)"
                     R"("kdf":{"algorithm":"argon2id","ops_limit":1,"mem_limit":1125899906842624,)"
                     R"("salt":"00000000000000000000000000000000"},"master":"00"})";
  ASSERT_TRUE(store_->Put("keys/" + IdHex(crypto::Sha256(huge)), huge).ok());
  auto r = Repository::Open(store_, key.view(), {&clock_});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(RepoTest, KeySlotFromAnotherRepositoryDoesNotOpenThisOne) {
  auto other_store = std::make_shared<storage::MemoryObjectStore>();
  auto other = InitRepo(other_store);
  auto other_keys = other_store->List("keys/");
  for (const auto& obj : *other_keys) {
    ASSERT_TRUE(store_->Put(obj.key, *other_store->Get(obj.key)).ok());
  }
  auto keys = store_->List("keys/");
  for (const auto& obj : *keys) {
    if (obj.key != "keys/" + repo_->current_key_id()) continue;
    ASSERT_TRUE(store_->Delete(obj.key).ok());
  }
  EXPECT_EQ(Repository::Open(store_, "correct horse").status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace ailee::repo::testing
