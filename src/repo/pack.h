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

#include "base/status.h"
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

// Accumulates blobs in memory. Not thread-safe (one writer owns it).
class PackBuilder {
 public:
  // Reserves room for a pack of about `bytes` (avoids regrowth copies).
  void Reserve(uint64_t bytes) { data_.reserve(bytes); }
  void Add(const Id& id, const EncodedBlob& blob);
  uint64_t size() const { return data_.size(); }
  size_t count() const { return blobs_.size(); }
  const std::vector<PackBlob>& blobs() const { return blobs_; }

  struct Finished {
    Id id{};
    std::string bytes;
    std::vector<PackBlob> blobs;
  };
  // Appends the header and trailer; the builder is empty afterwards.
  Result<Finished> Finish(const MasterKey& key);
  // Hands a finished pack's buffer back so its memory is reused for the next.
  void Recycle(std::string buffer) {
    buffer.clear();
    if (data_.empty() && buffer.capacity() > data_.capacity()) data_ = std::move(buffer);
  }

 private:
  std::string data_;
  std::vector<PackBlob> blobs_;
};

// Reads and decrypts the header of a stored pack (two ranged reads).
// kDataLoss naming the pack when it is truncated or its header is damaged.
Result<std::vector<PackBlob>> ReadPackHeader(storage::ObjectStore& store, const MasterKey& key, const Id& pack,
                                             uint64_t pack_size);
// Same, on a pack already in memory.
Result<std::vector<PackBlob>> ParsePackHeader(const MasterKey& key, const Id& pack, std::string_view bytes);

}  // namespace ailee::repo
