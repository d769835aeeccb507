// Which recovery point a drill restores: `latest` (the newest point of the
// node: its newest state snapshot rolled forward to the last archived
// block), a height, or a uniformly random restorable height no older than
// an age (`--random-within 30d`, like AWS Backup's restore testing: over
// many drills every part of the window gets exercised, not only its end).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "base/status.h"
#include "ops/blocks/replay.h"

namespace ailee::ops {

struct DrillPointRequest {
  std::optional<uint64_t> height;     // --to-height
  std::optional<int64_t> within_ms;   // --random-within; neither set: latest
};

struct DrillPoint {
  std::optional<uint64_t> height;  // nullopt: latest (the restore resolves it)
  std::string how;                 // "latest", "height 120", "random within 30d: height 97 of 40..130"
};

// The height of the last block whose timestamp is at or before a time.
using HeightAtTime = std::function<Result<uint64_t>(int64_t time_ms)>;

// Chooses the point inside `window` (ListRecoveryWindows/GetRecoveryWindow).
// Random: uniform over the heights from max(window start, the height at
// now - within) to the window's end, drawn from `rng` (seed it to repeat a
// drill). kNotFound, naming the window, when the node has no state snapshot,
// when a height lies outside it, or when no point is that young.
Result<DrillPoint> ChooseDrillPoint(const RecoveryWindow& window, const DrillPointRequest& request, int64_t now_ms,
                                    const HeightAtTime& height_at_time, std::mt19937_64& rng);

// "30d", "12h", "90m", "45s" -> milliseconds; kInvalidArgument otherwise.
Result<int64_t> ParseAge(const std::string& text);

}  // namespace ailee::ops
