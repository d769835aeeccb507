// The node's one queue of control records (federation changes, peg freezes):
// the waiter learns the height of the block that carried its record or the
// record's refusal; a record no block took in time is withdrawn; a taken
// record's waiter waits for its block; and a stopping node releases every
// waiter at once, saying whether its record may have been committed.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "node/control_queue.h"

namespace ailee::node {
namespace {

using std::chrono::milliseconds;

state::ProducedBlock BlockAt(uint64_t height, std::vector<state::RejectedTx> rejected = {}) {
  state::ProducedBlock b;
  b.block.header.height = height;
  b.rejected = std::move(rejected);
  return b;
}

state::Transaction Freeze() { return state::MakePegFreezeTx(true, "incident", "alice"); }

// The leader's side: takes once something is queued (bounded: 5 s).
ControlQueue::Taken TakeWhenQueued(ControlQueue& q) {
  for (int i = 0; i < 5000 && q.empty(); ++i) std::this_thread::sleep_for(milliseconds(1));
  return q.Take();
}

TEST(ControlQueueTest, TheWaiterLearnsTheHeightOrTheRefusal) {
  ControlQueue q;
  std::thread leader([&] {
    ControlQueue::Taken t = TakeWhenQueued(q);
    ASSERT_EQ(t.txs.size(), 1u);
    EXPECT_EQ(t.txs[0].type, state::TxType::kPegFreeze);
    q.Resolve(t, BlockAt(42));
  });
  auto h = q.SubmitAndWait(Freeze(), std::chrono::seconds(10));
  leader.join();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, 42u);

  // Two records in one block: each learns its own fate by its position.
  std::thread refusing([&] {
    for (int i = 0; i < 5000; ++i) {
      std::this_thread::sleep_for(milliseconds(1));
      if (ControlQueue::Taken t = q.Take(); !t.txs.empty()) {
        // Take the second too when it arrives within the same block.
        for (int k = 0; k < 5000 && t.txs.size() < 2; ++k) {
          std::this_thread::sleep_for(milliseconds(1));
          ControlQueue::Taken more = q.Take();
          for (size_t m = 0; m < more.txs.size(); ++m) {
            t.txs.push_back(std::move(more.txs[m]));
            t.waiters.push_back(std::move(more.waiters[m]));
          }
        }
        EXPECT_EQ(t.txs.size(), 2u);  // (if not, the other is withdrawn after its timeout)
        size_t refused = t.txs[0].peg_freeze->reason == "again" ? 0 : 1;
        q.Resolve(t, BlockAt(43, {{refused, {}, FailedPrecondition("already frozen since height 42")}}));
        return;
      }
    }
  });
  auto refused = std::async(std::launch::async, [&] {
    return q.SubmitAndWait(state::MakePegFreezeTx(true, "again", "alice"), std::chrono::seconds(10));
  });
  auto change = q.SubmitAndWait(state::MakePegFreezeTx(false, "other", "bob"), std::chrono::seconds(10));
  refusing.join();
  auto again = refused.get();
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition) << again.status().ToString();
  EXPECT_NE(again.status().message().find("already frozen since height 42"), std::string::npos);
  ASSERT_TRUE(change.ok()) << change.status().ToString();
  EXPECT_EQ(*change, 43u);
}

TEST(ControlQueueTest, AFailedBlockRefusesItsRecords) {
  ControlQueue q;
  std::thread leader([&] {
    ControlQueue::Taken t = TakeWhenQueued(q);
    q.Resolve(t, Result<state::ProducedBlock>(Unavailable("the signer's token is gone")));
  });
  auto h = q.SubmitAndWait(Freeze(), std::chrono::seconds(10));
  leader.join();
  EXPECT_EQ(h.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(h.status().ToString().find("the block that was to carry it failed"), std::string::npos)
      << h.status().ToString();
}

TEST(ControlQueueTest, NoBlockInTimeWithdrawsTheRecord) {
  ControlQueue q;
  auto h = q.SubmitAndWait(Freeze(), milliseconds(50));
  EXPECT_EQ(h.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(h.status().message().find("no block within 50 ms, so the peg freeze was withdrawn (nothing changed)"),
            std::string::npos)
      << h.status().ToString();
  EXPECT_TRUE(q.empty());  // a later block does not carry it
  EXPECT_TRUE(q.Take().txs.empty());
}

// Once the leader took it, the block decides: a timeout does not withdraw
// a record that may be committed.
TEST(ControlQueueTest, ATakenRecordWaitsForItsBlockPastTheTimeout) {
  ControlQueue q;
  std::thread leader([&] {
    ControlQueue::Taken t = TakeWhenQueued(q);
    std::this_thread::sleep_for(milliseconds(150));
    q.Resolve(t, BlockAt(7));
  });
  auto h = q.SubmitAndWait(Freeze(), milliseconds(50));
  leader.join();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, 7u);
}

TEST(ControlQueueTest, StoppingReleasesEveryWaiterAndSaysWhatMayHaveHappened) {
  ControlQueue q;
  // One record taken into a block, one still queued, both waiting long.
  auto taken = std::async(std::launch::async, [&] { return q.SubmitAndWait(Freeze(), std::chrono::seconds(60)); });
  ControlQueue::Taken in_block = TakeWhenQueued(q);
  ASSERT_EQ(in_block.txs.size(), 1u);
  auto queued = std::async(std::launch::async, [&] {
    return q.SubmitAndWait(state::MakePegFreezeTx(false, "later", "bob"), std::chrono::seconds(60));
  });
  for (int i = 0; i < 5000 && q.empty(); ++i) std::this_thread::sleep_for(milliseconds(1));

  const auto t0 = std::chrono::steady_clock::now();
  q.Shutdown();
  ASSERT_EQ(taken.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(queued.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto t = taken.get();
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(t.status().message().find("the node is stopping; the peg freeze record may have been committed"),
            std::string::npos)
      << t.status().ToString();
  auto u = queued.get();
  EXPECT_EQ(u.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(u.status().message().find("the peg unfreeze record was not committed"), std::string::npos)
      << u.status().ToString();
  EXPECT_TRUE(q.empty());

  // The block in progress still finishes: its late answer changes nothing.
  q.Resolve(in_block, BlockAt(9));
  // A stopped queue takes nothing new, and says why at once.
  auto late = q.SubmitAndWait(Freeze(), std::chrono::seconds(60));
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("stopping"), std::string::npos);
  EXPECT_TRUE(q.empty());
  q.Shutdown();  // idempotent
}

}  // namespace
}  // namespace ailee::node
