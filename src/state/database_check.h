// Does a set of files form a RocksDB state database that opens? A cheap
// structural check for backups (verify --read-data): RocksDB reads what it
// reads at open (CURRENT, the MANIFEST, WALs, and of every table file its
// footer, properties, index and filter), never the data blocks, and checks
// each table file's unique id against the one the MANIFEST recorded
// ("Mismatch in unique ID on table file" is the damage of a snapshot whose
// table file came from another database).
//
// The files come from a DatabaseFiles source, not from a directory: the
// database is opened read-only through a file system that serves exactly
// those files and refuses every write, so the check needs no scratch space
// and leaves nothing behind. RocksDB types stay in state/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace ailee::state {

// A read-only, flat directory of database files.
class DatabaseFiles {
 public:
  struct File {
    std::string name;  // no '/'
    uint64_t size = 0;
  };
  virtual ~DatabaseFiles() = default;
  virtual std::vector<File> List() = 0;
  // Reads exactly n bytes at offset into out (the caller keeps offset + n
  // within the listed size). Errors name the file.
  virtual Status ReadAt(const std::string& name, uint64_t offset, size_t n, char* out) = 0;
};

// Opens the database the files form, read-only, with every column family its
// MANIFEST lists and every table file opened and its unique id checked.
// Ok when it opens; kDataLoss naming the file ("table file 000123.sst") and
// RocksDB's message when it does not; the source's own error (e.g.
// kUnavailable) when a read failed for a reason other than damage.
Status CheckDatabaseOpens(DatabaseFiles& files);

}  // namespace ailee::state
