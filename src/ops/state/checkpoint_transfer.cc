#include "ops/state/checkpoint_transfer.h"

#include <algorithm>

#include "base/fs.h"
#include "crypto/hash.h"
#include "state/checkpoint_files.h"

namespace ailee::ops {
namespace {

// Objects are fetched in pieces so a large SST never sits in memory whole.
constexpr uint64_t kDownloadPiece = 32ull << 20;

Status DownloadFile(storage::ObjectStore& store, const state::CheckpointFile& f, const std::string& path,
                    uint64_t& done, uint64_t total, const state::CheckpointProgressFn& progress) {
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(path)));
  ASSIGN_OR_RETURN(uint64_t size, store.Stat(f.path));
  if (size != f.size) {
    return DataLoss(f.path + " in " + store.Location() + " has " + std::to_string(size) + " bytes; the manifest says " +
                    std::to_string(f.size));
  }
  ASSIGN_OR_RETURN(fs::FileWriter out, fs::FileWriter::Create(path));
  crypto::Sha256Stream hash;
  for (uint64_t off = 0; off < f.size; off += kDownloadPiece) {
    const uint64_t n = std::min(kDownloadPiece, f.size - off);
    ASSIGN_OR_RETURN(std::string piece, store.GetRange(f.path, off, n));
    hash.Update(piece);
    RETURN_IF_ERROR(out.Append(piece));
    done += n;
    if (progress) progress("download", done, total);
  }
  ASSIGN_OR_RETURN(crypto::Hash256 got, hash.Finish());
  if (got != f.sha256) {
    return DataLoss(f.path + " in " + store.Location() + " does not match the manifest's SHA-256 (damaged or replaced)");
  }
  RETURN_IF_ERROR(out.Sync());
  return out.Close();
}

}  // namespace

bool IsRemoteCheckpointUrl(const std::string& url) {
  auto pos = url.find("://");
  return pos != std::string::npos && url.compare(0, pos, "file") != 0;
}

Status UploadCheckpoint(const std::string& dir, storage::ObjectStore& store, const state::CheckpointProgressFn& progress) {
  ASSIGN_OR_RETURN(state::CheckpointManifest m, state::ReadManifest(dir));
  ASSIGN_OR_RETURN(bool exists, store.Exists(state::kCheckpointManifestName));
  if (exists) return AlreadyExists("a checkpoint already exists at " + store.Location() + "; choose another --output");
  const uint64_t total = state::ManifestBytes(m);
  uint64_t done = 0;
  for (const auto& f : m.files) {
    auto opened = state::OpenedFile::Open(dir, f.path, f.size);
    if (!opened.ok()) return opened.status().WithContext("nothing was committed at " + store.Location());
    ASSIGN_OR_RETURN(std::string data, opened->Read());
    if (crypto::Sha256(data) != f.sha256) {
      return DataLoss(f.path + " in " + dir + " changed after the checkpoint was taken; nothing was committed at " +
                      store.Location());
    }
    RETURN_IF_ERROR(store.Put(f.path, data).WithContext("uploading " + f.path));
    done += f.size;
    if (progress) progress("upload", done, total);
  }
  // The manifest is the commit point.
  return store.Put(state::kCheckpointManifestName, state::EncodeManifest(m)).WithContext("uploading the manifest");
}

Result<state::CheckpointManifest> DownloadCheckpoint(storage::ObjectStore& store, const std::string& dir,
                                              const state::CheckpointProgressFn& progress) {
  if (fs::Exists(dir)) return AlreadyExists(dir + " exists; the download needs a new directory");
  auto text = store.Get(state::kCheckpointManifestName);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound("no checkpoint at " + store.Location() + " (no " + state::kCheckpointManifestName +
                      "; an upload that did not finish has none)");
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(state::CheckpointManifest m, state::DecodeManifest(*text, store.Location()));
  const std::string staging = fs::TempSiblingName(dir);
  RETURN_IF_ERROR(fs::MakeDirs(staging));
  const uint64_t total = state::ManifestBytes(m);
  uint64_t done = 0;
  Status st;
  for (const auto& f : m.files) {
    st = DownloadFile(store, f, fs::JoinPath(staging, f.path), done, total, progress);
    if (!st.ok()) break;
  }
  if (st.ok()) st = fs::WriteFileAtomic(fs::JoinPath(staging, state::kCheckpointManifestName), *text);
  if (st.ok()) st = fs::RenameDurable(staging, dir);
  if (!st.ok()) {
    (void)fs::RemoveAll(staging);
    return st;
  }
  return m;
}

Result<std::string> DownloadCheckpointBeside(storage::ObjectStore& store, const std::string& beside_in,
                                             const state::CheckpointProgressFn& progress) {
  std::string beside = beside_in;
  while (beside.size() > 1 && beside.back() == '/') beside.pop_back();
  fs::RemoveAbandoned(fs::Dirname(beside), fs::Basename(beside) + ".tmp.");
  const std::string dir = fs::TempSiblingName(beside);
  RETURN_IF_ERROR(DownloadCheckpoint(store, dir, progress).status());
  return dir;
}

}  // namespace ailee::ops
