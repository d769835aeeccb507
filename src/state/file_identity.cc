#include "state/file_identity.h"

#include "base/fs.h"
#include "state/internal/table_properties.h"

namespace ailee::state {

Result<std::string> DatabaseFileIdentity(const std::string& path) {
  if (!internal::IsTableFileName(path)) {
    if (!fs::Exists(path)) return NotFound(path + " does not exist");
    return std::string();
  }
  ASSIGN_OR_RETURN(auto props, internal::ReadTableProperties(path));
  return internal::TableIdentity(*props, path);
}

}  // namespace ailee::state
