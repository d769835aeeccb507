#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include "base/clock.h"
#include "cli/format.h"

namespace ailee::cli {

ProgressLine::ProgressLine(const GlobalOptions& g, std::string label)
    : enabled_(!g.json && !g.quiet && ::isatty(STDERR_FILENO)), label_(std::move(label)),
      start_ns_(Clock::Real().MonotonicNanos()) {}

ProgressLine::~ProgressLine() { Done(); }

void ProgressLine::Update(const std::string& phase, uint64_t done, uint64_t total) {
  if (!enabled_) return;
  int64_t now = Clock::Real().MonotonicNanos();
  if (now - last_ns_ < 200'000'000) return;  // at most 5 updates per second
  last_ns_ = now;
  double secs = static_cast<double>(now - start_ns_) / 1e9;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line = label_ + " " + phase + ": " + HumanBytes(done);
  if (total > 0) {
    line += " / " + HumanBytes(total);
    if (rate > 0 && total > done) {
      line += ", ETA " + std::to_string(static_cast<int>(static_cast<double>(total - done) / rate)) + " s";
    }
  }
  line += ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  printed_ = true;
}

void ProgressLine::Done() {
  if (enabled_ && printed_) std::fprintf(stderr, "\r\033[K");
  printed_ = false;
}

}  // namespace ailee::cli
