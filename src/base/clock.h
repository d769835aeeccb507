// Clock seam: everything that asks "what time is it" takes a Clock so tests
// can move time across retention boundaries without sleeping.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace ailee {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, Unix epoch, in milliseconds.
  virtual int64_t NowMillis() const = 0;
  // Monotonic time for measuring durations, in nanoseconds.
  virtual int64_t MonotonicNanos() const = 0;
  int64_t NowSeconds() const { return NowMillis() / 1000; }
  // How long (real milliseconds) a waiter for a time `remaining_ms` ahead
  // on this clock sleeps before reading NowMillis() again (see WaitUntil).
  // The real clock: all of it. A FakeClock: 1, so that Advance is noticed.
  virtual int64_t WaitSliceMillis(int64_t remaining_ms) const { return remaining_ms; }

  // The process-wide real clock.
  static Clock& Real();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_millis) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load() * 1000000; }
  int64_t WaitSliceMillis(int64_t) const override { return 1; }
  void Advance(int64_t millis) { now_ += millis; }
  void Set(int64_t millis) { now_ = millis; }

 private:
  std::atomic<int64_t> now_;
};

// Blocks until clock.NowMillis() >= deadline_ms (false) or wake() is true
// (true). wake is evaluated with `lock` held; whoever makes it true does so
// under that mutex and then notifies `cv`. Time is the clock's: a FakeClock
// waiter returns once a test advances the clock past the deadline (within
// about a real millisecond), never because real time passed.
bool WaitUntil(const Clock& clock, int64_t deadline_ms, std::unique_lock<std::mutex>& lock,
               std::condition_variable& cv, const std::function<bool()>& wake);

// "2026-11-26T13:32:11Z" (UTC, seconds precision) and back.
std::string FormatUtc(int64_t unix_seconds);
bool ParseUtc(const std::string& text, int64_t* unix_seconds);

}  // namespace ailee
