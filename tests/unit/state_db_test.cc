// StateDb against real RocksDB in temporary directories: validation,
// sequencer/follower agreement, rejection of bad blocks, checkpoints,
// tampering detection, anchors, reopen.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hex.h"
#include "state/state_db.h"
#include "state/state_root.h"
#include "state/verify.h"
#include "state_tamper.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::OpenDb;
using testing::TempDir;
using testing::TestFederation;
using testing::User;

constexpr uint64_t kInterval = 4;

class StateDbTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = OpenDb(dir_.Sub("node")); ASSERT_NE(db_, nullptr); }

  ProducedBlock Produce(std::vector<Transaction> txs, StateDb* db = nullptr) {
    db = db ? db : db_.get();
    auto b = db->ProduceBlock(std::move(txs), fed_.key, fed_.id, ++now_, kInterval, fed_.federation);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : ProducedBlock{};
  }
  // Funds users 0..n-1 with 1000 each through peg-ins in one block.
  void Fund(int n) {
    std::vector<Transaction> txs;
    for (int i = 0; i < n; ++i) txs.push_back(fed_.PegIn(User(i).public_key, 1000, next_btc_++, fed_.pegin_nonce++));
    ASSERT_TRUE(Produce(txs).rejected.empty());
  }
  Account Acc(int user) {
    auto a = db_->GetAccount(HexEncode(User(user).public_key));
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : Account{};
  }

  TempDir dir_{"db"};
  TestFederation fed_;
  std::unique_ptr<StateDb> db_;
  int64_t now_ = 1'700'000'000'000;
  int next_btc_ = 0;
};

