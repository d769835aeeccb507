// A chain across federation epochs on real RocksDB: a threshold rotation and
// then a break-glass one, produced by one StateDb and applied by a second
// (a follower); retired signers; the peg freeze; checkpoints inside it.
#include <gtest/gtest.h>

#include "state/control_records.h"
#include "state/state_db.h"
#include "state/verify.h"
#include "state_federation_testing.h"
#include "state_tamper.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::MakeChange;
using testing::MakeFederation;
using testing::OpenDb;
using testing::SignAs;
using testing::SignerKey;
using testing::TempDir;
using testing::User;

constexpr uint64_t kAnchorInterval = 4;  // anchors every 4 blocks: they must follow the epochs too

class FederationChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = OpenDb(dir_.Sub("leader"));
    follower_ = OpenDb(dir_.Sub("follower"));
    ASSERT_TRUE(leader_ && follower_);
  }

  // Produces the next block signed by `signer` and applies it to the follower.
  Result<ProducedBlock> Produce(const std::string& signer, std::vector<Transaction> txs = {}) {
    ASSIGN_OR_RETURN(ProducedBlock b, leader_->ProduceBlock(std::move(txs), SignAs(signer), signer, ++now_, kAnchorInterval,
                                                            genesis_));
    RETURN_IF_ERROR(follower_->ApplyBlock(b.block, genesis_, kAnchorInterval));
    return b;
  }
  void ProduceOk(const std::string& signer, std::vector<Transaction> txs = {}, size_t rejected = 0) {
    auto b = Produce(signer, std::move(txs));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->rejected.size(), rejected) << (b->rejected.empty() ? "" : b->rejected[0].reason.ToString());
  }
  // The leader's chain id, the hash of its block 1 (produced first).
  crypto::Hash256 ChainId() const {
    auto first = leader_->GetBlock(1);
    EXPECT_TRUE(first.ok()) << first.status().ToString();
    return first.ok() ? first->header.Hash() : crypto::Hash256{};
  }
  Transaction PegIn(const std::string& signer, uint64_t nonce, int btc) {
    auto tx = MakePegIn(SignerKey(signer), signer, User(0).public_key, 100, testing::BtcTxid(btc), nonce);
    EXPECT_TRUE(tx.ok());
    return *tx;
  }
  // Epoch 1 (threshold, signers 02..04, from 01+02 of genesis) at height 3,
  // then epoch 2 (break_glass: 03 and 05, approved by both) at height 6.
  void TwoRotations() {
    ProduceOk("signer-01", {PegIn("signer-01", 0, 1)});
    ProduceOk("signer-01");
    FederationChange first =
        MakeChange(ChainId(), genesis_, 0, MakeFederation({"signer-02", "signer-03", "signer-04"}, 2), 3,
                   {"signer-01", "signer-02"});
    ProduceOk("signer-01", {MakeFederationChangeTx(first)});
    ProduceOk("signer-02", {PegIn("signer-04", 0, 2)});
    ProduceOk("signer-04");
    auto history = leader_->Federations(genesis_);
    ASSERT_TRUE(history.ok());
    FederationChange glass =
        MakeChange(ChainId(), history->Current().federation, 1, MakeFederation({"signer-03", "signer-05"}, 2), 6,
                   {"signer-03", "signer-05"}, ChangeAuthorization::kBreakGlass, "signer-02 and signer-04 compromised");
    ProduceOk("signer-03", {MakeFederationChangeTx(glass)});
    ProduceOk("signer-05");
    ProduceOk("signer-03");
  }

  TempDir dir_{"fedchain"};
  Federation genesis_ = MakeFederation({"signer-01", "signer-02", "signer-03"}, 2);
  std::unique_ptr<StateDb> leader_, follower_;
  int64_t now_ = 1'700'000'000'000;
};

