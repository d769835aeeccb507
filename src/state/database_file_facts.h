// What a state backup asks of every file of a database directory, from one
// read of a table file's properties block: its identity
// (state/file_identity.h) and whether compressing it can pay
// (state/table_compression.h). Asking the two apart opens every table file
// twice, and each open reads the file's tail (footer, properties, index and
// filter blocks); an incremental backup asks for every table file (issue 16).
#pragma once

#include <string>

#include "base/status.h"
#include "state/table_compression.h"

namespace ailee::state {

struct DatabaseFileFacts {
  Result<std::string> identity;                 // as DatabaseFileIdentity(path)
  Result<TableCompressionAdvice> compression;   // as TableFileCompression(path)
};

// Both answers for the file at `path`, each what its own function returns
// (including its errors: kNotFound for a missing file, kDataLoss for a *.sst
// file without readable properties; identity alone fails with kDataLoss
// for a table without a unique id).
DatabaseFileFacts ReadDatabaseFileFacts(const std::string& path);

}  // namespace ailee::state
