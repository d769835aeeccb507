// Property tests over random histories: the incrementally maintained state
// root always equals the from-scratch root, a follower re-executing every
// block agrees, and balances match a plain in-memory model. Plus a kill -9
// test: a child process producing blocks is killed at a random moment and
// the database must reopen at a block boundary and verify.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "base/hex.h"
#include "state/state_db.h"
#include "state/verify.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::OpenDb;
using testing::TempDir;
using testing::TestFederation;
using testing::User;

struct Model {
  std::map<int, Account> accounts;  // by user index
  uint64_t signer_nonce = 0;
};

// A random transaction, valid or not, from a small set of users; updates
// nothing (the model follows the block's accepted transactions).
Transaction RandomTx(std::mt19937_64& rng, const Model& m, const TestFederation& fed, int* btc) {
  const int kUsers = 12;
  int from = static_cast<int>(rng() % kUsers), to = static_cast<int>(rng() % kUsers);
  auto it = m.accounts.find(from);
  uint64_t nonce = it == m.accounts.end() ? 0 : it->second.nonce;
  uint64_t balance = it == m.accounts.end() ? 0 : it->second.balance;
  if (rng() % 8 == 0) nonce += 1 + rng() % 2;               // wrong nonce
  uint64_t amount = 1 + rng() % (balance / 2 + 10);         // sometimes too much
  switch (rng() % 6) {
    case 0:
    case 1: {
      int id = rng() % 10 == 0 ? std::max(*btc - 1, 0) : (*btc)++;  // sometimes a duplicate btc_txid
      return fed.PegIn(User(to).public_key, 1 + rng() % 5000, id, m.signer_nonce);
    }
    case 2:
      return MakePegOut(User(from), "bc1q" + std::to_string(rng() % 1000), amount, nonce);
    default:
      return MakeTransfer(User(from), User(to).public_key, amount, nonce, rng() % 3 == 0 ? "memo" : "");
  }
}

void ApplyToModel(const Transaction& tx, Model* m, uint64_t height) {
  auto idx = [](const std::string& pk) {
    for (int i = 0;; ++i) {
      if (User(i).public_key == pk) return i;
    }
  };
  switch (tx.type) {
    case TxType::kTransfer: {
      Account& a = m->accounts[idx(tx.from)];
      a.balance -= tx.amount, a.nonce++, a.last_height = height;
      Account& b = m->accounts[idx(tx.to)];
      b.balance += tx.amount, b.last_height = height;
      break;
    }
    case TxType::kPegIn: {
      Account& b = m->accounts[idx(tx.to)];
      b.balance += tx.amount, b.last_height = height;
      m->signer_nonce++;
      break;
    }
    case TxType::kPegOut: {
      Account& a = m->accounts[idx(tx.from)];
      a.balance -= tx.amount, a.nonce++, a.last_height = height;
      break;
    }
    case TxType::kFederationChange:
    case TxType::kPegFreeze:
      break;  // the random histories hold value transactions only
  }
}

TEST(StateProperty, IncrementalRootEqualsFromScratchOverRandomHistories) {
  for (uint64_t seed : {1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir("prop");
    TestFederation fed;
    auto db = OpenDb(dir.Sub("a"));
    auto follower = OpenDb(dir.Sub("b"));
    ASSERT_TRUE(db && follower);
    std::mt19937_64 rng(seed);
    Model model;
    int btc = 0;
    size_t accepted = 0, rejected = 0;
    for (int block = 0; block < 25; ++block) {
      std::vector<Transaction> txs;
      // Transactions drawn against the model as of the block start, so later
      // ones in a block may conflict with earlier ones: the sequencer must
      // cope, and the model only follows what was accepted.
      int n = static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) txs.push_back(RandomTx(rng, model, fed, &btc));
      auto produced = db->ProduceBlock(txs, fed.key, fed.id, 1000 + block, 5, fed.federation);
      ASSERT_TRUE(produced.ok()) << produced.status().ToString();
      const uint64_t h = produced->block.header.height;
      for (const auto& tx : produced->block.transactions) ApplyToModel(tx, &model, h);
      accepted += produced->block.transactions.size();
      rejected += produced->rejected.size();

      auto check = db->RecomputeStateRoot();
      ASSERT_TRUE(check.ok()) << check.status().ToString();
      ASSERT_EQ(check->height, h);
      ASSERT_EQ(check->recomputed_root, check->persisted_root) << "block " << h;
      ASSERT_EQ(check->recomputed_root, produced->block.header.state_root) << "block " << h;

      Status st = follower->ApplyBlock(produced->block, fed.federation, 5);
      ASSERT_TRUE(st.ok()) << st.ToString();
      ASSERT_EQ(follower->Tip().state_root, db->Tip().state_root);
    }
    for (const auto& [user, acc] : model.accounts) {
      auto got = db->GetAccount(HexEncode(User(user).public_key));
      ASSERT_TRUE(got.ok()) << user;
      EXPECT_EQ(*got, acc) << "user " << user;
    }
    // The history must have exercised both paths to mean anything.
    EXPECT_GT(accepted, 40u);
    EXPECT_GT(rejected, 10u);
  }
}

// --- kill -9 ---------------------------------------------------------------

