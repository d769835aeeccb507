// Human-readable quantities for command output.
#pragma once

#include <cstdint>
#include <string>

namespace ailee::cli {

// "2.1 GiB", "512 B".
std::string HumanBytes(uint64_t bytes);
// "0.36 s", "12.4 s", "3 min 05 s".
std::string HumanSeconds(int64_t millis);

}  // namespace ailee::cli
