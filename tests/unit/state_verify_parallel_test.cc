// VerifyState's parallel passes name exactly what the serial pass named:
// block signatures and tx roots judged in parallel windows still list the
// lowest bad height first, whatever the thread count; the state root does
// not depend on the thread count; and transaction ids are checked by hashing
// the stored bytes, which is sound only because the transaction encoding is
// canonical (checked here against mutated encodings).
#include <gtest/gtest.h>

#include <random>

#include "state/block.h"
#include "state/encoding.h"
#include "state/records.h"
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

constexpr uint64_t kInterval = 4;
constexpr int kBlocks = 12;

// A stopped node's directory with kBlocks signed blocks of one or two
// transactions each.
class ParallelVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenDb(dir());
    ASSERT_NE(db, nullptr);
    std::vector<Transaction> funding;
    for (int i = 0; i < 3; ++i) funding.push_back(fed_.PegIn(User(i).public_key, 1000, i, fed_.pegin_nonce++));
    Produce(*db, funding);
    for (int h = 2; h <= kBlocks; ++h) {
      std::vector<Transaction> txs = {MakeTransfer(User(h % 3), User(4).public_key, 5, nonce_[h % 3]++)};
      if (h % 2 == 0) txs.push_back(MakeTransfer(User((h + 1) % 3), User(5).public_key, 3, nonce_[(h + 1) % 3]++));
      Produce(*db, txs);
    }
    root_ = db->Tip().state_root;
  }

  void Produce(StateDb& db, std::vector<Transaction> txs) {
    auto b = db.ProduceBlock(std::move(txs), fed_.key, fed_.id, ++now_, kInterval, fed_.federation);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(b->rejected.empty());
    BlockRecord rec;
    rec.header = b->block.header;
    for (const auto& tx : b->block.transactions) rec.tx_ids.push_back(TxId(tx));
    records_.push_back(std::move(rec));
  }

  // Stores `rec` as block rec.header.height's record, behind the node's back.
  void Overwrite(const BlockRecord& rec) {
    ASSERT_TRUE(tamper::OverwriteRawValue(dir(), kCfBlocks, EncodeU64(rec.header.height), EncodeBlockRecord(rec)).ok());
  }

  VerifyReport Verify(int threads, size_t max_tx_slots = VerifyOptions{}.max_tx_slots) {
    VerifyOptions vo;
    vo.federation = fed_.federation;
    vo.threads = threads;
    vo.max_tx_slots = max_tx_slots;
    auto r = VerifyState(dir(), vo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  std::string dir() const { return tmp_.Sub("node"); }

  TempDir tmp_{"parallel-verify"};
  TestFederation fed_;
  int64_t now_ = 1'700'000'000'000;
  uint64_t nonce_[3] = {0, 0, 0};
  std::vector<BlockRecord> records_;  // records_[h - 1] is block h's
  crypto::Hash256 root_{};
};

// The transaction pass, held to a few slots, checks the chain in id-range
// windows: every transaction is still checked exactly once, and damage is
// named the same, whatever the bound and the thread count.
TEST_F(ParallelVerifyTest, EveryTransactionIsCheckedOnceWhateverTheSlotBound) {
  uint64_t listed = 0;
  for (const auto& rec : records_) listed += rec.tx_ids.size();
  const VerifyReport whole = Verify(2);
  ASSERT_TRUE(whole.ok);
  ASSERT_EQ(whole.transactions_checked, listed);
  for (size_t slots : {1u, 2u, 3u, 5u, 7u, 1000u}) {
    for (int threads : {1, 2}) {
      const VerifyReport r = Verify(threads, slots);
      EXPECT_TRUE(r.ok) << slots << " slots: " << ::testing::PrintToString(r.problems);
      EXPECT_EQ(r.transactions_checked, listed) << slots << " slots, " << threads << " threads";
      EXPECT_EQ(r.state_root, root_);
    }
  }

  // Two records gone, far apart in the chain (and, by id, anywhere).
  ASSERT_TRUE(tamper::DeleteRawValue(dir(), kCfTransactions, crypto::HashToString(records_[3 - 1].tx_ids[0])).ok());
  ASSERT_TRUE(tamper::DeleteRawValue(dir(), kCfTransactions, crypto::HashToString(records_[11 - 1].tx_ids[0])).ok());
  const VerifyReport damaged = Verify(2);
  ASSERT_EQ(damaged.problems.size(), 2u) << ::testing::PrintToString(damaged.problems);
  EXPECT_EQ(damaged.problems[0].rfind("block 3: transaction ", 0), 0u) << damaged.problems[0];
  EXPECT_EQ(damaged.problems[1].rfind("block 11: transaction ", 0), 0u) << damaged.problems[1];
  for (size_t slots : {1u, 2u, 3u}) {
    const VerifyReport r = Verify(2, slots);
    EXPECT_EQ(r.problems, damaged.problems) << slots << " slots";
    EXPECT_EQ(r.problems_total, damaged.problems_total) << slots << " slots";
  }
}

// A forged block lists one stored id five times: more slots of one id than
// the bound holds. Every slot is still judged (four of them claim a place
// the record does not record), none twice, none skipped.
TEST_F(ParallelVerifyTest, OneIdListedMoreTimesThanTheBoundIsStillCheckedSlotBySlot) {
  BlockRecord forged = records_[6 - 1];
  forged.tx_ids.assign(5, records_[6 - 1].tx_ids[0]);
  Overwrite(forged);
  const VerifyReport whole = Verify(2);
  EXPECT_FALSE(whole.ok);
  uint64_t index_problems = 0;
  for (const auto& p : whole.problems) {
    index_problems += p.rfind("block 6: transaction " + crypto::HashToHex(forged.tx_ids[0]) + " records height", 0) == 0;
  }
  EXPECT_EQ(index_problems, 4u) << ::testing::PrintToString(whole.problems);
  for (size_t slots : {1u, 2u, 3u}) {
    for (int threads : {1, 2}) {
      const VerifyReport r = Verify(threads, slots);
      EXPECT_EQ(r.transactions_checked, whole.transactions_checked) << slots << " slots, " << threads << " threads";
      EXPECT_EQ(r.problems, whole.problems) << slots << " slots, " << threads << " threads";
      EXPECT_EQ(r.problems_total, whole.problems_total) << slots << " slots, " << threads << " threads";
    }
  }
}

// A block record stored under a malformed key (9 bytes), listing an id with
// no record: named once, and its ids collected by no window, whatever the
// bound (a later window's pass once collected them, the first did not).
TEST_F(ParallelVerifyTest, ABlockUnderAMalformedKeyListsNothingInAnyWindow) {
  BlockRecord stray = records_[6 - 1];
  crypto::Hash256 unstored{};
  unstored.fill(0x07);
  std::fill(unstored.begin(), unstored.begin() + 8, 0xff);
  stray.tx_ids.push_back(unstored);
  ASSERT_TRUE(tamper::OverwriteRawValue(dir(), kCfBlocks, EncodeU64(6) + "\x01", EncodeBlockRecord(stray)).ok());
  const VerifyReport whole = Verify(2);
  ASSERT_EQ(whole.problems.size(), 1u) << ::testing::PrintToString(whole.problems);
  EXPECT_EQ(whole.problems[0].rfind("blocks: malformed key ", 0), 0u) << whole.problems[0];
  for (size_t slots : {1u, 2u, 3u, 7u}) {
    const VerifyReport r = Verify(2, slots);
    EXPECT_EQ(r.transactions_checked, whole.transactions_checked) << slots << " slots";
    EXPECT_EQ(r.problems, whole.problems) << slots << " slots";
    EXPECT_EQ(r.problems_total, whole.problems_total) << slots << " slots";
  }
}

TEST_F(ParallelVerifyTest, StateRootIsTheSameWithOneOrManyThreads) {
  for (int threads : {1, 2, 3, 8}) {
    VerifyReport r = Verify(threads);
    EXPECT_TRUE(r.ok) << threads << " threads: " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_EQ(r.state_root, root_) << threads << " threads";
    EXPECT_EQ(r.blocks_checked, static_cast<uint64_t>(kBlocks));
  }
}

// An attacker re-signs nothing: a late block's signature is broken and an
// earlier block's link to its parent is rewritten. The earlier height is
// named first, and the whole list is the same for every thread count.
TEST_F(ParallelVerifyTest, EarlierBadLinkIsNamedBeforeLaterBadSignature) {
  BlockRecord late = records_[10 - 1];
  late.header.signature[0] = static_cast<char>(late.header.signature[0] ^ 0x01);
  Overwrite(late);
  BlockRecord early = records_[4 - 1];
  early.header.prev_hash[0] ^= 0xff;
  Overwrite(early);

  const VerifyReport serial = Verify(1);
  EXPECT_FALSE(serial.ok);
  ASSERT_GE(serial.problems.size(), 3u) << ::testing::PrintToString(serial.problems);
  EXPECT_EQ(serial.problems[0].rfind("block 4: prev_hash ", 0), 0u) << serial.problems[0];
  // Block 4's header changed under its signature; block 5 links to the old hash.
  EXPECT_EQ(serial.problems[1].rfind("block 4: signature does not verify", 0), 0u) << serial.problems[1];
  EXPECT_EQ(serial.problems[2].rfind("block 5: prev_hash ", 0), 0u) << serial.problems[2];
  bool late_named = false;
  for (const auto& p : serial.problems) late_named = late_named || p.rfind("block 10: signature does not verify", 0) == 0;
  EXPECT_TRUE(late_named) << ::testing::PrintToString(serial.problems);

  for (int threads : {2, 3, 8}) {
    const VerifyReport parallel = Verify(threads);
    EXPECT_EQ(parallel.problems, serial.problems) << threads << " threads";
    EXPECT_EQ(parallel.problems_total, serial.problems_total) << threads << " threads";
    EXPECT_EQ(parallel.state_root, serial.state_root) << threads << " threads";
  }
}

// Every other block's tx_root and signature broken: with a short problem
// list, the earliest are listed and all are counted, for any thread count.
TEST_F(ParallelVerifyTest, ManyBadBlocksAreListedInHeightOrder) {
  for (int h = 3; h <= kBlocks; h += 2) {
    BlockRecord rec = records_[h - 1];
    rec.header.tx_root[5] ^= 0x10;
    Overwrite(rec);
  }
  for (int threads : {1, 2, 8}) {
    VerifyOptions vo;
    vo.federation = fed_.federation;
    vo.threads = threads;
    vo.max_problems = 3;
    auto r = VerifyState(dir(), vo);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // Per bad block: its signature (over the changed header), its tx_root,
    // and the next block's link to it.
    EXPECT_EQ(r->problems_total, 5u * 3u) << threads << " threads";
    ASSERT_EQ(r->problems.size(), 3u);
    EXPECT_EQ(r->problems[0].rfind("block 3: signature does not verify", 0), 0u) << r->problems[0];
    EXPECT_EQ(r->problems[1], "block 3: tx_root does not match its transaction ids");
    EXPECT_EQ(r->problems[2].rfind("block 4: prev_hash ", 0), 0u) << r->problems[2];
  }
}

// Whatever bytes DecodeTransaction accepts encode back to exactly those
// bytes, so SHA-256 of a stored transaction is its TxId (VerifyState relies
// on it). Random byte flips, truncations and extensions of each kind.
TEST(TransactionEncoding, EveryAcceptedEncodingIsCanonical) {
  TestFederation fed;
  const std::vector<Transaction> kinds = {MakeTransfer(User(0), User(1).public_key, 7, 3, "memo bytes"),
                                          fed.PegIn(User(2).public_key, 1000, 9, 4),
                                          MakePegOut(User(1), "bc1qexampleaddress", 5, 2)};
  std::mt19937 rng(16);
  int accepted = 0;
  for (const auto& tx : kinds) {
    const std::string valid = EncodeTransaction(tx);
    ASSERT_TRUE(DecodeTransaction(valid).ok());
    for (int trial = 0; trial < 4000; ++trial) {
      std::string bytes = valid;
      switch (trial % 4) {
        case 0:  // flip a byte
          bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:  // flip a byte in a length or type field's neighbourhood
          bytes[rng() % std::min<size_t>(bytes.size(), 80)] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 2:  // truncate
          bytes.resize(rng() % bytes.size());
          break;
        case 3:  // extend
          bytes.append(1 + rng() % 8, static_cast<char>(rng()));
          break;
      }
      auto decoded = DecodeTransaction(bytes);
      if (!decoded.ok()) continue;
      ++accepted;
      ASSERT_EQ(EncodeTransaction(*decoded), bytes) << "trial " << trial;
      EXPECT_EQ(TxId(*decoded), crypto::Sha256(bytes));
    }
  }
  EXPECT_GT(accepted, 100);  // the flips inside fields do decode, and must re-encode the same
}

}  // namespace
}  // namespace ailee::state
