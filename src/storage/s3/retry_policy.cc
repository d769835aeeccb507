#include "storage/s3/retry_policy.h"

#include <algorithm>

namespace ailee::storage::s3 {

Backoff::Backoff(const RetryPolicy& policy, int64_t start_ms)
    : policy_(policy), start_ms_(start_ms), rng_(std::random_device{}()) {}

int64_t Backoff::NextDelayMs(int64_t now_ms) {
  ++attempts_;
  if (attempts_ >= policy_.max_attempts) return -1;
  int64_t cap = policy_.base_delay_ms;
  for (int i = 1; i < attempts_ && cap < policy_.max_delay_ms; ++i) cap *= 2;
  cap = std::clamp<int64_t>(cap, 0, policy_.max_delay_ms);
  int64_t delay = cap > 0 ? std::uniform_int_distribution<int64_t>(0, cap)(rng_) : 0;
  if (now_ms + delay - start_ms_ > policy_.budget_ms) return -1;
  return delay;
}

}  // namespace ailee::storage::s3
