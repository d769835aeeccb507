#include "config/yaml_fields.h"

#include <charconv>
#include <filesystem>
#include <set>

namespace ailee::config::internal {

std::string FieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  std::string s = node.Scalar();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return "\"" + s + "\"";
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  std::string out = p.lexically_normal().string();
  // "dir/" and "dir" name the same thing; keep one spelling.
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void FieldReader::Problem(std::string field, std::string expected, std::string found,
                          std::string message) {
  problems_->push_back({std::move(field), std::move(expected), std::move(found), std::move(message)});
}

bool FieldReader::Has(const YAML::Node& parent, std::string_view key) {
  if (!parent.IsMap()) return false;
  YAML::Node n = parent[std::string(key)];
  return n.IsDefined() && !n.IsNull();
}

std::optional<YAML::Node> FieldReader::Map(const YAML::Node& parent, std::string_view parent_path,
                                           std::string_view key, bool required) {
  std::string path = FieldPath(parent_path, key);
  if (!Has(parent, key)) {
    if (required) Problem(path, "a map", "nothing", "required section is missing");
    return std::nullopt;
  }
  YAML::Node n = parent[std::string(key)];
  if (!n.IsMap()) {
    Problem(path, "a map", Describe(n));
    return std::nullopt;
  }
  return n;
}

std::optional<YAML::Node> FieldReader::List(const YAML::Node& parent, std::string_view parent_path,
                                            std::string_view key, bool required) {
  std::string path = FieldPath(parent_path, key);
  if (!Has(parent, key)) {
    if (required) Problem(path, "a list", "nothing", "required field is missing");
    return std::nullopt;
  }
  YAML::Node n = parent[std::string(key)];
  if (!n.IsSequence()) {
    Problem(path, "a list", Describe(n));
    return std::nullopt;
  }
  return n;
}

void FieldReader::CheckKnownKeys(const YAML::Node& map, std::string_view path,
                                 std::initializer_list<std::string_view> known) {
  if (!map.IsMap()) return;
  std::string expected = "one of ";
  bool first = true;
  for (auto k : known) {
    if (!first) expected += ", ";
    expected += k;
    first = false;
  }
  std::set<std::string> seen;
  for (const auto& kv : map) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "<complex key>";
    // yaml-cpp keeps both entries of a repeated key and lookups see the first;
    // an operator editing the second would see no effect.
    if (!seen.insert(key).second) {
      Problem(FieldPath(path, key), "each field at most once", "it again", "duplicate field");
      continue;
    }
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) Problem(FieldPath(path, key), expected, "\"" + key + "\"", "unknown field");
  }
}

std::optional<std::string> FieldReader::String(const YAML::Node& parent, std::string_view parent_path,
                                               std::string_view key, bool required) {
  std::string path = FieldPath(parent_path, key);
  if (!Has(parent, key)) {
    if (required) Problem(path, "a string", "nothing", "required field is missing");
    return std::nullopt;
  }
  YAML::Node n = parent[std::string(key)];
  if (!n.IsScalar() || n.Scalar().empty()) {
    Problem(path, "a non-empty string", Describe(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<int64_t> FieldReader::Int(const YAML::Node& parent, std::string_view parent_path,
                                        std::string_view key, int64_t min, int64_t max, bool required) {
  std::string path = FieldPath(parent_path, key);
  std::string expected = "an integer in " + std::to_string(min) + ".." + std::to_string(max);
  if (!Has(parent, key)) {
    if (required) Problem(path, expected, "nothing", "required field is missing");
    return std::nullopt;
  }
  YAML::Node n = parent[std::string(key)];
  if (!n.IsScalar()) {
    Problem(path, expected, Describe(n));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    Problem(path, expected, Describe(n));
    return std::nullopt;
  }
  if (v < min || v > max) {
    Problem(path, expected, std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> FieldReader::Bool(const YAML::Node& parent, std::string_view parent_path,
                                      std::string_view key) {
  if (!Has(parent, key)) return std::nullopt;
  YAML::Node n = parent[std::string(key)];
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
  }
  Problem(FieldPath(parent_path, key), "true or false", Describe(n));
  return std::nullopt;
}

std::optional<std::vector<std::string>> FieldReader::StringList(const YAML::Node& parent,
                                                                std::string_view parent_path,
                                                                std::string_view key) {
  auto list = List(parent, parent_path, key, /*required=*/false);
  if (!list) return std::nullopt;
  std::string path = FieldPath(parent_path, key);
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    YAML::Node item = (*list)[i];
    if (!item.IsScalar() || item.Scalar().empty()) {
      Problem(IndexPath(path, i), "a non-empty string", Describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ailee::config::internal
