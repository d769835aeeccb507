#include "state/internal/table_properties.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include "base/fs.h"

namespace ailee::state::internal {

Result<std::shared_ptr<const rocksdb::TableProperties>> ReadTableProperties(const std::string& path) {
  if (!fs::Exists(path)) return NotFound(path + " does not exist");
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status s = reader.Open(path);
  if (!s.ok()) return DataLoss("table file " + path + " has no readable properties: " + s.ToString());
  auto props = reader.GetTableProperties();
  if (!props) return DataLoss("table file " + path + " has no properties block");
  return props;
}

}  // namespace ailee::state::internal
