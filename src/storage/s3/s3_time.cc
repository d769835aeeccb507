#include "storage/s3/s3_time.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>

#include "base/clock.h"

namespace ailee::storage::s3 {

std::optional<int64_t> ParseIso8601Millis(const std::string& text) {
  int64_t seconds = 0;
  // ParseUtc takes "YYYY-MM-DDTHH:MM:SSZ"; cut the fraction out first.
  std::string whole = text;
  int64_t millis = 0;
  if (auto dot = text.find('.'); dot != std::string::npos) {
    size_t end = dot + 1;
    int64_t scale = 100;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) {
      if (scale > 0) millis += (text[end] - '0') * scale;
      scale /= 10;
      ++end;
    }
    whole = text.substr(0, dot) + text.substr(end);
  }
  if (whole.size() < 20 || whole.back() != 'Z' || !ParseUtc(whole, &seconds)) return std::nullopt;
  return seconds * 1000 + millis;
}

std::optional<int64_t> ParseHttpDateMillis(const std::string& text) {
  time_t t = curl_getdate(text.c_str(), nullptr);
  if (t < 0) return std::nullopt;
  return static_cast<int64_t>(t) * 1000;
}

std::string FormatIso8601(int64_t unix_ms) { return FormatUtc(unix_ms / 1000); }

}  // namespace ailee::storage::s3