TEST_F(StateDbTest, FreshDatabaseIsTheEmptyGenesisState) {
  ChainTip tip = db_->Tip();
  EXPECT_EQ(tip.height, 0u);
  EXPECT_EQ(tip.block_hash, crypto::Hash256{});
  EXPECT_EQ(tip.state_root, EmptyStateRoot());
  EXPECT_FALSE(tip.last_anchor_height);
  EXPECT_EQ(db_->GetBlock(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->GetAccount(HexEncode(User(0).public_key)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->GetAccount("xyz").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StateDbTest, TransfersMoveBalanceAndBumpNonce) {
  Fund(2);
  auto b = Produce({MakeTransfer(User(0), User(1).public_key, 300, 0, "rent"),
                    MakeTransfer(User(0), User(5).public_key, 100, 1), MakePegOut(User(1), "bc1qxyz", 50, 0)});
  EXPECT_TRUE(b.rejected.empty());
  EXPECT_EQ(Acc(0), (Account{600, 2, 2}));
  EXPECT_EQ(Acc(1), (Account{1250, 1, 2}));
  EXPECT_EQ(Acc(5), (Account{100, 0, 2}));  // created by the transfer
  auto pegin = db_->GetPegIn(HexEncode(testing::BtcTxid(0)));
  ASSERT_TRUE(pegin.ok());
  EXPECT_EQ(pegin->amount, 1000u);
  auto got = db_->GetTransaction(TxId(b.block.transactions[2]));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->height, 2u);
  EXPECT_EQ(got->tx, b.block.transactions[2]);
  Stats s = db_->GetStats();
  EXPECT_EQ(s.height, 2u);
  EXPECT_EQ(s.total_transactions, 5u);
  EXPECT_GT(s.live_data_bytes, 0u);
}

TEST_F(StateDbTest, EachInvalidTransactionIsRejectedAndChangesNothing) {
  Fund(2);
  ASSERT_TRUE(Produce({MakeTransfer(User(0), User(1).public_key, 10, 0)}).rejected.empty());
  Transaction bad_sig = MakeTransfer(User(0), User(1).public_key, 10, 1);
  bad_sig.signature[5] ^= 1;
  Transaction zero = MakeTransfer(User(0), User(1).public_key, 0, 1);
  auto rogue = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto unknown_signer = MakePegIn(*rogue, "signer-9", User(0).public_key, 5, testing::BtcTxid(77), 0);
  auto forged_signer = MakePegIn(*rogue, fed_.id, User(0).public_key, 5, testing::BtcTxid(78), fed_.pegin_nonce);
  struct Case {
    const char* name;
    Transaction tx;
    const char* needle;
  } cases[] = {
      {"bad signature", bad_sig, "signature"},
      {"unknown sender", MakeTransfer(User(7), User(1).public_key, 1, 0), "from: unknown account"},
      {"insufficient balance", MakeTransfer(User(0), User(1).public_key, 991, 1), "insufficient balance"},
      {"replayed nonce", MakeTransfer(User(0), User(1).public_key, 1, 0), "replayed"},
      {"future nonce", MakeTransfer(User(0), User(1).public_key, 1, 5), "nonce"},
      {"zero amount", zero, "amount"},
      {"self transfer", MakeTransfer(User(0), User(0).public_key, 1, 1), "to"},
      {"duplicate btc_txid", fed_.PegIn(User(1).public_key, 5, 0, fed_.pegin_nonce), "btc_txid"},
      {"replayed signer nonce", fed_.PegIn(User(1).public_key, 5, 50, 0), "nonce"},
      {"balance overflow", fed_.PegIn(User(1).public_key, UINT64_MAX, 51, fed_.pegin_nonce), "overflow"},
      {"unknown signer", *unknown_signer, "signer"},
      {"forged signer", *forged_signer, "signature"},
      {"peg-out too large", MakePegOut(User(1), "bc1q", 5000, 0), "insufficient balance"},
  };
  const Account a0 = Acc(0), a1 = Acc(1);
  const crypto::Hash256 root = db_->Tip().state_root;
  for (const auto& c : cases) {
    Status st = db_->CheckTransaction(c.tx, fed_.federation);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.name << ": " << st.ToString();
    EXPECT_NE(st.message().find(c.needle), std::string::npos) << c.name << ": " << st.message();
    ProducedBlock b = Produce({c.tx});
    ASSERT_EQ(b.rejected.size(), 1u) << c.name;
    EXPECT_EQ(b.rejected[0].reason.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(b.block.transactions.empty());
    EXPECT_EQ(db_->Tip().state_root, root) << c.name;
    EXPECT_EQ(Acc(0), a0) << c.name;
    EXPECT_EQ(Acc(1), a1) << c.name;
    EXPECT_EQ(db_->GetTransaction(TxId(c.tx)).status().code(), StatusCode::kNotFound) << c.name;
  }
  auto check = db_->RecomputeStateRoot();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok());
  EXPECT_EQ(check->recomputed_root, root);
  // A valid tx after all that still goes through: the state was untouched.
  EXPECT_TRUE(db_->CheckTransaction(MakeTransfer(User(0), User(1).public_key, 1, 1), fed_.federation).ok());
}

TEST_F(StateDbTest, SecondTxInBlockSeesTheFirst) {
  Fund(1);
  auto b = Produce({MakeTransfer(User(0), User(1).public_key, 600, 0), MakeTransfer(User(0), User(2).public_key, 600, 1),
                    MakeTransfer(User(0), User(2).public_key, 300, 1)});
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].index, 1u);  // insufficient after the first
  EXPECT_EQ(b.block.transactions.size(), 2u);
  EXPECT_EQ(Acc(0).balance, 100u);
}

// ProduceBlock hashes each tx id once and reuses it for the rejection, the
// tx root and the stored records: with a rejected transaction between two
// kept ones, every id still belongs to its own transaction.
TEST_F(StateDbTest, TxIdsStayWithTheirTransactionsAroundARejection) {
  Fund(1);
  const Transaction first = MakeTransfer(User(0), User(1).public_key, 600, 0);
  const Transaction broke = MakeTransfer(User(0), User(2).public_key, 600, 1);  // insufficient after the first
  const Transaction last = MakeTransfer(User(0), User(2).public_key, 300, 1);
  auto b = Produce({first, broke, last});
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].tx_id, TxId(broke));
  ASSERT_EQ(b.block.transactions.size(), 2u);
  EXPECT_EQ(b.block.header.tx_root, TxRoot(b.block.transactions));
  auto stored = db_->GetBlock(b.block.header.height);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->header.tx_root, TxRoot(stored->transactions));
  for (const auto& [tx, index] : std::vector<std::pair<Transaction, uint32_t>>{{first, 0}, {last, 1}}) {
    auto included = db_->GetTransaction(TxId(tx));
    ASSERT_TRUE(included.ok()) << index << ": " << included.status().ToString();
    EXPECT_EQ(included->tx, tx);
    EXPECT_EQ(included->height, b.block.header.height);
  }
  EXPECT_EQ(db_->GetTransaction(TxId(broke)).status().code(), StatusCode::kNotFound);
}