TEST_F(FederationChainTest, TwoEpochsProduceApplyRecomputeAndVerifyOnBothNodes) {
  TwoRotations();
  ASSERT_EQ(leader_->Tip().height, 8u);
  EXPECT_EQ(leader_->Tip().state_root, follower_->Tip().state_root);
  for (StateDb* db : {leader_.get(), follower_.get()}) {
    auto h = db->Federations(genesis_);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(h->epochs().size(), 3u);
    EXPECT_EQ(h->epochs()[1].start_height, 4u);
    EXPECT_EQ(h->epochs()[2].start_height, 7u);
    EXPECT_EQ(h->Current().change->authorization, ChangeAuthorization::kBreakGlass);
    auto check = db->RecomputeStateRoot();
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->ok());
  }
  leader_.reset();
  follower_.reset();
  for (const char* node : {"leader", "follower"}) {
    SCOPED_TRACE(node);
    VerifyOptions vo;
    vo.federation = genesis_;
    vo.check_transaction_signatures = true;
    auto report = VerifyState(dir_.Sub(node), vo);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << (report->problems.empty() ? "" : report->problems.front());
    EXPECT_EQ(report->blocks_checked, 8u);
    // Reopened: the epochs come back from the control column family.
    auto db = OpenDb(dir_.Sub(node));
    ASSERT_NE(db, nullptr);
    auto h = db->Federations(genesis_);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->epochs().size(), 3u);
    // A config whose federation was edited after the rotation is named.
    auto edited = db->Federations(MakeFederation({"signer-02", "signer-03", "signer-04"}, 2));
    EXPECT_EQ(edited.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(edited.status().message().find("edited after a rotation"), std::string::npos);
  }
}

TEST_F(FederationChainTest, ARetiredSignersBlockIsRejectedNamingWhenItLeft) {
  TwoRotations();
  // The leader refuses to sign for signer-01 (left at 4) and names why.
  auto refused = leader_->ProduceBlock({}, SignAs("signer-01"), "signer-01", ++now_, kAnchorInterval, genesis_);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("left the federation at height 4 (epoch 1, threshold)"), std::string::npos)
      << refused.status().message();
  // A block signed by signer-04 after the break-glass change, made by hand
  // (its key is compromised: the attacker signs a block that re-executes).
  auto forged = leader_->ProduceBlock({}, SignAs("signer-03"), "signer-03", ++now_, kAnchorInterval, genesis_);
  ASSERT_TRUE(forged.ok());
  Block b = forged->block;
  b.header.signer_id = "signer-04";
  b.header.signature = *SignerKey("signer-04").Sign(crypto::HashToString(b.header.Hash()));
  Status st = follower_->ApplyBlock(b, genesis_, kAnchorInterval);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("block 9 is signed by signer-04, which left the federation at height 7 (epoch 2, "
                              "break_glass: signer-02 and signer-04 compromised)"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(follower_->Tip().height, 8u);
  // A peg-in by a retired signer is invalid too.
  EXPECT_EQ(follower_->CheckTransaction(PegIn("signer-02", 0, 9), genesis_).code(), StatusCode::kInvalidArgument);
}

TEST_F(FederationChainTest, ChangesThatDoNotFollowTheChainAreRefused) {
  ProduceOk("signer-01");
  // Two approvals are needed; one is dropped by the leader, and a follower
  // refuses a block that carries it.
  FederationChange weak = MakeChange(ChainId(), genesis_, 0, MakeFederation({"signer-02"}, 1), 2, {"signer-01"});
  auto b = leader_->ProduceBlock({MakeFederationChangeTx(weak)}, SignAs("signer-01"), "signer-01", ++now_, kAnchorInterval,
                                 genesis_);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_NE(b->rejected[0].reason.message().find("1 approval from the outgoing federation, threshold is 2"),
            std::string::npos);
  ASSERT_TRUE(follower_->ApplyBlock(b->block, genesis_, kAnchorInterval).ok());
  // Replaying epoch 1's change later (its activation re-filled) is refused.
  FederationChange first =
      MakeChange(ChainId(), genesis_, 0, MakeFederation({"signer-02", "signer-03"}, 1), 3, {"signer-01", "signer-02"});
  ProduceOk("signer-01", {MakeFederationChangeTx(first)});
  FederationChange replay = first;
  replay.activation_height = 5;
  EXPECT_EQ(leader_->CheckTransaction(MakeFederationChangeTx(replay), genesis_).code(), StatusCode::kInvalidArgument);
  // Two changes in one block: the second is dropped.
  auto h = leader_->Federations(genesis_);
  ASSERT_TRUE(h.ok());
  FederationChange a =
      MakeChange(ChainId(), h->Current().federation, 1, MakeFederation({"signer-02"}, 1), 4, {"signer-02"});
  FederationChange c =
      MakeChange(ChainId(), h->Current().federation, 1, MakeFederation({"signer-03"}, 1), 4, {"signer-03"});
  ProduceOk("signer-02", {MakeFederationChangeTx(a), MakeFederationChangeTx(c)}, 1);
}

