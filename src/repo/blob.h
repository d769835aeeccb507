// Blob codec: how one chunk of file data is stored inside a pack.
//
//   id     = HMAC-SHA-256(id_key, plaintext)   (equal data -> equal id, but
//            the id reveals nothing about the data without the key)
//   type   = 0x00 (body is the plaintext) | 0x01 (body is a zstd frame of it)
//   stored = type || AES-256-GCM(data_key, body, ad = "ailee-blob-v1" || id || type)
// The type byte sits outside the ciphertext (so raw data is encrypted without
// another copy) but is authenticated as associated data.
//
// Compression is used only when it pays: a 64 KiB sample is compressed first
// and data that does not shrink (already-compressed SST blocks, random data)
// is stored raw without compressing it in full.
//
// The bulk paths neither allocate nor zero-fill per blob: the caller owns
// reusable buffers (one set per thread), sealing writes straight into the
// pack, and decoding decrypts in place. All functions are thread-safe; a
// BlobBuffers is not.
#pragma once

#include <string>
#include <string_view>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/secure.h"
#include "repo/ids.h"

namespace ailee::repo {

// The repository's master key: two independent 32-byte keys.
struct MasterKey {
  crypto::SecureBytes data_key;  // AES-256-GCM for blobs, packs, index, snapshots
  crypto::SecureBytes id_key;    // HMAC key for blob ids
};

// Largest plaintext a blob may hold (chunk sizes are capped at this).
inline constexpr uint64_t kMaxBlobSize = 64ull << 20;

// Bytes a stored blob takes for a body of `body_size` bytes (type byte,
// nonce, body, tag).
constexpr size_t StoredBlobSize(size_t body_size) { return 1 + crypto::kAeadOverhead + body_size; }

Id ComputeBlobId(const MasterKey& key, std::string_view plaintext);

// What a blob stores for `plaintext`.
struct BlobBody {
  std::string_view bytes;   // the plaintext itself, or a zstd frame in the caller's buffer
  bool compressed = false;  // type 0x01
};
// The zstd frame (level `zstd_level`, 0 = never) when the sample says
// compression pays and the frame is smaller than the plaintext, written to
// `frame`; otherwise the plaintext. kInvalidArgument past kMaxBlobSize.
Result<BlobBody> ChooseBlobBody(std::string_view plaintext, int zstd_level, AlignedBuffer* frame);
// Writes the stored blob, StoredBlobSize(body.bytes.size()) bytes, to `out`
// (which must not overlap the body).
Status SealBlob(const MasterKey& key, const Id& id, const BlobBody& body, char* out);

// Reusable buffers for decoding: the stored bytes (decrypted in place) and
// room for decompressing.
struct BlobBuffers {
  AlignedBuffer stored;
  AlignedBuffer plain;
  // Where to put a stored blob of `length` bytes so that a raw blob's
  // plaintext, after in-place decryption, starts 4 KiB-aligned (direct I/O).
  char* StoredArea(size_t length);
};

// Decrypts (in place, at `stored`), decompresses (into `buffers->plain`)
// and checks the id of the stored blob (type || sealed). The view points
// into `stored` or `buffers` and is valid until either is reused.
// kDataLoss on any mismatch; the message names the blob, callers add the
// pack and file.
Result<std::string_view> DecodeBlobInPlace(const MasterKey& key, const Id& id, char* stored, size_t length,
                                           BlobBuffers* buffers);
// The same on a copy, for callers outside the bulk paths.
Result<std::string> DecodeBlob(const MasterKey& key, const Id& id, std::string_view stored);

}  // namespace ailee::repo
