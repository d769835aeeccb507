// Internal to src/config: typed reads of YAML fields that record a
// ConfigProblem instead of failing, so one pass collects every problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace ailee::config::internal {

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string FieldPath(std::string_view parent, std::string_view key);
std::string IndexPath(std::string_view parent, size_t index);
// How a node reads in a "found ..." phrase: "\"abc\"", "a list", "nothing".
std::string Describe(const YAML::Node& node);
// Makes `path` absolute against `base_dir` and normalizes it lexically.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

class FieldReader {
 public:
  explicit FieldReader(std::vector<ConfigProblem>* problems) : problems_(problems) {}

  void Problem(std::string field, std::string expected, std::string found, std::string message = "");

  // True when `parent[key]` is present and not null.
  static bool Has(const YAML::Node& parent, std::string_view key);

  // Returns parent[key] if it is a map. A missing or null value is a problem
  // only when `required`; a value of another kind always is.
  std::optional<YAML::Node> Map(const YAML::Node& parent, std::string_view parent_path,
                                std::string_view key, bool required);
  std::optional<YAML::Node> List(const YAML::Node& parent, std::string_view parent_path,
                                 std::string_view key, bool required);
  // Records "unknown field" for every key of `map` not in `known`.
  void CheckKnownKeys(const YAML::Node& map, std::string_view path,
                      std::initializer_list<std::string_view> known);

  std::optional<std::string> String(const YAML::Node& parent, std::string_view parent_path,
                                    std::string_view key, bool required);
  std::optional<int64_t> Int(const YAML::Node& parent, std::string_view parent_path,
                             std::string_view key, int64_t min, int64_t max, bool required);
  std::optional<bool> Bool(const YAML::Node& parent, std::string_view parent_path,
                           std::string_view key);
  // A list of non-empty strings; nullopt when absent or wrong.
  std::optional<std::vector<std::string>> StringList(const YAML::Node& parent,
                                                     std::string_view parent_path,
                                                     std::string_view key);

 private:
  std::vector<ConfigProblem>* problems_;
};

}  // namespace ailee::config::internal
