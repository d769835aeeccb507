#include "ops/state/snapshot_check.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include "repo/blob.h"
#include "state/database_check.h"

namespace ailee::ops {
namespace {

// The top-level regular files of a snapshot, read chunk by chunk.
class SnapshotFiles : public state::DatabaseFiles {
 public:
  SnapshotFiles(repo::Repository& repo, const repo::Snapshot& snapshot, StateSnapshotCheckStats* stats)
      : repo_(repo), snapshot_(snapshot), stats_(stats) {
    for (const auto& f : snapshot.files) {
      stats_->file_bytes += f.type == repo::FileEntry::Type::kFile ? f.size : 0;
      if (f.type == repo::FileEntry::Type::kFile && f.path.find('/') == std::string::npos) files_[f.path] = &f;
    }
  }

  std::vector<File> List() override {
    std::vector<File> out;
    for (const auto& [name, f] : files_) out.push_back({name, f->size});
    return out;
  }

  Status ReadAt(const std::string& name, uint64_t offset, size_t n, char* out) override {
    auto it = files_.find(name);
    if (it == files_.end()) return NotFound(Where(name) + ": not in the snapshot");
    const repo::FileEntry& f = *it->second;
    stats_->bytes_requested += n;
    ASSIGN_OR_RETURN(const std::vector<uint64_t>* starts, ChunkStarts(f));
    if (offset + n > f.size) {
      return DataLoss(Where(name) + ": read of " + std::to_string(n) + " bytes at " + std::to_string(offset) +
                      " past its recorded size " + std::to_string(f.size));
    }
    // The first chunk starting after `offset`, minus one, holds it.
    size_t c = std::upper_bound(starts->begin(), starts->end(), offset) - starts->begin() - 1;
    while (n > 0) {
      ASSIGN_OR_RETURN(const std::string* blob, Blob(f, c));
      const uint64_t in = offset - (*starts)[c];
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, blob->size() - in));
      std::memcpy(out, blob->data() + in, k);
      out += k;
      offset += k;
      n -= k;
      ++c;
    }
    return Status::Ok();
  }

 private:
  std::string Where(const std::string& name) const { return "file " + name + " of snapshot " + snapshot_.id_hex(); }

  // Offsets of each chunk in the file, from the index's plaintext lengths
  // (no blob is read for this); the chunk lengths must add up to the size.
  Result<const std::vector<uint64_t>*> ChunkStarts(const repo::FileEntry& f) {
    auto it = starts_.find(f.path);
    if (it != starts_.end()) return &it->second;
    std::vector<uint64_t> starts;
    uint64_t at = 0;
    for (const auto& c : f.chunks) {
      auto loc = repo_.index().Find(c);
      if (!loc) return DataLoss(Where(f.path) + ": blob " + repo::IdHex(c) + " is in no index");
      starts.push_back(at);
      at += loc->raw_length;
    }
    if (at != f.size) {
      return DataLoss(Where(f.path) + ": its blobs hold " + std::to_string(at) + " bytes, the snapshot records " +
                      std::to_string(f.size));
    }
    return &starts_.emplace(f.path, std::move(starts)).first->second;
  }

  // The c-th chunk of f, decrypted and checked (ReadBlob checks its id),
  // from a small cache: RocksDB reads a table file's tail in a few requests.
  Result<const std::string*> Blob(const repo::FileEntry& f, size_t c) {
    const repo::Id& id = f.chunks[c];
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == id) {
        cache_.splice(cache_.begin(), cache_, it);
        return &cache_.front().second;
      }
    }
    auto data = repo_.ReadBlob(id, &buffers_);
    if (!data.ok()) {
      Status st = data.status().code() == StatusCode::kNotFound ? DataLoss(data.status().message()) : data.status();
      return st.WithContext(Where(f.path));
    }
    stats_->blob_bytes += data->size();
    auto loc = repo_.index().Find(id);
    if (loc && data->size() != loc->raw_length) {
      return DataLoss(Where(f.path) + ": blob " + repo::IdHex(id) + " holds " + std::to_string(data->size()) +
                      " bytes, the index records " + std::to_string(loc->raw_length));
    }
    cache_.emplace_front(id, std::string(*data));
    if (cache_.size() > kCachedBlobs) cache_.pop_back();
    return &cache_.front().second;
  }

  static constexpr size_t kCachedBlobs = 8;
  repo::Repository& repo_;
  const repo::Snapshot& snapshot_;
  StateSnapshotCheckStats* stats_;
  std::map<std::string, const repo::FileEntry*> files_;
  std::map<std::string, std::vector<uint64_t>> starts_;
  std::list<std::pair<repo::Id, std::string>> cache_;
  repo::BlobBuffers buffers_;
};

}  // namespace

Status CheckStateSnapshotOpens(repo::Repository& repo, const repo::Snapshot& snapshot, StateSnapshotCheckStats* stats) {
  StateSnapshotCheckStats local;
  SnapshotFiles files(repo, snapshot, stats ? stats : &local);
  Status st = state::CheckDatabaseOpens(files);
  if (st.ok() || st.code() == StatusCode::kUnavailable) return st;
  return Status(st.code(), st.message() + "; this state snapshot cannot be restored: restore an older state snapshot "
                                          "that verifies, and take a new full backup of the node (`ailee-cli backup state --full`)");
}

}  // namespace ailee::ops
