// Clock seam: everything that asks "what time is it" takes a Clock so tests
// can move time across retention boundaries without sleeping.
#pragma once

#include <atomic>
#include <cstdint>
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

  // The process-wide real clock.
  static Clock& Real();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_millis) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load() * 1000000; }
  void Advance(int64_t millis) { now_ += millis; }
  void Set(int64_t millis) { now_ = millis; }

 private:
  std::atomic<int64_t> now_;
};

// "2026-11-26T13:32:11Z" (UTC, seconds precision) and back.
std::string FormatUtc(int64_t unix_seconds);
bool ParseUtc(const std::string& text, int64_t* unix_seconds);

}  // namespace ailee
