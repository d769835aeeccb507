// The worker pool the checkpoint code (hashing, verifying, applying) shares:
// moved here unchanged from the old ops/checkpoint.cc; base/parallel.h
// replaces it.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>

#include "base/status.h"

namespace ailee::state::internal {

// Runs fn(i) for i in [0, n) on two threads; returns the first error.
inline Status ParallelFor(size_t n, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = st;
        next = n;
      }
    }
  };
  auto other = std::async(std::launch::async, worker);
  worker();
  other.get();
  return first;
}

}  // namespace ailee::state::internal