class FollowerTest : public StateDbTest {
 protected:
  void SetUp() override {
    StateDbTest::SetUp();
    follower_ = OpenDb(dir_.Sub("follower"));
    ASSERT_NE(follower_, nullptr);
  }
  Status Apply(const Block& b) { return follower_->ApplyBlock(b, fed_.federation, kInterval); }
  // Checks that nothing about the follower changed.
  void ExpectUnchanged(const ChainTip& before) {
    ChainTip t = follower_->Tip();
    EXPECT_EQ(t.height, before.height);
    EXPECT_EQ(t.block_hash, before.block_hash);
    EXPECT_EQ(t.state_root, before.state_root);
    EXPECT_EQ(follower_->GetBlock(before.height + 1).status().code(), StatusCode::kNotFound);
    auto check = follower_->RecomputeStateRoot();
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->ok());
    EXPECT_EQ(check->recomputed_root, before.state_root);
  }
  std::unique_ptr<StateDb> follower_;
};

TEST_F(FollowerTest, ReachesTheSameRootAndAnchors) {
  Fund(3);
  for (int i = 0; i < 9; ++i) {
    Produce({MakeTransfer(User(i % 3), User((i + 1) % 3).public_key, 10 + i, static_cast<uint64_t>(i / 3))});
  }
  ASSERT_EQ(db_->Tip().height, 10u);
  for (uint64_t h = 1; h <= 10; ++h) {
    auto b = db_->GetBlock(h);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    auto wire = DecodeBlock(EncodeBlock(*b));  // as a follower would receive it
    ASSERT_TRUE(wire.ok());
    ASSERT_TRUE(Apply(*wire).ok()) << Apply(*wire).ToString();
  }
  EXPECT_EQ(follower_->Tip().block_hash, db_->Tip().block_hash);
  EXPECT_EQ(follower_->Tip().state_root, db_->Tip().state_root);
  EXPECT_EQ(follower_->Tip().last_anchor_height, std::optional<uint64_t>(8));
  auto a = follower_->LastAnchor();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->height, 8u);
  EXPECT_EQ(a->op_return_payload.size(), kAnchorPayloadSize);
  EXPECT_EQ(a->block_hash, db_->GetBlock(8)->header.Hash());
  EXPECT_TRUE(CheckAnchor(*a, &fed_.federation).ok());
  EXPECT_TRUE(follower_->GetAnchor(4).ok());
  EXPECT_EQ(follower_->GetAnchor(5).status().code(), StatusCode::kNotFound);
  // Re-applying the tip block is refused, not silently accepted.
  EXPECT_EQ(Apply(*db_->GetBlock(10)).code(), StatusCode::kFailedPrecondition);
}

TEST_F(FollowerTest, RejectsDamagedOrForgedBlocksAndWritesNothing) {
  Fund(2);
  ASSERT_TRUE(Apply(*db_->GetBlock(1)).ok());
  Produce({MakeTransfer(User(0), User(1).public_key, 10, 0)});
  const Block good = *db_->GetBlock(2);
  const ChainTip before = follower_->Tip();

  // A flipped byte anywhere in the wire encoding must not be accepted.
  const std::string wire = EncodeBlock(good);
  for (size_t i = 0; i < wire.size(); i += 7) {
    std::string bad = wire;
    bad[i] ^= 0x20;
    auto decoded = DecodeBlock(bad);
    if (!decoded.ok()) continue;
    Status st = Apply(*decoded);
    EXPECT_FALSE(st.ok()) << "byte " << i;
  }
  ExpectUnchanged(before);

  Block bad_sig = good;
  bad_sig.header.signature[0] ^= 1;
  Status st = Apply(bad_sig);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("block 2"), std::string::npos) << st.message();

  // Correctly signed by the federation key but with a wrong state root.
  Block wrong_root = good;
  wrong_root.header.state_root[0] ^= 1;
  wrong_root.header.signature = *fed_.key.Sign(crypto::HashToString(wrong_root.header.Hash()));
  st = Apply(wrong_root);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("block 2"), std::string::npos) << st.message();

  Block tampered_tx = good;
  tampered_tx.transactions[0].amount += 1;
  EXPECT_EQ(Apply(tampered_tx).code(), StatusCode::kInvalidArgument);  // tx_root no longer matches

  // Signed by a key that is not in the federation under that id.
  auto rogue = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Block rogue_signed = good;
  rogue_signed.header.signature = *rogue->Sign(crypto::HashToString(good.header.Hash()));
  EXPECT_EQ(Apply(rogue_signed).code(), StatusCode::kInvalidArgument);

  Block wrong_prev = good;
  wrong_prev.header.prev_hash[3] ^= 1;
  wrong_prev.header.signature = *fed_.key.Sign(crypto::HashToString(wrong_prev.header.Hash()));
  EXPECT_EQ(Apply(wrong_prev).code(), StatusCode::kInvalidArgument);
  ExpectUnchanged(before);

  EXPECT_TRUE(Apply(good).ok());
  EXPECT_EQ(follower_->Tip().state_root, db_->Tip().state_root);
}

