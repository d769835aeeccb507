#include "state/table_compression.h"

#include <rocksdb/table_properties.h>

#include "base/fs.h"
#include "state/internal/table_properties.h"

namespace ailee::state {
namespace {

// Blocks stored at this fraction of their raw size or more hold data that
// no compressor shrinks much (random bytes, hashes, signatures).
constexpr double kIncompressibleRatio = 0.90;

}  // namespace

TableCompressionAdvice AdviseTableCompression(const TableCompressionFacts& facts) {
  // RocksDB names it "ZSTD", or "ZSTDNotFinal" for files of its early versions.
  if (facts.compression.rfind("ZSTD", 0) == 0) return TableCompressionAdvice::kStoreRaw;
  const bool block_compressed = !facts.compression.empty() && facts.compression != "NoCompression";
  if (block_compressed && facts.raw_bytes > 0 &&
      static_cast<double>(facts.data_bytes) >= kIncompressibleRatio * static_cast<double>(facts.raw_bytes)) {
    return TableCompressionAdvice::kStoreRaw;
  }
  return TableCompressionAdvice::kCompress;
}

Result<TableCompressionAdvice> TableFileCompression(const std::string& path) {
  if (!fs::Exists(path)) return NotFound(path + " does not exist");
  if (!internal::IsTableFileName(path)) return TableCompressionAdvice::kNotATable;
  ASSIGN_OR_RETURN(auto props, internal::ReadTableProperties(path));
  return AdviseTableCompression(internal::CompressionFacts(*props));
}

}  // namespace ailee::state
