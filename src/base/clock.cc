#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ailee {
namespace {

class RealClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  int64_t MonotonicNanos() const override {
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock clock;
  return clock;
}

bool WaitUntil(const Clock& clock, int64_t deadline_ms, std::unique_lock<std::mutex>& lock,
               std::condition_variable& cv, const std::function<bool()>& wake) {
  while (!wake()) {
    const int64_t remaining = deadline_ms - clock.NowMillis();
    if (remaining <= 0) return false;
    cv.wait_for(lock, std::chrono::milliseconds(clock.WaitSliceMillis(remaining)));
  }
  return true;
}

std::string FormatUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool ParseUtc(const std::string& text, int64_t* unix_seconds) {
  std::tm tm {};
  int y, mo, d, h = 0, mi = 0, s = 0;
  char z = 0;
  int n = std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &s, &z);
  if (n != 3 && n < 6) return false;
  if (n == 7 && z != 'Z') return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  *unix_seconds = static_cast<int64_t>(timegm(&tm));
  return true;
}

}  // namespace ailee
