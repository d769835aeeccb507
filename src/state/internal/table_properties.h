// The properties block of a RocksDB table file (.sst), read without opening
// the database: file identity (state/file_identity.cc) and the backup's
// per-table compression choice (state/table_compression.cc) both need it.
#pragma once

#include <memory>
#include <string>

#include <rocksdb/table_properties.h>

#include "base/status.h"

namespace ailee::state::internal {

// NotFound when `path` does not exist; DataLoss when it is no readable table.
Result<std::shared_ptr<const rocksdb::TableProperties>> ReadTableProperties(const std::string& path);

}  // namespace ailee::state::internal
