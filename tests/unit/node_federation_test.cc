// The leader's signer against the chain's epochs, and the mempool in front
// of a chain with a rotation and a freeze (the queue of control records:
// node_control_queue_test.cc).
#include <gtest/gtest.h>

#include "node/mempool.h"
#include "node/signer_epoch.h"
#include "state_federation_testing.h"
#include "state_test_util.h"

namespace ailee::node {
namespace {

using state::testing::MakeChange;
using state::testing::MakeFederation;
using state::testing::SignerKey;
using state::testing::TestChainId;

state::FederationHistory TwoEpochs() {
  state::Federation genesis = MakeFederation({"signer-01", "signer-02", "signer-03"}, 2);
  state::FederationHistory h(genesis);
  h.SetChainId(TestChainId());
  auto change = MakeChange(TestChainId(), genesis, 0, MakeFederation({"signer-02", "signer-03", "signer-04"}, 2), 10,
                           {"signer-02", "signer-03"}, state::ChangeAuthorization::kBreakGlass, "signer-01 stolen");
  // Break-glass is approved by the incoming: signer-02 and signer-03 are both.
  EXPECT_TRUE(h.Append(change, 10, crypto::Sha256("tx")).ok());
  return h;
}

TEST(SignerEpoch, ASignerAddedByALaterEpochSignsWithItsChainKey) {
  auto h = TwoEpochs();
  EXPECT_TRUE(CheckSignerKeyInChain(h, "signer-04", SignerKey("signer-04").public_key()).ok());
  EXPECT_TRUE(CheckMaySign(h, "signer-04", 11).ok());
  Status wrong_key = CheckSignerKeyInChain(h, "signer-04", SignerKey("signer-05").public_key());
  EXPECT_EQ(wrong_key.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_key.message().find("is not signer-04's key in federation epoch 1"), std::string::npos);
  // Before its epoch it may not sign yet.
  EXPECT_EQ(CheckMaySign(h, "signer-04", 10).code(), StatusCode::kFailedPrecondition);
}

TEST(SignerEpoch, ARotatedOutSignerMayNotSignAndIsToldWhy) {
  auto h = TwoEpochs();
  EXPECT_TRUE(CheckMaySign(h, "signer-01", 10).ok());  // the change's own block
  Status st = CheckMaySign(h, "signer-01", 11);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("left the federation at height 11 (epoch 1, break_glass: signer-01 stolen)"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("signer-02, signer-03, signer-04"), std::string::npos) << st.message();
  EXPECT_NE(CheckMaySign(h, "signer-09", 11).message().find("never a member"), std::string::npos);
}

// The mempool in front of a chain with a rotation and a freeze.
TEST(MempoolFederation, RefusesControlRecordsAndFrozenPegsAndKnowsTheNewSigners) {
  state::testing::TempDir dir("mempool-fed");
  auto db = state::testing::OpenDb(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  state::Federation genesis = MakeFederation({"signer-01", "signer-02"}, 1);
  auto produce = [&](std::vector<state::Transaction> txs) {
    auto b = db->ProduceBlock(std::move(txs), state::testing::SignAs("signer-01"), "signer-01",
                              1'700'000'000'000 + static_cast<int64_t>(db->Tip().height), 0, genesis);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(b->rejected.empty()) << b->rejected[0].reason.ToString();
  };
  produce({});  // block 1: its hash is the chain id the change names
  const crypto::Hash256 chain_id = db->GetBlock(1)->header.Hash();
  produce({state::MakeFederationChangeTx(
      MakeChange(chain_id, genesis, 0, MakeFederation({"signer-01", "signer-04"}, 1), 2, {"signer-01"}))});
  Mempool pool(*db, genesis, 100);
  auto pegin = [](const std::string& signer, int btc) {
    auto tx = state::MakePegIn(SignerKey(signer), signer, state::testing::User(0).public_key, 5,
                               state::testing::BtcTxid(btc), 0);
    EXPECT_TRUE(tx.ok());
    return *tx;
  };
  // signer-04 joined at height 3; signer-02 left there.
  EXPECT_TRUE(pool.Submit(pegin("signer-04", 1)).ok());
  EXPECT_EQ(pool.Submit(pegin("signer-02", 2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool.Submit(state::MakePegFreezeTx(true, "incident", "alice")).status().code(),
            StatusCode::kPermissionDenied);

  produce({state::MakePegFreezeTx(true, "incident", "alice")});
  auto frozen = pool.Submit(pegin("signer-01", 3));
  EXPECT_EQ(frozen.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(frozen.status().message().find("frozen since height 3 (reason: incident); transfers continue"),
            std::string::npos)
      << frozen.status().message();
}

}  // namespace
}  // namespace ailee::node
