// state::DatabaseFileIdentity: what an incremental backup compares instead
// of ctime for a checkpoint's hard-linked table files.
#include <gtest/gtest.h>
#include <unistd.h>

#include "state/database_file_facts.h"
#include "state/file_identity.h"
#include "state_test_util.h"

namespace ailee::state::testing {
namespace {

// Some blocks, flushed to table files by a checkpoint taken into `flush`.
void Build(const std::string& dir, const std::string& flush, TestFederation& fed) {
  auto db = OpenDb(dir);
  ASSERT_TRUE(db);
  for (int h = 1; h <= 3; ++h) {
    std::vector<Transaction> txs;
    for (int i = 0; i < 5; ++i) txs.push_back(fed.PegIn(User(i).public_key, 10, h * 10 + i, fed.pegin_nonce++));
    ASSERT_TRUE(db->ProduceBlock(std::move(txs), fed.key, fed.id, 1000 * h, 0, fed.federation).ok());
  }
  ASSERT_TRUE(db->CreateCheckpoint(flush).ok());
}

TEST(DatabaseFileIdentity, SameNameInARebuiltDatabaseIsAnotherTableFile) {
  TempDir tmp("identity");
  TestFederation fed_a, fed_b;
  Build(tmp.Sub("a"), tmp.Sub("a-flush"), fed_a);
  Build(tmp.Sub("b"), tmp.Sub("b-flush"), fed_b);
  auto tables = TableFilesIn(tmp.Sub("a"));
  ASSERT_FALSE(tables.empty());
  size_t compared = 0;
  for (const auto& name : tables) {
    auto a = DatabaseFileIdentity(fs::JoinPath(tmp.Sub("a"), name));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->rfind("rocksdb-sst:", 0), 0u) << *a;
    // The checkpoint's hard link is the same file.
    auto linked = DatabaseFileIdentity(fs::JoinPath(tmp.Sub("a-flush"), name));
    ASSERT_TRUE(linked.ok()) << linked.status().ToString();
    EXPECT_EQ(*linked, *a);
    auto b = DatabaseFileIdentity(fs::JoinPath(tmp.Sub("b"), name));
    if (!b.ok()) continue;  // no table file of that name in the other database
    EXPECT_NE(*b, *a) << name << ": another database's table file of the same name";
    ++compared;
  }
  EXPECT_GT(compared, 0u);
  auto current = DatabaseFileIdentity(tmp.Sub("a") + "/CURRENT");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, "");
  EXPECT_EQ(DatabaseFileIdentity(tmp.Sub("a") + "/999999.sst").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs::WriteFileAtomic(tmp.Sub("junk.sst"), std::string(4096, 'x'), 0644).ok());
  EXPECT_EQ(DatabaseFileIdentity(tmp.Sub("junk.sst")).status().code(), StatusCode::kDataLoss);
}


// A checkpoint hands over what its open database knows of each table file
// (CheckpointInfo::table_facts), so that a backup opens none of them for
// its identity: the answers are those of the files in the checkpoint, one
// for every table file there.
TEST(DatabaseFileIdentity, ACheckpointKnowsItsTableFilesAsTheFilesSay) {
  TempDir tmp("identity-facts");
  TestFederation fed;
  Build(tmp.Sub("a"), tmp.Sub("a-flush"), fed);
  auto db = OpenDb(tmp.Sub("a"));
  ASSERT_TRUE(db);
  auto info = db->CreateCheckpoint(tmp.Sub("cp"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto tables = TableFilesIn(tmp.Sub("cp"));
  ASSERT_FALSE(tables.empty());
  EXPECT_EQ(info->table_facts.size(), tables.size());
  for (const auto& name : tables) {
    auto it = info->table_facts.find(name);
    ASSERT_NE(it, info->table_facts.end()) << name << " is in the checkpoint, not in its facts";
    const std::string path = fs::JoinPath(tmp.Sub("cp"), name);
    auto identity = DatabaseFileIdentity(path);
    ASSERT_TRUE(identity.ok()) << identity.status().ToString();
    ASSERT_TRUE(it->second.identity.ok()) << it->second.identity.status().ToString();
    EXPECT_EQ(*it->second.identity, *identity) << name;
    auto advice = TableFileCompression(path);
    ASSERT_TRUE(advice.ok() && it->second.compression.ok()) << name;
    EXPECT_EQ(*it->second.compression, *advice) << name;
  }
}

}  // namespace
}  // namespace ailee::state::testing