// Child mode: only runs when the parent test re-executes this binary.
TEST(StateCrash, ChildProducesBlocksUntilKilled) {
  const char* dir = std::getenv("AILEE_STATE_CRASH_DIR");
  if (dir == nullptr) GTEST_SKIP() << "child half of StateCrash.KillNineLeavesWholeBlocks";
  TestFederation fed;  // signatures are not checked by the parent's verify
  auto db = OpenDb(dir);
  ASSERT_NE(db, nullptr);
  uint64_t signer_nonce = 0;
  for (int i = 0;; ++i) {
    std::vector<Transaction> txs;
    for (int j = 0; j < 20; ++j) txs.push_back(fed.PegIn(User(j).public_key, 10, i * 20 + j, signer_nonce++));
    auto b = db->ProduceBlock(std::move(txs), fed.key, fed.id, i, 3, fed.federation);
    if (!b.ok()) return;
    // Tell the parent the database exists with its column families (the
    // kill is about block atomicity, not about the very first open).
    if (i == 0) (void)fs::WriteFileAtomic(std::string(dir) + ".ready", "1");
  }
}

TEST(StateCrash, KillNineLeavesWholeBlocks) {
  TempDir dir("crash");
  const std::string db_dir = dir.Sub("node");
  std::mt19937_64 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("AILEE_STATE_CRASH_DIR", db_dir.c_str(), 1);
      execl("/proc/self/exe", "unit_state", "--gtest_filter=StateCrash.ChildProducesBlocksUntilKilled", nullptr);
      _exit(127);
    }
    // Wait for the first block (slow under sanitizers), then kill at a random moment.
    for (int i = 0; i < 600 && !fs::Exists(db_dir + ".ready"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 600));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << status;

    auto report = VerifyState(db_dir, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << (report->problems.empty() ? "" : report->problems[0]);
    EXPECT_GT(report->tip_height, 0u);
    // Each block holds 20 peg-ins: whole blocks only.
    EXPECT_EQ(report->transactions_checked, report->tip_height * 20);
    // Every round starts over in a fresh dir with a new signer key.
    ASSERT_TRUE(fs::RemoveAll(db_dir).ok());
    ASSERT_TRUE(fs::RemoveAll(db_dir + ".ready").ok());
  }
}

// Child mode for the first-open test: creates a database and exits.
TEST(StateCrash, ChildCreatesADatabase) {
  const char* dir = std::getenv("AILEE_STATE_CREATE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "child half of StateCrash.KillDuringFirstOpenLeavesNoDatabaseOrAWholeOne";
  ASSERT_NE(OpenDb(dir), nullptr);
}

// RocksDB creates a database in steps (CURRENT, then one column family at a
// time); killed in between, a data dir used to hold a database without its
// column families, and verify-state refused it. Now it is built in a hidden
// dir inside and moved up with CURRENT last: after a kill at any moment
// there is no database, or a whole empty one, and the next open completes
// and clears what the killed run left.
TEST(StateCrash, KillDuringFirstOpenLeavesNoDatabaseOrAWholeOne) {
  TempDir dir("first-open");
  const std::string db_dir = dir.Sub("node");
  std::mt19937_64 rng(std::random_device{}());
  int whole = 0, none = 0;
  int64_t whole_run_us = 0;
  for (int round = 0; round < 13; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("AILEE_STATE_CREATE_DIR", db_dir.c_str(), 1);
      execl("/proc/self/exe", "unit_state", "--gtest_filter=StateCrash.ChildCreatesADatabase", nullptr);
      _exit(127);
    }
    // Round 0 runs to the end and times a whole run (this machine's speed);
    // every later round is killed at a random moment within such a run.
    const auto started = std::chrono::steady_clock::now();
    int status = 0;
    if (round > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % static_cast<uint64_t>(whole_run_us)));
      kill(pid, SIGKILL);
    }
    waitpid(pid, &status, 0);
    if (round == 0) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child failed to create a database";
      whole_run_us = std::max<int64_t>(1000, std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::steady_clock::now() - started).count());
    }

    auto report = VerifyState(db_dir, {});
    if (fs::Exists(fs::JoinPath(db_dir, "CURRENT"))) {
      ++whole;
      ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.status().ToString();
      EXPECT_EQ(report->tip_height, 0u);
    } else {
      ++none;
      EXPECT_EQ(report.status().code(), StatusCode::kNotFound) << "round " << round << ": " << report.status().ToString();
    }
    // The next run completes and leaves no scratch behind.
    ASSERT_NE(OpenDb(db_dir), nullptr) << "round " << round;
    auto names = fs::ListDir(dir.path());
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, std::vector<std::string>{"node"}) << "round " << round;
    auto inside = fs::ListDir(db_dir);
    ASSERT_TRUE(inside.ok());
    for (const auto& n : *inside) EXPECT_NE(n.rfind(".ailee-creating-", 0), 0u) << "round " << round << ": " << n;
    ASSERT_TRUE(fs::RemoveAll(db_dir).ok());
  }
  // Which outcome each round had depends on the machine's speed: recorded, not asserted.
  RecordProperty("whole", whole);
  RecordProperty("none", none);
}

}  // namespace
}  // namespace ailee::state
