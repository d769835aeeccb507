// When and how long to retry one S3 request.
//
// Every request is retried on transient failures (5xx, 429, SlowDown,
// RequestTimeout, connection refused/reset, timeouts) with exponential
// backoff and full jitter: before attempt n+1 the wait is uniform in
// [0, min(max_delay, base_delay * 2^n)]. It gives up when `max_attempts`
// attempts failed or when the next wait would end past `budget_ms` after the
// first attempt started, whichever comes first.
#pragma once

#include <cstdint>
#include <random>

namespace ailee::storage::s3 {

struct RetryPolicy {
  int max_attempts = 8;
  int64_t budget_ms = 60000;
  int64_t base_delay_ms = 100;
  int64_t max_delay_ms = 10000;
};

// The retry state of one request. Not thread-safe (one per request).
class Backoff {
 public:
  Backoff(const RetryPolicy& policy, int64_t start_ms);

  // After a failed attempt at `now_ms`: the wait before the next attempt, or
  // -1 when the policy says give up.
  int64_t NextDelayMs(int64_t now_ms);
  int attempts() const { return attempts_; }

 private:
  RetryPolicy policy_;
  int64_t start_ms_;
  int attempts_ = 0;
  std::minstd_rand rng_;
};

}  // namespace ailee::storage::s3
