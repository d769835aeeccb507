// EmergencyControl over a real StateDb: the halt is durable (a reopened
// database still holds it) and refused requests write nothing; a freeze
// that the chain would refuse is refused before it is queued (the queue of
// control records it then goes through: node_control_queue_test.cc).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "base/fs.h"
#include "node/emergency.h"
#include "state_federation_testing.h"

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
  }
  EXPECT_NE(control.Halt({"", "a"}, 1).message().find("reason is required: say why, it is audited"), std::string::npos);
  EXPECT_FALSE(control.halt());
  auto stored = db_->GetLocal("halt");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(EmergencyControlTest, DamagedHaltRecordIsDataLossNotSilentlyResumed) {
  ASSERT_TRUE(db_->PutLocal("halt", "{not json").ok());
  EmergencyControl control(*db_);
  Status st = control.Load();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

TEST_F(EmergencyControlTest, AFreezeTheChainWouldRefuseIsRefusedFirst) {
  Status unfreeze = CheckPegFreezeChange(*db_, false);
  EXPECT_EQ(unfreeze.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unfreeze.message().find("not frozen"), std::string::npos) << unfreeze.ToString();
  EXPECT_TRUE(CheckPegFreezeChange(*db_, true).ok());

  state::Federation genesis = state::testing::MakeFederation({"signer-01"}, 1);
  auto b = db_->ProduceBlock({state::MakePegFreezeTx(true, "bridge exposed", "carol")},
                             state::testing::SignAs("signer-01"), "signer-01", 1'700'000'000'000, 0, genesis);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE(b->rejected.empty());
  Status twice = CheckPegFreezeChange(*db_, true);
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.message().find("already frozen since height 1 (reason: bridge exposed)"), std::string::npos)
      << twice.ToString();
  EXPECT_TRUE(CheckPegFreezeChange(*db_, false).ok());
}

}  // namespace
}  // namespace ailee::node
