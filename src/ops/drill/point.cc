#include "ops/drill/point.h"

#include <algorithm>

#include "base/clock.h"
#include "ops/state/point_in_time.h"

namespace ailee::ops {

Result<int64_t> ParseAge(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9 || digits + 1 != text.size()) {
    return InvalidArgument("age '" + text + "': expected a number and a unit, like 30d, 12h, 90m or 45s");
  }
  const int64_t n = std::stoll(text.substr(0, digits));
  switch (text.back()) {
    case 'd': return n * 86400000;
    case 'h': return n * 3600000;
    case 'm': return n * 60000;
    case 's': return n * 1000;
    default: return InvalidArgument("age '" + text + "': the unit must be d, h, m or s");
  }
}

Result<DrillPoint> ChooseDrillPoint(const RecoveryWindow& w, const DrillPointRequest& request, int64_t now_ms,
                                    const HeightAtTime& height_at_time, std::mt19937_64& rng) {
  if (!w.has_snapshot) {
    return NotFound("node " + w.node_id + " has no state snapshot to drill on (" + DescribeRecoveryWindow(w) + ")");
  }
  const uint64_t first = w.earliest_height;
  const uint64_t last = std::max(w.latest_height, w.earliest_height);
  if (request.height) {
    if (*request.height < first || *request.height > last) {
      return NotFound("height " + std::to_string(*request.height) + " is outside the recovery window of node " +
                      w.node_id + ": " + DescribeRecoveryWindow(w));
    }
    return DrillPoint{request.height, "height " + std::to_string(*request.height)};
  }
  if (!request.within_ms) return DrillPoint{std::nullopt, "latest"};

  const int64_t cutoff_ms = now_ms - *request.within_ms;
  uint64_t low = first;
  // The window's start is a snapshot's time (taken after its block): when
  // it is younger than the cutoff, every height of the window qualifies.
  if (w.earliest_time_ms < cutoff_ms) {
    if (w.latest_height <= first || w.latest_time_ms < cutoff_ms) {
      return NotFound("no restorable point of node " + w.node_id + " is younger than " +
                      FormatUtc(cutoff_ms / 1000) + ": the recovery window is " + DescribeRecoveryWindow(w));
    }
    ASSIGN_OR_RETURN(uint64_t at_cutoff, height_at_time(cutoff_ms));
    // The block at the cutoff is older than it; the first young one follows.
    low = std::max(first, at_cutoff + 1);
    if (low > last) {
      return NotFound("no restorable point of node " + w.node_id + " is younger than " + FormatUtc(cutoff_ms / 1000) +
                      ": the recovery window is " + DescribeRecoveryWindow(w));
    }
  }
  std::uniform_int_distribution<uint64_t> pick(low, last);
  const uint64_t h = pick(rng);
  return DrillPoint{h, "random within the last " + std::to_string(*request.within_ms / 1000) + " s: height " +
                           std::to_string(h) + " of " + std::to_string(low) + ".." + std::to_string(last)};
}

}  // namespace ailee::ops
