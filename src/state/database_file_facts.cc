#include "state/database_file_facts.h"

#include "base/fs.h"
#include "state/internal/table_properties.h"

namespace ailee::state {

DatabaseFileFacts ReadDatabaseFileFacts(const std::string& path) {
  if (!internal::IsTableFileName(path)) {
    if (!fs::Exists(path)) {
      Status missing = NotFound(path + " does not exist");
      return {missing, missing};
    }
    return {std::string(), TableCompressionAdvice::kNotATable};
  }
  auto props = internal::ReadTableProperties(path);
  if (!props.ok()) return {props.status(), props.status()};
  return internal::TableFileFacts(**props, path);
}

}  // namespace ailee::state
