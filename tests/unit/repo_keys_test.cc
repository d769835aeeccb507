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
