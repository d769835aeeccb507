// ParallelFor: the one worker pool. Every loop that spreads independent work
// items over threads (verify's pack and blob checks, restore's files, copy's
// packs, S3 multipart parts, the state scan's key ranges) goes through it, so
// that "stop at the first error" and "how many threads" mean the same thing
// everywhere.
//
// Contract of ParallelFor(n, threads, fn):
// - Threads: fn runs on ParallelWorkers(n, threads) threads, the calling
//   thread being one of them (min(threads, n), at least 1; no thread is
//   started for n <= 1 or threads <= 1). fn(index, worker) is called exactly
//   once for each index in [0, n) that is handed out, in increasing index
//   order of hand-out; `worker` in [0, ParallelWorkers(n, threads)) names the
//   thread, so a caller can keep per-thread state (buffers, partial sums) in
//   a vector of that size without locking. fn must be safe to call
//   concurrently for different indexes.
// - Errors: the first error by time wins. As soon as one call returns a
//   non-ok Status no further index is handed out; calls already running
//   finish (their errors are dropped) and ParallelFor returns that first
//   error once every thread has joined. With one worker the indexes run in
//   order, so the first error is also the lowest failing index.
// - Cancellation: there is no separate cancel; fn returns an error to stop
//   the loop (e.g. Aborted("...") when a caller-side flag says so).
// - Exceptions are not used: fn must not throw (one escaping a started
//   thread terminates the process, as for any std::thread).
// - Memory: a fixed amount per call (the threads' stacks); nothing is
//   allocated per item, nothing queued. What fn holds per worker is the
//   caller's bound: at most ParallelWorkers(n, threads) items in flight.
// - Returns only after every call has returned: fn may capture by reference.
#pragma once

#include <cstddef>
#include <functional>

#include "base/status.h"

namespace ailee {

// How many threads ParallelFor(n, threads, ...) uses: min(threads, n), at least 1.
int ParallelWorkers(size_t n, int threads);

Status ParallelFor(size_t n, int threads, const std::function<Status(size_t index, int worker)>& fn);

}  // namespace ailee
