#include "cli/format.h"

#include <cstdio>

namespace ailee::cli {

std::string HumanSeconds(int64_t millis) {
  char buf[48];
  if (millis < 10000) std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(millis) / 1000);
  else if (millis < 120000) std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(millis) / 1000);
  else std::snprintf(buf, sizeof buf, "%lld min %02lld s", static_cast<long long>(millis / 60000),
                     static_cast<long long>((millis / 1000) % 60));
  return buf;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

}  // namespace ailee::cli
