#include "base/parallel.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

namespace ailee {

int ParallelWorkers(size_t n, int threads) {
  const size_t t = static_cast<size_t>(std::max(threads, 1));
  return static_cast<int>(std::max<size_t>(1, std::min(t, n)));
}

Status ParallelFor(size_t n, int threads, const std::function<Status(size_t index, int worker)>& fn) {
  // One mutex hands out indexes and records the error, so that once an error
  // is recorded no thread can take another index (an atomic counter with a
  // separate failed flag would let a thread take one after the check).
  std::mutex mu;
  size_t next = 0;
  Status first_error;
  auto take = [&](size_t* index) {
    std::lock_guard lock(mu);
    if (!first_error.ok() || next >= n) return false;
    *index = next++;
    return true;
  };
  auto loop = [&](int worker) {
    size_t i = 0;
    while (take(&i)) {
      Status st = fn(i, worker);
      if (st.ok()) continue;
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = std::move(st);
      return;
    }
  };
  const int workers = ParallelWorkers(n, threads);
  std::vector<std::thread> started;
  started.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) started.emplace_back(loop, w);
  loop(0);
  for (auto& t : started) t.join();
  return first_error;
}

}  // namespace ailee
