#include "state/file_identity.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/unique_id.h>

#include "base/fs.h"
#include "base/hex.h"

namespace ailee::state {

Result<std::string> DatabaseFileIdentity(const std::string& path) {
  constexpr std::string_view kTableSuffix = ".sst";
  if (path.size() < kTableSuffix.size() || path.compare(path.size() - kTableSuffix.size(), kTableSuffix.size(), kTableSuffix) != 0) {
    if (!fs::Exists(path)) return NotFound(path + " does not exist");
    return std::string();
  }
  if (!fs::Exists(path)) return NotFound(path + " does not exist");
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status s = reader.Open(path);
  if (!s.ok()) return DataLoss("table file " + path + " has no readable properties: " + s.ToString());
  auto props = reader.GetTableProperties();
  if (!props) return DataLoss("table file " + path + " has no properties block");
  std::string id;
  s = rocksdb::GetUniqueIdFromTableProperties(*props, &id);
  if (!s.ok()) return DataLoss("table file " + path + " has no unique id: " + s.ToString());
  return "rocksdb-sst:" + HexEncode(id);
}

}  // namespace ailee::state
