// Whether compressing a table file of a state database again can pay, from
// what RocksDB recorded in the file itself (repo::BackupOptions::file_compression).
//
// Every table file (*.sst) names, in its properties block, the compression
// its data blocks were written with and their raw and stored sizes. The
// node writes the bottommost level with ZSTD and the levels above with LZ4
// (state/internal/rocks.cc): zstd over zstd blocks saves under 1 % at full
// cost, while LZ4 blocks still shrink by a fifth and more. Reads only the
// file's footer and properties (a few KiB at its end); nothing written.
#pragma once

#include <string>

#include "base/status.h"

namespace ailee::state {

enum class TableCompressionAdvice {
  kNotATable,   // not a table file (MANIFEST, WAL, OPTIONS...): the content decides
  kStoreRaw,    // blocks already zstd-compressed, or data that did not shrink: do not compress again
  kCompress,    // uncompressed or LZ4/Snappy blocks that shrank: compression pays
};

// What the facts below say about one table file.
struct TableCompressionFacts {
  std::string compression;  // RocksDB's compression_name: "ZSTD", "LZ4", "NoCompression", ...
  uint64_t raw_bytes = 0;   // keys and values before block compression
  uint64_t data_bytes = 0;  // data blocks as stored
};

// The advice for these facts: kStoreRaw for ZSTD (and its pre-1.0 name) and
// for any block compression that left the data at 90 % or more of its raw
// size (incompressible values); kCompress otherwise.
TableCompressionAdvice AdviseTableCompression(const TableCompressionFacts& facts);

// The advice for the file at `path`: kNotATable for a name not ending in
// .sst. kNotFound when `path` does not exist; kDataLoss when a *.sst file
// has no readable properties.
Result<TableCompressionAdvice> TableFileCompression(const std::string& path);

}  // namespace ailee::state
