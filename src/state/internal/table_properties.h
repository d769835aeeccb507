// The properties block of a RocksDB table file (.sst), read without opening
// the database: file identity (state/file_identity.cc) and the backup's
// per-table compression choice (state/table_compression.cc) both need it,
// and state/database_file_facts.cc answers both from one read.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/table_properties.h>

#include "base/status.h"
#include "state/database_file_facts.h"
#include "state/table_compression.h"

namespace ailee::state::internal {

// Whether `path` names a table file (ends in ".sst").
bool IsTableFileName(std::string_view path);

// NotFound when `path` does not exist; DataLoss when it is no readable table.
Result<std::shared_ptr<const rocksdb::TableProperties>> ReadTableProperties(const std::string& path);

// "rocksdb-sst:<hex of the unique id>"; DataLoss naming `path` when the
// properties carry no unique id.
Result<std::string> TableIdentity(const rocksdb::TableProperties& props, const std::string& path);

// What AdviseTableCompression needs from the properties.
TableCompressionFacts CompressionFacts(const rocksdb::TableProperties& props);

// ReadDatabaseFileFacts's answers for the table file at `path` whose
// properties are `props` (read by the caller or held by an open database).
DatabaseFileFacts TableFileFacts(const rocksdb::TableProperties& props, const std::string& path);

}  // namespace ailee::state::internal
