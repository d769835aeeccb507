#include "state/checkpoint.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "crypto/hash.h"
#include "base/file_system.h"
#include "base/parallel.h"
#include "state/proof_pending.h"
#include "state/state_db.h"

namespace ailee::state {
namespace {

std::vector<std::string> RegularFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = std::filesystem::relative(it->path(), dir, ec).string();
    if (rel == kCheckpointManifestName) continue;
    out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::vector<CheckpointFile>> HashTree(const std::string& dir, const CheckpointProgressFn& progress) {
  auto names = RegularFiles(dir);
  std::vector<CheckpointFile> files(names.size());
  std::atomic<uint64_t> done{0};
  RETURN_IF_ERROR(ParallelFor(names.size(), kCheckpointThreads, [&](size_t i, int) -> Status {
    std::string full = fs::JoinPath(dir, names[i]);
    ASSIGN_OR_RETURN(uint64_t size, fs::FileSize(full));
    ASSIGN_OR_RETURN(auto hash, crypto::Sha256File(full));
    files[i] = {names[i], size, hash};
    done += size;
    return Status::Ok();
  }));
  if (progress) progress("hash", done, done);
  return files;
}

Result<CheckpointManifest> TakeOfflineCheckpoint(const std::string& data_dir, const std::string& node_id,
                                                 const std::string& dir,
                                                 std::map<std::string, DatabaseFileFacts>* table_facts) {
  CheckpointManifest m;
  m.node_id = node_id;
  m.created_unix = Clock::Real().NowSeconds();
  if (data_dir.empty()) return InvalidArgument("no running node to ask and no data dir to open");
  if (!fs::IsDirectory(data_dir)) return NotFound("data dir " + data_dir + " does not exist");
  // No compaction while the checkpoint is taken: it would compete with the
  // backup and replace table files the incremental would otherwise reuse.
  OpenOptions open;
  open.create_if_missing = false;
  open.compact = false;
  auto db = StateDb::Open(data_dir, open);
  if (!db.ok()) {
    if (db.status().code() == StatusCode::kUnavailable)
      return WithHint(FailedPrecondition("data dir " + data_dir + " is in use by a running node"), "stop the node first (systemctl stop ailee-node), or take the checkpoint through its admin API: without --offline, with the node answering at its configured listen address");
    return db.status();
  }
  // Read while the database is held, as the node does: no restore can swap
  // a marked tree in between.
  RETURN_IF_ERROR(EnsureProven(data_dir));
  ASSIGN_OR_RETURN(auto info, (*db)->CreateCheckpoint(dir));
  m.height = info.height;
  m.block_hash = info.block_hash;
  m.state_root = info.state_root;
  m.source = "offline:" + data_dir;
  if (table_facts) *table_facts = std::move(info.table_facts);
  return m;
}

Status SealCheckpoint(const std::string& dir, CheckpointManifest* m, const CheckpointProgressFn& progress,
                      fs::FileSystem* file_system) {
  ASSIGN_OR_RETURN(m->files, HashTree(dir, progress));
  for (const auto& f : m->files) RETURN_IF_ERROR(fs::FsyncFile(fs::JoinPath(dir, f.path)));
  // The entries of the files in subdirectories must be durable before the
  // manifest vouches for them (WriteFileAtomic syncs `dir` itself).
  std::set<std::string> subdirs;
  for (const auto& f : m->files)
    for (size_t pos = f.path.find('/'); pos != std::string::npos; pos = f.path.find('/', pos + 1))
      subdirs.insert(f.path.substr(0, pos));
  for (const auto& sub : subdirs) RETURN_IF_ERROR(fs::FsyncDir(fs::JoinPath(dir, sub), file_system));
  RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(dir, kCheckpointManifestName), EncodeManifest(*m), 0644, file_system));
  // And the checkpoint directory's own entry: a sealed checkpoint that a
  // power loss makes vanish would be reported done and then be gone.
  return fs::FsyncDir(fs::Dirname(dir), file_system);
}

}  // namespace ailee::state
