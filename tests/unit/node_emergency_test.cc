// EmergencyControl over a real StateDb: the halt is durable (a reopened
// database still holds it), refused requests write nothing, and a freeze
// request learns the height of the block that carried it, its refusal, or
// that no block came (then it is withdrawn, never half-queued).
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <string>

#include "base/fs.h"
#include "node/emergency.h"

namespace ailee::node {
namespace {

class EmergencyControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-emergency-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    db_.reset();
    (void)fs::RemoveAll(dir_);
  }
  void Reopen() {
    db_.reset();
    auto db = state::StateDb::Open(dir_, state::OpenOptions{});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  std::string dir_;
  std::unique_ptr<state::StateDb> db_;
};

TEST_F(EmergencyControlTest, HaltSurvivesReopenAndResumeClearsIt) {
  EmergencyControl control(*db_);
  ASSERT_TRUE(control.Load().ok());
  EXPECT_FALSE(control.halt());
  ASSERT_TRUE(control.Halt({"signer-01 compromised", "alice"}, 1764754200000).ok());
  Status twice = control.Halt({"again", "bob"}, 1764754300000);
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.message().find("already halted"), std::string::npos) << twice.ToString();
  EXPECT_NE(twice.message().find("by alice"), std::string::npos) << twice.ToString();

  Reopen();
  EmergencyControl after(*db_);
  ASSERT_TRUE(after.Load().ok());
  ASSERT_TRUE(after.halt());
  EXPECT_EQ(after.halt()->reason, "signer-01 compromised");
  EXPECT_EQ(after.halt()->operator_id, "alice");
  EXPECT_EQ(after.halt()->since_ms, 1764754200000);
  ASSERT_TRUE(after.Resume().ok());
  EXPECT_EQ(after.Resume().code(), StatusCode::kFailedPrecondition);

  Reopen();
  EmergencyControl resumed(*db_);
  ASSERT_TRUE(resumed.Load().ok());
  EXPECT_FALSE(resumed.halt());
}

TEST_F(EmergencyControlTest, RequestsWithoutReasonOrOperatorWriteNothing) {
  EmergencyControl control(*db_);
  for (const EmergencyRequest& bad : {EmergencyRequest{"", "alice"}, EmergencyRequest{" \n", "alice"},
                                      EmergencyRequest{"why", ""}, EmergencyRequest{std::string(1025, 'x'), "a"}}) {
    Status st = control.Halt(bad, 1);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_EQ(control.RequestPegFreeze(true, bad, 10).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_NE(control.Halt({"", "a"}, 1).message().find("reason is required: say why, it is audited"), std::string::npos);
  EXPECT_FALSE(control.halt());
  auto stored = db_->GetLocal("halt");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  EXPECT_TRUE(control.TakeControlTxs().empty());
}

TEST_F(EmergencyControlTest, DamagedHaltRecordIsDataLossNotSilentlyResumed) {
  ASSERT_TRUE(db_->PutLocal("halt", "{not json").ok());
  EmergencyControl control(*db_);
  Status st = control.Load();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

TEST_F(EmergencyControlTest, FreezeWithoutABlockIsWithdrawn) {
  EmergencyControl control(*db_);
  auto r = control.RequestPegFreeze(true, {"bridge exposed", "carol"}, 50);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("withdrawn"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(control.has_pending_control());
  EXPECT_TRUE(control.TakeControlTxs().empty());
}

TEST_F(EmergencyControlTest, FreezeLearnsItsBlockHeightOrItsRefusal) {
  EmergencyControl control(*db_);
  auto waiting = std::async(std::launch::async, [&] {
    return control.RequestPegFreeze(true, {"bridge exposed", "carol"}, 5000);
  });
  std::vector<state::Transaction> txs;
  for (int i = 0; i < 500 && txs.empty(); ++i) {
    usleep(2000);
    txs = control.TakeControlTxs();
  }
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].type, state::TxType::kPegFreeze);
  state::ProducedBlock block;
  block.block.header.height = 42;
  control.OnBlockProduced(block);
  auto height = waiting.get();
  ASSERT_TRUE(height.ok()) << height.status().ToString();
  EXPECT_EQ(*height, 42u);

  auto refused = std::async(std::launch::async, [&] {
    return control.RequestPegFreeze(true, {"bridge exposed", "carol"}, 5000);
  });
  txs.clear();
  for (int i = 0; i < 500 && txs.empty(); ++i) {
    usleep(2000);
    txs = control.TakeControlTxs();
  }
  ASSERT_EQ(txs.size(), 1u);
  state::ProducedBlock dropped;
  dropped.block.header.height = 43;
  dropped.rejected.push_back({0, state::TxId(txs[0]), FailedPrecondition("already frozen since height 42")});
  control.OnBlockProduced(dropped);
  auto outcome = refused.get();
  EXPECT_EQ(outcome.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(outcome.status().message().find("already frozen since height 42"), std::string::npos);
}

}  // namespace
}  // namespace ailee::node
