// The two date formats S3 speaks: ISO 8601 in XML bodies and Object Lock
// headers ("2026-11-26T13:32:11.000Z"), RFC 1123 in the Date header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ailee::storage::s3 {

// "2026-11-26T13:32:11Z" or with fractional seconds; nullopt if malformed.
std::optional<int64_t> ParseIso8601Millis(const std::string& text);
// "Wed, 26 Nov 2026 13:32:11 GMT"; nullopt if malformed.
std::optional<int64_t> ParseHttpDateMillis(const std::string& text);
// "2026-11-26T13:32:11Z" (whole seconds, UTC).
std::string FormatIso8601(int64_t unix_ms);

}  // namespace ailee::storage::s3
