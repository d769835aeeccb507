#include "state/internal/table_properties.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/unique_id.h>

#include "base/fs.h"
#include "base/hex.h"

namespace ailee::state::internal {

bool IsTableFileName(std::string_view path) {
  constexpr std::string_view kTableSuffix = ".sst";
  return path.size() >= kTableSuffix.size() && path.compare(path.size() - kTableSuffix.size(), kTableSuffix.size(), kTableSuffix) == 0;
}

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

Result<std::string> TableIdentity(const rocksdb::TableProperties& props, const std::string& path) {
  std::string id;
  rocksdb::Status s = rocksdb::GetUniqueIdFromTableProperties(props, &id);
  if (!s.ok()) return DataLoss("table file " + path + " has no unique id: " + s.ToString());
  return "rocksdb-sst:" + HexEncode(id);
}

TableCompressionFacts CompressionFacts(const rocksdb::TableProperties& props) {
  return {props.compression_name, props.raw_key_size + props.raw_value_size, props.data_size};
}

DatabaseFileFacts TableFileFacts(const rocksdb::TableProperties& props, const std::string& path) {
  return {TableIdentity(props, path), AdviseTableCompression(CompressionFacts(props))};
}

}  // namespace ailee::state::internal