TEST_F(FederationChainTest, FrozenPegsAreRefusedDroppedAndMakeABlockInvalid) {
  ProduceOk("signer-01", {PegIn("signer-01", 0, 1)});
  const uint64_t freeze_height = 2;
  // The freeze applies from the next transaction of its own block on.
  ProduceOk("signer-01", {MakePegFreezeTx(true, "incident 7", "alice"), PegIn("signer-01", 1, 2)}, 1);
  auto frozen = leader_->PegsFrozen();
  ASSERT_TRUE(frozen.has_value());
  EXPECT_EQ(frozen->since_height, freeze_height);
  EXPECT_EQ(frozen->reason, "incident 7");
  EXPECT_TRUE(follower_->PegsFrozen().has_value());

  Status st = leader_->CheckTransaction(PegIn("signer-01", 1, 3), genesis_);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "peg-ins and peg-outs are frozen since height 2 (reason: incident 7); transfers continue");
  EXPECT_EQ(leader_->CheckTransaction(MakePegOut(User(0), "bc1qexample", 10, 0), genesis_).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(leader_->CheckTransaction(MakeTransfer(User(0), User(1).public_key, 10, 0), genesis_).ok());
  Status again = leader_->CheckTransaction(MakePegFreezeTx(true, "again", "bob"), genesis_);
  EXPECT_NE(again.message().find("already frozen since height 2"), std::string::npos) << again.message();

  // A checkpoint taken inside the freeze opens frozen.
  ASSERT_TRUE(leader_->CreateCheckpoint(dir_.Sub("cp")).ok());
  {
    auto cp = OpenDb(dir_.Sub("cp"), /*read_only=*/true);
    ASSERT_NE(cp, nullptr);
    ASSERT_TRUE(cp->PegsFrozen().has_value());
    EXPECT_EQ(cp->PegsFrozen()->since_height, freeze_height);
  }

  // A crafted block with a peg-in while frozen, correctly signed by a
  // member (a leader that ignores the freeze): the peg-in is refused before
  // the state root is even compared.
  Block b;
  b.header.height = 3;
  b.header.prev_hash = follower_->Tip().block_hash;
  b.header.timestamp_ms = ++now_;
  b.transactions = {PegIn("signer-01", 1, 4)};
  b.header.tx_root = TxRoot(b.transactions);
  b.header.state_root = follower_->Tip().state_root;
  b.header.signer_id = "signer-01";
  b.header.signature = *SignerKey("signer-01").Sign(crypto::HashToString(b.header.Hash()));
  Status applied = follower_->ApplyBlock(b, genesis_, kAnchorInterval);
  EXPECT_EQ(applied.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(applied.message().find("block 3: transaction 0"), std::string::npos) << applied.message();
  EXPECT_NE(applied.message().find("frozen since height 2"), std::string::npos) << applied.message();

  // Unfreeze: pegs flow again; unfreezing twice is refused.
  ProduceOk("signer-01", {MakePegFreezeTx(false, "all clear", "alice"), PegIn("signer-01", 1, 5)});
  EXPECT_FALSE(leader_->PegsFrozen().has_value());
  EXPECT_FALSE(follower_->PegsFrozen().has_value());
  EXPECT_EQ(leader_->CheckTransaction(MakePegFreezeTx(false, "x", "y"), genesis_).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(FederationChainTest, StoredEpochsThatDisagreeWithTheBlocksAreDataLossInVerify) {
  TwoRotations();
  leader_.reset();
  const std::string dir = dir_.Sub("leader");
  // Remove the stored epoch 2: the block at 6 carries a change with no epoch.
  ASSERT_TRUE(tamper::DeleteRawValue(dir, kCfControl, EpochKey(2)).ok());
  VerifyOptions vo;
  vo.federation = genesis_;
  auto report = VerifyState(dir, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  bool named = false;
  for (const auto& p : report->problems) named = named || p.find("block 6") != std::string::npos;
  EXPECT_TRUE(named) << (report->problems.empty() ? "" : report->problems.front());
}

// A staging chain run with the production keys: its epoch 0 has the same
// members, so a change approved there passes every check but the chain id.
TEST_F(FederationChainTest, AChangeApprovedForAnotherChainIsDroppedNamingBothChains) {
  ProduceOk("signer-01");
  TempDir staging_dir("fedchain-staging");
  auto staging = OpenDb(staging_dir.Sub("db"));
  ASSERT_NE(staging, nullptr);
  ASSERT_TRUE(staging->ProduceBlock({}, SignAs("signer-01"), "signer-01", now_ + 1000, kAnchorInterval, genesis_).ok());
  const crypto::Hash256 staging_id = staging->GetBlock(1)->header.Hash();
  ASSERT_NE(staging_id, ChainId());
  FederationChange foreign =
      MakeChange(staging_id, genesis_, 0, MakeFederation({"signer-02", "signer-03"}, 1), 2, {"signer-01", "signer-02"});
  // The staging chain takes it; this one refuses it (the admin API's check)
  // and the leader drops it from the block it produces.
  EXPECT_TRUE(staging->CheckTransaction(MakeFederationChangeTx(foreign), genesis_).ok());
  Status refused = leader_->CheckTransaction(MakeFederationChangeTx(foreign), genesis_);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("approved for another chain"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find(crypto::HashToHex(staging_id).substr(0, 16)), std::string::npos);
  EXPECT_NE(refused.message().find(crypto::HashToHex(ChainId()).substr(0, 16)), std::string::npos);
  ProduceOk("signer-01", {MakeFederationChangeTx(foreign)}, 1);
  auto h = follower_->Federations(genesis_);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->epochs().size(), 1u);
  EXPECT_EQ(h->chain_id(), std::optional<crypto::Hash256>(ChainId()));
}

// A stored epoch whose change names another chain (written behind the
// node's back): verify-state names it, and the node does not take it on open.
TEST_F(FederationChainTest, AStoredEpochForAnotherChainFailsVerifyAndOpen) {
  TwoRotations();
  auto history = leader_->Federations(genesis_);
  ASSERT_TRUE(history.ok());
  FederationEpoch forged = history->epochs()[1];
  forged.change = MakeChange(crypto::Sha256("block 1 of a staging chain"), genesis_, 0, forged.federation, 3,
                             {"signer-01", "signer-02"});
  leader_.reset();
  const std::string dir = dir_.Sub("leader");
  ASSERT_TRUE(tamper::OverwriteRawValue(dir, kCfControl, EpochKey(1), EncodeEpochRecord(forged)).ok());
  VerifyOptions vo;
  vo.federation = genesis_;
  auto report = VerifyState(dir, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  bool named = false;
  for (const auto& p : report->problems) {
    named = named || (p.find("federation epoch 1") != std::string::npos &&
                      p.find("approved for another chain") != std::string::npos);
  }
  EXPECT_TRUE(named) << (report->problems.empty() ? "" : report->problems.front());
  auto reopened = OpenDb(dir);
  ASSERT_NE(reopened, nullptr);
  auto refused = reopened->Federations(genesis_);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("approved for another chain"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("run verify-state"), std::string::npos) << refused.status().ToString();
}

}  // namespace
}  // namespace ailee::state
