#include "state/internal/json_fields.h"

#include "base/hex.h"

namespace ailee::state::internal {

Result<std::string> JsonString(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return InvalidArgument(std::string("missing field \"") + field + "\"");
  if (!it->is_string()) return InvalidArgument(std::string("field \"") + field + "\" must be a string");
  return it->get<std::string>();
}

Result<std::string> JsonHex(const nlohmann::json& j, const char* field, size_t want_bytes) {
  ASSIGN_OR_RETURN(std::string text, JsonString(j, field));
  auto raw = HexDecode(text);
  if (!raw) return InvalidArgument(std::string("field \"") + field + "\" is not valid hex");
  if (want_bytes != 0 && raw->size() != want_bytes) {
    return InvalidArgument(std::string("field \"") + field + "\" must be " + std::to_string(want_bytes * 2) +
                           " hex chars, got " + std::to_string(text.size()));
  }
  return *raw;
}

Result<uint64_t> JsonU64(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return InvalidArgument(std::string("missing field \"") + field + "\"");
  // nlohmann stores non-negative integers that fit in 64 bits as unsigned;
  // anything larger becomes a float, negatives become signed.
  if (!it->is_number_unsigned()) {
    return InvalidArgument(std::string("field \"") + field +
                           "\" must be an unsigned 64-bit integer (overflow, negative or not a number)");
  }
  return it->get<uint64_t>();
}

Result<bool> JsonBool(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return InvalidArgument(std::string("missing field \"") + field + "\"");
  if (!it->is_boolean()) return InvalidArgument(std::string("field \"") + field + "\" must be true or false");
  return it->get<bool>();
}

Status CheckFields(const nlohmann::json& j, std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = it.key() == "type" || it.key() == "id";
    for (auto a : allowed) ok = ok || it.key() == a;
    if (!ok) return InvalidArgument("unknown field \"" + it.key() + "\"");
  }
  return Status::Ok();
}

}  // namespace ailee::state::internal
