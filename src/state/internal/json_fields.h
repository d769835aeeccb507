// Private to state/. Strict readers of JSON object fields for the HTTP and
// file formats of state/ types (transactions, federation changes). Each
// names the field in its kInvalidArgument error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ailee::state::internal {

Result<std::string> JsonString(const nlohmann::json& j, const char* field);
// Hex text decoded to raw bytes; want_bytes 0 = any length.
Result<std::string> JsonHex(const nlohmann::json& j, const char* field, size_t want_bytes);
Result<uint64_t> JsonU64(const nlohmann::json& j, const char* field);
Result<bool> JsonBool(const nlohmann::json& j, const char* field);
// Rejects any key not in `allowed` (plus "type" and "id", which the tx
// formats always allow).
Status CheckFields(const nlohmann::json& j, std::initializer_list<std::string_view> allowed);

}  // namespace ailee::state::internal