TEST_F(FollowerTest, AnchorMustBePresentAndValidAtTheInterval) {
  for (int i = 0; i < 4; ++i) Produce({});
  for (uint64_t h = 1; h <= 3; ++h) ASSERT_TRUE(Apply(*db_->GetBlock(h)).ok());
  Block b4 = *db_->GetBlock(4);
  ASSERT_TRUE(b4.anchor.has_value());
  const ChainTip before = follower_->Tip();
  Block missing = b4;
  missing.anchor.reset();
  EXPECT_EQ(Apply(missing).code(), StatusCode::kInvalidArgument);
  Block bad = b4;
  bad.anchor->signature[1] ^= 1;
  EXPECT_EQ(Apply(bad).code(), StatusCode::kInvalidArgument);
  Block other = b4;
  other.anchor = *MakeAnchor(4, crypto::Sha256("x"), b4.header.state_root, fed_.key, fed_.id);
  EXPECT_EQ(Apply(other).code(), StatusCode::kInvalidArgument);
  ExpectUnchanged(before);
  EXPECT_TRUE(Apply(b4).ok());
}

TEST_F(StateDbTest, CheckpointOpensReadOnlyAndVerifies) {
  Fund(3);
  for (int i = 0; i < 6; ++i) Produce({MakeTransfer(User(i % 3), User(4).public_key, 5, static_cast<uint64_t>(i / 3))});
  const std::string cp = dir_.Sub("cp1");
  auto info = db_->CreateCheckpoint(cp);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->height, 7u);
  EXPECT_EQ(info->state_root, db_->Tip().state_root);
  EXPECT_EQ(db_->CreateCheckpoint(cp).status().code(), StatusCode::kAlreadyExists);

  // The node keeps going; the checkpoint stays at height 7.
  Produce({MakeTransfer(User(0), User(4).public_key, 5, 2)});

  auto ro = OpenDb(cp, /*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->Tip().height, 7u);
  EXPECT_EQ(ro->Tip().block_hash, info->block_hash);
  EXPECT_EQ(ro->ProduceBlock({}, fed_.key, fed_.id, now_ + 10, kInterval, fed_.federation).status().code(),
            StatusCode::kFailedPrecondition);
  ro.reset();

  VerifyOptions vo;
  vo.federation = fed_.federation;
  vo.expected_state_root = info->state_root;
  std::vector<std::string> phases;
  vo.progress = [&](const VerifyProgress& p) { phases.push_back(p.phase); };
  auto report = VerifyState(cp, vo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << (report->problems.empty() ? "" : report->problems[0]);
  EXPECT_EQ(report->tip_height, 7u);
  EXPECT_EQ(report->state_root, info->state_root);
  EXPECT_EQ(report->blocks_checked, 7u);
  EXPECT_EQ(report->transactions_checked, 9u);
  EXPECT_EQ(report->anchors_checked, 1u);
  EXPECT_EQ(report->entries_checked, 4u + 3u + 1u);  // accounts, peg-ins, signer nonce
  EXPECT_FALSE(phases.empty());

  // A different federation key: every block signature fails.
  TestFederation other;
  vo.federation = other.federation;
  vo.federation->signers.clear();
  vo.federation->signers.emplace(fed_.id, other.key.public_key());
  report = VerifyState(cp, vo);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  ASSERT_FALSE(report->problems.empty());
  EXPECT_NE(report->problems[0].find("block 1"), std::string::npos) << report->problems[0];

  EXPECT_EQ(VerifyState(dir_.Sub("nothing-here"), {}).status().code(), StatusCode::kNotFound);
}

TEST_F(StateDbTest, TamperedAccountIsNamedByVerifyState) {
  Fund(4);
  Produce({MakeTransfer(User(2), User(3).public_key, 7, 0)});
  Produce({MakeTransfer(User(0), User(1).public_key, 7, 0)});
  const std::string victim = HexEncode(User(2).public_key);
  db_.reset();  // stop the node

  ASSERT_TRUE(VerifyState(dir_.Sub("node"), {})->ok);
  ASSERT_TRUE(tamper::SetAccountBalance(dir_.Sub("node"), victim, 1'000'000).ok());

  auto report = VerifyState(dir_.Sub("node"), {});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  ASSERT_GE(report->problems.size(), 2u);
  EXPECT_EQ(report->problems[0],
            "account " + victim + ": stored value does not match the value written at height 2");
  EXPECT_NE(report->problems.back().find("state root"), std::string::npos);

  // Deleting an entry and rolling one back are named too.
  ASSERT_TRUE(tamper::DeleteRawValue(dir_.Sub("node"), kCfAccounts, User(3).public_key).ok());
  report = VerifyState(dir_.Sub("node"), {});
  ASSERT_TRUE(report.ok());
  bool named = false;
  for (const auto& p : report->problems) {
    named = named || p == "account " + HexEncode(User(3).public_key) + ": written at height 2 but missing from the state";
  }
  EXPECT_TRUE(named);
}

TEST_F(StateDbTest, ReopenKeepsTipAndContinues) {
  Fund(2);
  Produce({MakeTransfer(User(0), User(1).public_key, 1, 0)});
  const ChainTip before = db_->Tip();
  db_.reset();
  db_ = OpenDb(dir_.Sub("node"));
  ASSERT_NE(db_, nullptr);
  ChainTip after = db_->Tip();
  EXPECT_EQ(after.height, before.height);
  EXPECT_EQ(after.block_hash, before.block_hash);
  EXPECT_EQ(after.state_root, before.state_root);
  EXPECT_EQ(db_->GetStats().total_transactions, 3u);
  EXPECT_EQ(Acc(0).nonce, 1u);
  auto b = Produce({MakeTransfer(User(0), User(1).public_key, 1, 1)});
  EXPECT_TRUE(b.rejected.empty());
  EXPECT_EQ(b.block.header.prev_hash, before.block_hash);

  // A second read-write open of the same directory is refused while open.
  OpenOptions o;
  auto second = StateDb::Open(dir_.Sub("node"), o);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

// Transactions are checked against the blocks that list them: a missing
// record, a record under another transaction's id, one that claims another
// place in the chain, and one that does not decode are each named with the
// block that lists them, in block order.
TEST_F(StateDbTest, DamagedTransactionsAreNamedByVerifyState) {
  Fund(4);
  auto b2 = Produce({MakeTransfer(User(2), User(3).public_key, 7, 0), MakeTransfer(User(0), User(1).public_key, 7, 0),
                     MakeTransfer(User(1), User(0).public_key, 3, 0)});
  auto b3 = Produce({MakeTransfer(User(3), User(2).public_key, 1, 0)});
  ASSERT_EQ(b2.block.transactions.size(), 3u);
  ASSERT_EQ(b3.block.transactions.size(), 1u);
  const crypto::Hash256 a = TxId(b2.block.transactions[0]), b = TxId(b2.block.transactions[1]),
                        c = TxId(b2.block.transactions[2]), d = TxId(b3.block.transactions[0]);
  db_.reset();
  const std::string dir = dir_.Sub("node");
  auto clean = VerifyState(dir, {});
  ASSERT_TRUE(clean.ok() && clean->ok);
  EXPECT_EQ(clean->transactions_checked, 4u + 4u);
  // Held to a few slots, the pass checks id range after id range: still
  // each transaction once.
  for (size_t slots : {1u, 2u, 3u}) {
    VerifyOptions ranged;
    ranged.max_tx_slots = slots;
    auto r = VerifyState(dir, ranged);
    ASSERT_TRUE(r.ok() && r->ok) << slots << " slots";
    EXPECT_EQ(r->transactions_checked, 4u + 4u) << slots << " slots";
  }

  // d is gone; a's record now holds b's transaction; b's record says it is
  // the first of block 3; c's record is garbage.
  ASSERT_TRUE(tamper::DeleteRawValue(dir, kCfTransactions, crypto::HashToString(d)).ok());
  ASSERT_TRUE(tamper::OverwriteRawValue(dir, kCfTransactions, crypto::HashToString(a),
                                        EncodeTxRecord({2, 0, b2.block.transactions[1]})).ok());
  ASSERT_TRUE(tamper::OverwriteRawValue(dir, kCfTransactions, crypto::HashToString(b),
                                        EncodeTxRecord({3, 0, b2.block.transactions[1]})).ok());
  ASSERT_TRUE(tamper::OverwriteRawValue(dir, kCfTransactions, crypto::HashToString(c), "not a record").ok());

  auto report = VerifyState(dir, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  std::vector<std::string> expected = {
      "block 2: transaction " + crypto::HashToHex(a) + " does not hash to its id",
      "block 2: transaction " + crypto::HashToHex(b) + " records height 3",
      "block 2: transaction " + crypto::HashToHex(c) + ": ",
      "block 3: transaction " + crypto::HashToHex(d) + " is missing",
  };
  ASSERT_EQ(report->problems.size(), expected.size()) << ::testing::PrintToString(report->problems);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(report->problems[i].rfind(expected[i], 0), 0u) << "problem " << i << ": " << report->problems[i];
  }

  // Checked in id-range windows, the same problems in the same (block) order.
  for (size_t slots : {1u, 2u, 3u}) {
    for (int threads : {1, 2}) {
      VerifyOptions ranged;
      ranged.max_tx_slots = slots;
      ranged.threads = threads;
      auto r = VerifyState(dir, ranged);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->problems, report->problems) << slots << " slots, " << threads << " threads";
      EXPECT_EQ(r->problems_total, report->problems_total) << slots << " slots, " << threads << " threads";
    }
  }

  // With a short list, the earliest in the chain are listed, all counted.
  for (int threads : {1, 2, 3}) {
    VerifyOptions few;
    few.max_problems = 2;
    few.threads = threads;
    auto short_report = VerifyState(dir, few);
    ASSERT_TRUE(short_report.ok());
    EXPECT_EQ(short_report->problems_total, 4u);
    ASSERT_EQ(short_report->problems.size(), 2u);
    EXPECT_EQ(short_report->problems[0].rfind(expected[0], 0), 0u) << threads << " threads: " << short_report->problems[0];
    EXPECT_EQ(short_report->problems[1].rfind(expected[1], 0), 0u) << threads << " threads: " << short_report->problems[1];
  }
}

// A new database is built inside the data dir and moved up; what the
// operator prepared stays as it was: an empty dir's mode, a symlink to
// another disk, files already in the dir.
TEST(StateCreate, PreparedDataDirsKeepTheirModeSymlinkAndFiles) {
  TempDir dir("create");
  const std::string empty = dir.Sub("empty");
  ASSERT_EQ(::mkdir(empty.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(empty.c_str(), 0710), 0);
  ASSERT_NE(OpenDb(empty), nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(empty.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_TRUE(fs::Exists(fs::JoinPath(empty, "CURRENT")));

  const std::string disk = dir.Sub("other-disk");
  ASSERT_TRUE(fs::MakeDirs(disk).ok());
  const std::string link = dir.Sub("linked");
  ASSERT_EQ(::symlink(disk.c_str(), link.c_str()), 0);
  ASSERT_NE(OpenDb(link), nullptr);
  struct stat lst {};
  ASSERT_EQ(::lstat(link.c_str(), &lst), 0);
  EXPECT_TRUE(S_ISLNK(lst.st_mode)) << "the symlink was replaced";
  EXPECT_TRUE(fs::Exists(fs::JoinPath(disk, "CURRENT"))) << "the database belongs behind the symlink";

  const std::string used = dir.Sub("used");
  ASSERT_TRUE(fs::MakeDirs(used).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(used, "notes.txt"), "keep me").ok());
  ASSERT_NE(OpenDb(used), nullptr);
  EXPECT_TRUE(fs::Exists(fs::JoinPath(used, "CURRENT")));
  auto notes = fs::ReadFile(fs::JoinPath(used, "notes.txt"));
  ASSERT_TRUE(notes.ok());
  EXPECT_EQ(*notes, "keep me");

  auto names = fs::ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"empty", "linked", "other-disk", "used"})) << "no scratch left behind";

  // A parent the node may not write to (systemd's StateDirectory, a volume)
  // is no obstacle: everything happens inside the data dir.
  if (::geteuid() != 0) {
    const std::string locked = dir.Sub("locked");
    ASSERT_TRUE(fs::MakeDirs(fs::JoinPath(locked, "data")).ok());
    ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
    EXPECT_NE(OpenDb(fs::JoinPath(locked, "data")), nullptr);
    ASSERT_EQ(::chmod(locked.c_str(), 0755), 0);
  }
}

}  // namespace
}  // namespace ailee::state
