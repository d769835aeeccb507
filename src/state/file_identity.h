// The identity RocksDB gives each table file, for incremental backups of a
// state database (repo::BackupOptions::file_identity).
//
// A table file (*.sst) carries, in its properties block, the id of the
// database that wrote it, the id of that session and its original file
// number; together they are the file's unique id, which the MANIFEST records
// and checks when the database opens the file ("Mismatch in unique ID on
// table file" otherwise). Two table files with the same name, size and mtime
// but different unique ids are different files: one cannot stand in for the
// other in a snapshot. Reads only the file's footer and properties (a few
// KiB at its end); no lock, nothing written.
#pragma once

#include <string>

#include "base/status.h"

namespace ailee::state {

// "rocksdb-sst:<hex of the 24-byte unique id>" for a table file; "" for any
// other file of a database directory (MANIFEST, WAL, OPTIONS...). kNotFound
// when `path` does not exist; kDataLoss when a *.sst file has no readable
// properties or no unique id.
Result<std::string> DatabaseFileIdentity(const std::string& path);

}  // namespace ailee::state
