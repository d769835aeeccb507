// state::TakeOfflineCheckpoint opens the stopped node's database read-write
// but runs no compaction: the checkpoint holds the data dir's table files,
// which an incremental backup finds unchanged, and the data dir keeps them.
#include <gtest/gtest.h>

#include <algorithm>

#include "state/checkpoint.h"
#include "state/internal/rocks.h"
#include "state/records.h"
#include "state_test_util.h"

namespace ailee::state::testing {
namespace {

// A data dir whose level 0 holds more table files than the compaction
// trigger (4): each block flushed on its own, with compactions off.
void BuildUncompacted(const std::string& dir, const std::string& scratch, TestFederation& fed) {
  OpenOptions o;
  o.compact = false;
  auto db = StateDb::Open(dir, o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(fs::MakeDirs(scratch).ok());
  for (int h = 1; h <= 6; ++h) {
    std::vector<Transaction> txs;
    for (int i = 0; i < 3; ++i) txs.push_back(fed.PegIn(User(i).public_key, 10, h * 10 + i, fed.pegin_nonce++));
    ASSERT_TRUE((*db)->ProduceBlock(std::move(txs), fed.key, fed.id, 1000 * h, 0, fed.federation).ok());
    auto flushed = (*db)->CreateCheckpoint(fs::JoinPath(scratch, std::to_string(h)));  // flushes
    ASSERT_TRUE(flushed.ok()) << flushed.status().ToString();
  }
}

TEST(OfflineCheckpoint, RunsNoCompactionOnADataDirThatWouldCompact) {
  TempDir tmp("offline-cp");
  TestFederation fed;
  const std::string data = tmp.Sub("data");
  BuildUncompacted(data, tmp.Sub("flushes"), fed);
  {
    // The data dir is due a compaction: a normal open would start one.
    auto rdb = internal::RocksDb::Open(data, false, false, /*compact=*/false);
    ASSERT_TRUE(rdb.ok()) << rdb.status().ToString();
    uint64_t pending = 0;
    ASSERT_TRUE((*rdb)->db()->GetIntProperty((*rdb)->cf(kCfBlocks), "rocksdb.compaction-pending", &pending));
    ASSERT_EQ(pending, 1u);
  }
  const auto before = TableFilesIn(data);
  ASSERT_GT(before.size(), 4u);

  auto m = TakeOfflineCheckpoint(data, "node-1", tmp.Sub("cp"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Exactly the data dir's table files, no compaction output; and the data
  // dir, its database closed again, still holds the same ones.
  EXPECT_EQ(TableFilesIn(tmp.Sub("cp")), before);
  EXPECT_EQ(TableFilesIn(data), before);
}

}  // namespace
}  // namespace ailee::state::testing
