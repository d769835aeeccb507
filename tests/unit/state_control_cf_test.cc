// The `control` and `local` column families on real RocksDB: node-local
// flags, and databases made before either existed.
#include <gtest/gtest.h>

#include "state/state_db.h"
#include "state/verify.h"
#include "state_tamper.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::OpenDb;
using testing::TempDir;
using testing::TestFederation;
using testing::User;

// A database with a few blocks of peg-ins and transfers.
void MakeChain(StateDb& db, const TestFederation& fed, int blocks) {
  int64_t now = 1'700'000'000'000;
  for (int b = 0; b < blocks; ++b) {
    std::vector<Transaction> txs = {fed.PegIn(User(b).public_key, 100, b, static_cast<uint64_t>(b))};
    auto p = db.ProduceBlock(std::move(txs), fed.key, fed.id, ++now, 0, fed.federation);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(p->rejected.empty());
  }
}

TEST(LocalFlags, SurviveReopenAreCopiedByCheckpointsAndStayOutOfTheStateRoot) {
  TempDir dir("local");
  TestFederation fed;
  const std::string node = dir.Sub("node");
  {
    auto db = OpenDb(node);
    ASSERT_NE(db, nullptr);
    MakeChain(*db, fed, 2);
    const crypto::Hash256 root = db->Tip().state_root;
    ASSERT_TRUE(db->PutLocal("halt", "flag-bytes").ok());
    EXPECT_EQ(db->Tip().state_root, root);
    auto check = db->RecomputeStateRoot();
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->ok());
    ASSERT_TRUE(db->CreateCheckpoint(dir.Sub("cp")).ok());
  }
  auto db = OpenDb(node);
  ASSERT_NE(db, nullptr);
  auto v = db->GetLocal("halt");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "flag-bytes");
  auto cp = OpenDb(dir.Sub("cp"), /*read_only=*/true);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->GetLocal("halt")->value_or(""), "flag-bytes");
  EXPECT_EQ(cp->PutLocal("halt", "x").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(db->DeleteLocal("halt").ok());
  EXPECT_FALSE(db->GetLocal("halt")->has_value());
}

TEST(OlderDatabases, WithoutControlAndLocalOpenVerifyAndKeepTheirRoot) {
  TempDir dir("old");
  TestFederation fed;
  const std::string node = dir.Sub("node");
  crypto::Hash256 root{};
  {
    auto db = OpenDb(node);
    ASSERT_NE(db, nullptr);
    MakeChain(*db, fed, 3);
    root = db->Tip().state_root;
  }
  ASSERT_TRUE(tamper::DropColumnFamily(node, "control").ok());
  ASSERT_TRUE(tamper::DropColumnFamily(node, "local").ok());

  // Read-only (a checkpoint or a restored backup of an older node).
  {
    auto ro = OpenDb(node, /*read_only=*/true);
    ASSERT_NE(ro, nullptr);
    EXPECT_EQ(ro->Tip().state_root, root);
    EXPECT_FALSE(ro->PegsFrozen().has_value());
    EXPECT_FALSE(ro->GetLocal("halt")->has_value());
    auto history = ro->Federations(fed.federation);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->epochs().size(), 1u);
    auto check = ro->RecomputeStateRoot();
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->ok());
    EXPECT_EQ(check->recomputed_root, root);
  }
  VerifyOptions vo;
  vo.federation = fed.federation;
  auto report = VerifyState(node, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << (report->problems.empty() ? "" : report->problems.front());
  EXPECT_EQ(report->state_root, root);

  // Read-write: the families are created, the root is unchanged, blocks go on.
  auto db = OpenDb(node);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Tip().state_root, root);
  auto p = db->ProduceBlock({}, fed.key, fed.id, 1'800'000'000'000, 0, fed.federation);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(db->PutLocal("halt", "x").ok());
}

}  // namespace
}  // namespace ailee::state
