// The timed phases and named checks of the key and config drills: a phase
// is skipped once SIGINT/SIGTERM was seen (check `cancelled`), a failed
// check is the drill's verdict (the first one names it), not an error.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "ops/drill/drill.h"

namespace ailee::ops {

// What every key or config drill report holds.
struct DrillOutcome {
  bool ok = false;
  std::string failed_check;       // the first failed check's name
  Status verdict = Status::Ok();  // ok, or the first failed check as an error (its code: docs/exit-codes.md)
  int64_t started_ms = 0;         // wall clock
  std::vector<DrillPhase> phases;
  std::vector<DrillCheck> checks;
};

struct DrillHooks {
  const Clock* clock = &Clock::Real();
  std::function<bool()> cancelled;  // SIGINT/SIGTERM: stop between phases
  std::function<void(const std::string& phase)> on_phase;
};

class DrillSteps {
 public:
  DrillSteps(std::string what, const DrillHooks& hooks, DrillOutcome& out)
      : what_(std::move(what)), hooks_(hooks), out_(out), t0_(Mono()) {
    out_.started_ms = hooks_.clock->NowMillis();
  }
  // Runs `step` as the phase `name`; false when it failed or the drill was
  // cancelled first (cleaning up, `cancellable` false, never is).
  template <typename Step>
  bool Phase(const std::string& name, Step step, bool cancellable = true) {
    if (cancellable && hooks_.cancelled && hooks_.cancelled()) {
      Check("cancelled", Aborted("interrupted (SIGINT/SIGTERM) before the " + name + " phase"), "");
      return false;
    }
    if (hooks_.on_phase) hooks_.on_phase(name);
    const int64_t start = Mono() - t0_;
    const bool ok = step();
    out_.phases.push_back({name, start, std::max<int64_t>(0, Mono() - t0_ - start)});
    return ok;
  }
  // Adds a check; false when it failed.
  bool Check(const std::string& name, const Status& st, std::string ok_detail) {
    out_.checks.push_back({name, st.ok(), st.ok() ? std::move(ok_detail) : st.message()});
    if (!st.ok() && out_.failed_check.empty()) {
      out_.failed_check = name;
      out_.verdict = Status(st.code(), what_ + " check '" + name + "' failed: " + st.message());
    }
    return st.ok();
  }
  // Sets ok; the sum of the phases named.
  int64_t Finish(const std::vector<std::string>& rto_phases) {
    out_.ok = out_.failed_check.empty();
    int64_t sum = 0;
    for (const auto& p : out_.phases)
      if (std::find(rto_phases.begin(), rto_phases.end(), p.name) != rto_phases.end()) sum += p.duration_ms;
    return sum;
  }

 private:
  int64_t Mono() const { return hooks_.clock->MonotonicNanos() / 1000000; }
  std::string what_;
  const DrillHooks& hooks_;
  DrillOutcome& out_;
  int64_t t0_;
};

}  // namespace ailee::ops
