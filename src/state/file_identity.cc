#include "state/file_identity.h"

#include <rocksdb/table_properties.h>
#include <rocksdb/unique_id.h>

#include "base/fs.h"
#include "base/hex.h"
#include "state/internal/table_properties.h"

namespace ailee::state {

Result<std::string> DatabaseFileIdentity(const std::string& path) {
  constexpr std::string_view kTableSuffix = ".sst";
  if (path.size() < kTableSuffix.size() || path.compare(path.size() - kTableSuffix.size(), kTableSuffix.size(), kTableSuffix) != 0) {
    if (!fs::Exists(path)) return NotFound(path + " does not exist");
    return std::string();
  }
  ASSIGN_OR_RETURN(auto props, internal::ReadTableProperties(path));
  std::string id;
  rocksdb::Status s = rocksdb::GetUniqueIdFromTableProperties(*props, &id);
  if (!s.ok()) return DataLoss("table file " + path + " has no unique id: " + s.ToString());
  return "rocksdb-sst:" + HexEncode(id);
}

}  // namespace ailee::state
