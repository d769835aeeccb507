// What the files of a RocksDB data dir mean, for code that copies, links or
// replaces one without opening it: the LOCK a running node holds, which files
// RocksDB never rewrites, whether a directory holds a database at all.
// RocksDB's own rules, stated once here rather than in each job.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::state {

// kFailedPrecondition (naming the pid, with a hint: stop the node) when a
// process holds the RocksDB lock of `dir` (an fcntl lock on dir/LOCK). Ok
// when there is no LOCK file or nobody holds it. Writes nothing.
Status EnsureNotInUse(const std::string& dir);

// True for the files RocksDB writes once and never modifies (table files,
// *.sst): the only ones two trees may share by hard link.
bool IsImmutableDatabaseFile(std::string_view path);

// True when `dir` holds a database (RocksDB names its MANIFEST in CURRENT).
bool HoldsDatabase(const std::string& dir);

}  // namespace ailee::state
