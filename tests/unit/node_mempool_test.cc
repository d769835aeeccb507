// The mempool verifies each signature once, at intake: a bad signature is
// refused there (alone or inside a batch, without stopping the rest of the
// batch), and the ids Take() hands to ProduceBlock name exactly the bytes
// that were verified, so no other transaction skips its check.
#include <gtest/gtest.h>

#include "node/mempool.h"
#include "state_test_util.h"

namespace ailee::node {
namespace {

using state::testing::User;

class MempoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = state::testing::OpenDb(dir_.Sub("db"));
    ASSERT_NE(db_, nullptr);
    // Users 0..2 funded with 1000 each.
    std::vector<state::Transaction> funding;
    for (int i = 0; i < 3; ++i) funding.push_back(fed_.PegIn(User(i).public_key, 1000, i, fed_.pegin_nonce++));
    Produce(std::move(funding), nullptr);
  }

  state::ProducedBlock Produce(std::vector<state::Transaction> txs, const state::VerifiedTxIds* verified) {
    auto b = db_->ProduceBlock(std::move(txs), [this](std::string_view m) { return fed_.key.Sign(m); }, fed_.id,
                               1'700'000'000'000 + static_cast<int64_t>(db_->Tip().height), 0, fed_.federation, {},
                               verified);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : state::ProducedBlock{};
  }

  static state::Transaction BadSignature(state::Transaction tx) {
    tx.signature[5] = static_cast<char>(tx.signature[5] ^ 0x40);
    return tx;
  }

  state::testing::TempDir dir_{"mempool"};
  state::testing::TestFederation fed_;
  std::unique_ptr<state::StateDb> db_;
};

TEST_F(MempoolTest, ABadSignatureIsRefusedAtIntakeAndNeverReachesABlock) {
  Mempool pool(*db_, fed_.federation, 100);
  auto refused = pool.Submit(BadSignature(state::MakeTransfer(User(0), User(1).public_key, 10, 0)));
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("signature"), std::string::npos) << refused.status().message();
  EXPECT_EQ(pool.size(), 0u);
  // The sender's honest transaction with the same nonce is still welcome.
  ASSERT_TRUE(pool.Submit(state::MakeTransfer(User(0), User(1).public_key, 10, 0)).ok());
  Mempool::Taken taken = pool.Take(10);
  ASSERT_EQ(taken.txs.size(), 1u);
  auto block = Produce(taken.txs, &taken.verified);
  EXPECT_TRUE(block.rejected.empty());
  ASSERT_EQ(block.block.transactions.size(), 1u);
  EXPECT_EQ(block.block.transactions[0], state::MakeTransfer(User(0), User(1).public_key, 10, 0));
}

TEST_F(MempoolTest, ABatchRefusesItsBadTransactionAndAdmitsTheRestInOrder) {
  Mempool pool(*db_, fed_.federation, 100);
  std::vector<state::Transaction> batch = {
      state::MakeTransfer(User(0), User(2).public_key, 5, 0),
      state::MakeTransfer(User(0), User(2).public_key, 6, 1),  // the same sender's next nonce
      BadSignature(state::MakeTransfer(User(1), User(2).public_key, 7, 0)),
      state::MakeTransfer(User(2), User(0).public_key, 8, 0),
      state::MakePegFreezeTx(true, "incident", "alice"),  // control records: admin endpoints only
  };
  auto results = pool.SubmitBatch(batch, 2);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].status().ToString();
  EXPECT_EQ(results[2].status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[3].ok()) << results[3].status().ToString();
  EXPECT_EQ(results[4].status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(*results[0], state::TxId(batch[0]));
  EXPECT_EQ(pool.size(), 3u);
  // A batch submitted twice: every transaction is already pending.
  auto again = pool.SubmitBatch({batch[0]}, 2);
  EXPECT_EQ(again[0].status().code(), StatusCode::kAlreadyExists);

  Mempool::Taken taken = pool.Take(10);
  EXPECT_EQ(taken.verified, (state::VerifiedTxIds{state::TxId(batch[0]), state::TxId(batch[1]), state::TxId(batch[3])}));
  auto block = Produce(taken.txs, &taken.verified);
  EXPECT_TRUE(block.rejected.empty());
  EXPECT_EQ(block.block.transactions, (std::vector<state::Transaction>{batch[0], batch[1], batch[3]}));
}

// ProduceBlock trusts `verified` only for the exact bytes named: the
// mechanism that spares the second verification, and its limits.
TEST_F(MempoolTest, OnlyTheVerifiedBytesSkipTheSignatureCheckAtProduction) {
  const state::Transaction good = state::MakeTransfer(User(0), User(1).public_key, 10, 0);
  const state::Transaction forged = BadSignature(good);  // same fields, other signature: another id
  ASSERT_NE(state::TxId(good), state::TxId(forged));
  const state::VerifiedTxIds verified = {state::TxId(good)};
  auto block = Produce({forged}, &verified);
  ASSERT_EQ(block.rejected.size(), 1u);
  EXPECT_NE(block.rejected[0].reason.message().find("signature"), std::string::npos);
  EXPECT_TRUE(block.block.transactions.empty());

  // A peg-in is verified at production whatever the set says (its key is
  // the epoch's in force at the block).
  state::Transaction pegin = fed_.PegIn(User(1).public_key, 5, 99, fed_.pegin_nonce);
  pegin = BadSignature(pegin);
  const state::VerifiedTxIds pegin_listed = {state::TxId(pegin)};
  block = Produce({pegin}, &pegin_listed);
  EXPECT_EQ(block.rejected.size(), 1u);

  // What the mempool's ids buy: a listed transfer is not verified again
  // (shown with a signature that would fail: only the caller's intake
  // check may put an id in the set).
  const state::VerifiedTxIds forged_listed = {state::TxId(forged)};
  block = Produce({forged}, &forged_listed);
  EXPECT_TRUE(block.rejected.empty());
  EXPECT_EQ(block.block.transactions.size(), 1u);
}

}  // namespace
}  // namespace ailee::node
