// The index: which pack holds each blob. In memory, the union of all index
// files; on disk, index/<id> objects, each an encrypted JSON document
//   {"version":1,"packs":[{"id","size","blobs":[{id,offset,length,raw_length,compressed}]}]}
// (ad = "ailee-index-v1"). A blob may be listed in several packs (two
// concurrent backups stored it twice); any copy will do.
//
// Thread-safe: lookups take a shared lock, additions an exclusive one.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "repo/ids.h"
#include "repo/pack.h"

namespace ailee::repo {

struct BlobLocation {
  Id pack{};
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t raw_length = 0;
  bool compressed = false;
};

struct PackRecord {
  uint64_t size = 0;
  std::vector<PackBlob> blobs;
};

class Index {
 public:
  void AddPack(const Id& pack, const PackRecord& record);
  std::optional<BlobLocation> Find(const Id& blob) const;
  bool Has(const Id& blob) const;
  bool HasPack(const Id& pack) const;
  // Snapshot copies for whole-repository passes (prune, verify).
  std::map<Id, PackRecord> Packs() const;
  size_t blob_count() const;
  void Clear();

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<Id, BlobLocation, IdHash> blobs_;
  std::unordered_map<Id, PackRecord, IdHash> packs_;
};

// Index file body (plaintext JSON) for `packs`, and back.
std::string EncodeIndexFile(const std::map<Id, PackRecord>& packs);
Result<std::map<Id, PackRecord>> DecodeIndexFile(std::string_view json, std::string_view what);

}  // namespace ailee::repo
