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
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secure.h"
#include "repo/ids.h"

namespace ailee::repo {

// The repository's master key: two independent 32-byte keys.
struct MasterKey {
  crypto::SecureBytes data_key;  // AES-256-GCM for blobs, packs, index, snapshots
  crypto::SecureBytes id_key;    // HMAC key for blob ids
};

struct EncodedBlob {
  std::string sealed;       // AEAD output; the pack stores type || sealed
  uint32_t raw_length = 0;  // plaintext length
  bool compressed = false;  // type 0x01
  uint64_t stored_size() const { return sealed.size() + 1; }
};

// Largest plaintext a blob may hold (chunk sizes are capped at this).
inline constexpr uint64_t kMaxBlobSize = 64ull << 20;

Id ComputeBlobId(const MasterKey& key, std::string_view plaintext);
Result<EncodedBlob> EncodeBlob(const MasterKey& key, const Id& id, std::string_view plaintext, int zstd_level);
// Decrypts, decompresses and checks the id of a stored blob (type || sealed).
// kDataLoss on any mismatch; the message names the blob, callers add the
// pack and file.
Result<std::string> DecodeBlob(const MasterKey& key, const Id& id, std::string_view stored);

}  // namespace ailee::repo
