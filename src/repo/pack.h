// Pack files: many encrypted blobs in one object, self-describing.
//
//   pack = blob_0 || blob_1 || ... || header || u32le(len(header)) || "AILEEPK1"
//   blob_i = type || AEAD(...) as in blob.h
//   header = AES-256-GCM(data_key, JSON {"version":1,"blobs":[{id, offset,
//            length, raw_length, compressed}...]}, ad = "ailee-pack-header-v1")
//
// The pack id is SHA-256 of the whole pack. Because the header lists every
// blob, the index can always be rebuilt from the packs alone.
#pragma once

#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "repo/blob.h"
#include "repo/ids.h"
#include "storage/object_store.h"

namespace ailee::repo {

struct PackBlob {
  Id id{};
  uint64_t offset = 0;
  uint64_t length = 0;       // stored length (type byte + sealed)
  uint32_t raw_length = 0;   // plaintext length
  bool compressed = false;
};

// Builds a pack in one aligned buffer: blobs are sealed straight into it and
// hashed as they arrive, so finishing a pack neither copies nor re-reads it.
// Not thread-safe (one packer owns it).
class PackBuilder {
 public:
  // Reserves room for a pack of about `bytes` (avoids regrowth copies).
  void Reserve(uint64_t bytes) { buffer_.Reserve(bytes); }
  // Seals `body` (of a plaintext of `raw_length` bytes) as the next blob.
  Status Add(const MasterKey& key, const Id& id, const BlobBody& body, uint32_t raw_length);
  uint64_t size() const { return size_; }
  size_t count() const { return blobs_.size(); }
  const std::vector<PackBlob>& blobs() const { return blobs_; }

  struct Finished {
    Id id{};
    AlignedBuffer buffer;  // the pack is its first `size` bytes
    uint64_t size = 0;
    std::vector<PackBlob> blobs;
    std::string_view bytes() const { return {buffer.data(), size}; }
  };
  // Appends the header and trailer; the builder is empty afterwards.
  Result<Finished> Finish(const MasterKey& key);
  // Hands a finished pack's buffer back so its memory is reused.
  void Recycle(AlignedBuffer buffer) {
    if (size_ == 0 && buffer.capacity() > buffer_.capacity()) buffer_ = std::move(buffer);
  }

 private:
  char* Extend(size_t n);  // room for n more bytes at the end, growing (and copying) if needed

  AlignedBuffer buffer_;
  uint64_t size_ = 0;
  crypto::Sha256Stream sha_;
  std::vector<PackBlob> blobs_;
};

// Reads and decrypts the header of a stored pack (two ranged reads).
// kDataLoss naming the pack when it is truncated or its header is damaged.
Result<std::vector<PackBlob>> ReadPackHeader(storage::ObjectStore& store, const MasterKey& key, const Id& pack,
                                             uint64_t pack_size);
// Same, on a pack already in memory.
Result<std::vector<PackBlob>> ParsePackHeader(const MasterKey& key, const Id& pack, std::string_view bytes);

}  // namespace ailee::repo
