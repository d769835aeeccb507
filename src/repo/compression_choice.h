// Who decides whether a chunk is worth compressing: a sample of the chunk
// itself (ChooseBlobBody in repo/blob.h), or the caller, who knows the
// file's format. A RocksDB table file records how its blocks are
// compressed: zstd over zstd blocks saves nothing, zstd over LZ4 blocks
// always saves, and neither needs a sample per chunk to tell (issue 16).
#pragma once

#include <string_view>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "repo/blob.h"

namespace ailee::repo {

enum class CompressionChoice {
  kBySample,  // compress a sample first, the whole chunk only if the sample shrank
  kStoreRaw,  // store the plaintext without trying
  kCompress,  // compress the whole chunk without a sample
};

// ChooseBlobBody as `choice` says: the zstd frame (level `zstd_level`, 0 =
// never) in `frame` when compression is chosen and the frame is smaller than
// the plaintext, otherwise the plaintext. kInvalidArgument past kMaxBlobSize.
Result<BlobBody> ChooseBlobBodyAs(CompressionChoice choice, std::string_view plaintext, int zstd_level,
                                  AlignedBuffer* frame);

}  // namespace ailee::repo
