#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/parallel.h"

namespace ailee {
namespace {

TEST(ParallelForTest, RunsEveryIndexOnceOnAtMostThreadsWorkers) {
  constexpr size_t kN = 1000;
  std::vector<std::atomic<int>> calls(kN);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::set<int> workers;
  Status st = ParallelFor(kN, 4, [&](size_t i, int worker) {
    calls[i]++;
    std::lock_guard lock(mu);
    threads.insert(std::this_thread::get_id());
    workers.insert(worker);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (size_t i = 0; i < kN; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
  EXPECT_LE(threads.size(), 4u);
  EXPECT_EQ(threads.size(), workers.size());
  for (int w : workers) EXPECT_TRUE(w >= 0 && w < 4) << w;
  EXPECT_EQ(ParallelWorkers(kN, 4), 4);
  EXPECT_EQ(ParallelWorkers(2, 4), 2);
  EXPECT_EQ(ParallelWorkers(0, 4), 1);
  EXPECT_EQ(ParallelWorkers(5, 0), 1);
  EXPECT_EQ(ParallelWorkers(5, -3), 1);
}

TEST(ParallelForTest, NoItemsCallsNothing) {
  int calls = 0;
  EXPECT_TRUE(ParallelFor(0, 8, [&](size_t, int) {
                ++calls;
                return Status::Ok();
              }).ok());
  EXPECT_EQ(calls, 0);
}

TEST(ParallelForTest, OneThreadRunsInOrderOnTheCallerAndStopsAtTheFirstError) {
  std::vector<size_t> seen;
  const auto caller = std::this_thread::get_id();
  Status st = ParallelFor(10, 1, [&](size_t i, int worker) {
    EXPECT_EQ(worker, 0);
    EXPECT_EQ(std::this_thread::get_id(), caller);
    seen.push_back(i);
    return i == 3 || i == 6 ? DataLoss("item " + std::to_string(i)) : Status::Ok();
  });
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "item 3");
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2, 3}));
}

// The error that happened first in time is returned, even if a lower index
// fails later; and items already running finish, their errors dropped.
// (Item 0 fails 200 ms after item 1 did: time enough for item 1's thread to
// record its error even on a loaded machine.)
TEST(ParallelForTest, FirstErrorInTimeWinsAndInFlightItemsFinish) {
  std::atomic<bool> second_failed{false};
  std::atomic<bool> slow_finished{false};
  Status st = ParallelFor(2, 2, [&](size_t i, int) {
    if (i == 0) {
      while (!second_failed.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      slow_finished = true;
      return Internal("item 0");
    }
    second_failed = true;
    return DataLoss("item 1");
  });
  EXPECT_EQ(st.message(), "item 1");
  EXPECT_TRUE(slow_finished.load());  // ParallelFor returned only after it
}

// After the first error no new index is handed out: only the items in
// flight (one per other worker) run after it. Items past 100 are held until
// item 100 has failed, then for 100 ms more, so the failing thread records
// its error before any of them asks for more work.
TEST(ParallelForTest, NoWorkIsHandedOutAfterAnError) {
  constexpr int kThreads = 4;
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> failed{false};
    std::atomic<int> after{0};
    Status st = ParallelFor(10000, kThreads, [&](size_t i, int) {
      if (i == 100) {
        failed = true;
        return Aborted("stop");
      }
      if (i > 100) {
        after++;
        while (!failed.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return Status::Ok();
    });
    ASSERT_EQ(st.code(), StatusCode::kAborted);
    EXPECT_LE(after.load(), kThreads - 1) << "round " << round;
  }
}

// Many tiny items on more threads than cores: finishes, every index once,
// within a bound that a lost wake-up or a livelock would exceed.
TEST(ParallelForTest, ManyItemsFinishInBoundedTime) {
  constexpr size_t kN = 200000;
  std::vector<unsigned char> hit(kN, 0);
  std::atomic<uint64_t> sum{0};
  const int64_t start = Clock::Real().MonotonicNanos();
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(ParallelFor(kN, 8, [&](size_t i, int) {
                  hit[i] = 1;
                  sum += i;
                  return Status::Ok();
                }).ok());
  }
  const int64_t ms = (Clock::Real().MonotonicNanos() - start) / 1000000;
  EXPECT_LT(ms, 30000);
  for (size_t i = 0; i < kN; ++i) ASSERT_EQ(hit[i], 1) << i;
  EXPECT_EQ(sum.load(), 5 * (uint64_t{kN} * (kN - 1) / 2));
}

// The clock's wait: a FakeClock waiter wakes when the test advances the
// clock past its deadline, and not before however long it really waits.
TEST(ClockWaitTest, FakeClockWaiterWakesOnlyWhenAdvancedPastTheDeadline) {
  FakeClock clock(1000000);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> outcome{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    outcome = WaitUntil(clock, 1000000 + 60000, lock, cv, [] { return false; }) ? 1 : 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(outcome.load(), -1);
  clock.Advance(59999);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(outcome.load(), -1);
  clock.Advance(1);
  waiter.join();  // returns: the deadline was reached
  EXPECT_EQ(outcome.load(), 0);
}

TEST(ClockWaitTest, WakeEndsTheWaitEarly) {
  FakeClock clock(0);
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::atomic<int> outcome{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    outcome = WaitUntil(clock, 1000, lock, cv, [&] { return stop; }) ? 1 : 0;
  });
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(outcome.load(), 1);
  std::unique_lock lock(mu);
  // The real clock with a deadline already past returns at once.
  EXPECT_FALSE(WaitUntil(Clock::Real(), 0, lock, cv, [] { return false; }));
}

}  // namespace
}  // namespace ailee
