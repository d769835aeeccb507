#include "state/checkpoint_apply.h"

#include <atomic>
#include <filesystem>
#include <set>

#include "base/file_system.h"
#include "base/fs.h"
#include "base/install_directory.h"
#include "base/scratch.h"
#include "state/checkpoint_files.h"
#include "state/checkpoint_verify.h"
#include "state/data_dir.h"
#include "base/parallel.h"

namespace ailee::state {
namespace {

// Copies the opened file to dst (created exclusively), hashing what it
// writes, fsynced. Nothing is left at dst on failure.
Result<crypto::Hash256> CopyOpened(const OpenedFile& in, const std::string& dst, fs::FileSystem* fsys) {
  ASSIGN_OR_RETURN(auto out, fsys->NewWritableFile(dst, 0644, true));
  auto hash = in.Hash(out.get());
  Status st = hash.status();
  if (st.ok()) st = out->Sync();
  Status closed = out->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) {
    (void)fsys->Unlink(dst);
    return st;
  }
  return *hash;
}

// The directories below `staged` that the manifest's files lie in, deepest
// first: each is synced before the tree is installed, so that no entry in
// it is lost to a power loss after the swap (InstallDirectory syncs
// `staged` itself).
std::vector<std::string> SubdirsDeepestFirst(const std::string& staged, const CheckpointManifest& m) {
  std::set<std::string> rel;
  for (const auto& f : m.files)
    for (size_t pos = f.path.find('/'); pos != std::string::npos; pos = f.path.find('/', pos + 1))
      rel.insert(f.path.substr(0, pos));
  std::vector<std::string> out;
  for (auto it = rel.rbegin(); it != rel.rend(); ++it) out.push_back(fs::JoinPath(staged, *it));
  return out;
}

}  // namespace

Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target_in, const ApplyOptions& o) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  ApplyReport r;
  fs::FileSystem* fsys = fs::FileSystem::Or(o.file_system);
  RETURN_IF_ERROR(EnsureNotInUse(target));
  // Cheap refusals first: the manifest names the source's tip.
  ASSIGN_OR_RETURN(CheckpointManifest first, ReadManifest(src));
  RETURN_IF_ERROR(fs::RecoverInterruptedInstall(target, fsys));
  RETURN_IF_ERROR(CheckNotRollingBack(target, first.height, first.block_hash, o.allow_rollback));

  // 1. The source is verified exactly as verify-checkpoint does before a
  // byte of it is copied. A private download was hashed file by file as it
  // was written; its database is proven once, staged (step 3), which is
  // the same bytes.
  CheckpointVerifyReport verified;
  if (o.consume_src) {
    verified.manifest = first;
    ASSIGN_OR_RETURN(verified.problems, UnlistedEntries(src, first));
    verified.ok = verified.problems.empty();
  } else {
    ASSIGN_OR_RETURN(verified, VerifyCheckpoint(src, o.federation, o.progress));
  }
  if (!verified.ok) {
    return DataLoss("checkpoint " + src + " failed verification, nothing was applied to " + target + ": " +
                    verified.problems.front() +
                    (verified.problems.size() > 1
                         ? " (and " + std::to_string(verified.problems.size() - 1) + " more: `ailee-cli verify-checkpoint " + src + "` lists them)"
                         : std::string()));
  }
  r.manifest = verified.manifest;
  if (EncodeManifest(r.manifest) != EncodeManifest(first))
    return DataLoss("the manifest of " + src + " changed while it was being applied; nothing was applied to " + target);

  // Each run stages under a name carrying its owner (base/scratch.h): a
  // concurrent apply into the same target never removes or fills this run's
  // tree, and this run removes only what killed runs left (and the fixed
  // name older versions staged in).
  const std::string parent = fs::Dirname(target);
  RETURN_IF_ERROR(fs::MakeDirs(parent, 0755, fsys));
  const std::string scratch_prefix = "." + fs::Basename(target) + ".apply-";
  fs::RemoveAbandoned(parent, scratch_prefix, fsys);
  RETURN_IF_ERROR(fs::RemoveAll(target + ".apply-partial", fsys));
  const std::string staged = fs::JoinPath(parent, fs::ScratchName(scratch_prefix));
  RETURN_IF_ERROR(fsys->Mkdir(staged, 0755, false));
  auto fail = [&](Status st) { (void)fs::RemoveAll(staged, fsys); return st; };

  // 2. Assemble in `staged`. Every file, reused from the target or taken
  // from the source, is opened without following links, checked to be a
  // regular file of the manifest's size and read no further; copies are
  // hashed as they are written, links are checked to be the inode opened.
  const bool target_dir = fs::IsDirectory(target);
  std::atomic<uint64_t> written{0}, reused{0}, reused_files{0};
  uint64_t total = 0;
  for (const auto& f : r.manifest.files) total += f.size;
  auto placed = [&] { if (o.progress) o.progress("apply", written + reused, total); };
  Status st = ParallelFor(r.manifest.files.size(), o.threads, [&](size_t i, int) -> Status {
    const auto& f = r.manifest.files[i];
    std::string dst = fs::JoinPath(staged, f.path);
    RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(dst), 0755, fsys));
    if (target_dir) {
      auto old = OpenedFile::Open(target, f.path, f.size);
      if (old.ok()) {
        // Only immutable files may be shared by hard link; the rest are copied.
        bool reusable = false;
        if (IsImmutableDatabaseFile(f.path)) {
          auto hash = old->Hash();
          reusable = hash.ok() && *hash == f.sha256 && old->LinkTo(dst, fsys);
        } else {
          auto hash = CopyOpened(*old, dst, fsys);
          reusable = hash.ok() && *hash == f.sha256;
          if (hash.ok() && !reusable) (void)fsys->Unlink(dst);
        }
        if (reusable) {
          reused += f.size;
          reused_files++;
          placed();
          return Status::Ok();
        }
      }
    }
    ASSIGN_OR_RETURN(OpenedFile in, OpenedFile::Open(src, f.path, f.size));
    if (o.consume_src && in.LinkTo(dst, fsys)) {
      written += f.size;
      placed();
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto hash, CopyOpened(in, dst, fsys));
    if (hash != f.sha256) {
      return DataLoss("checkpoint file " + in.path() + " does not match its manifest (SHA-256 " + crypto::HashToHex(hash) +
                      "): it changed after it was verified; the checkpoint is damaged or being modified, nothing was applied");
    }
    written += f.size;
    placed();
    return Status::Ok();
  });
  if (!st.ok()) return fail(st.WithContext("applying " + src + " to " + target));
  for (const auto& dir : SubdirsDeepestFirst(staged, r.manifest)) {
    if (st.ok()) st = fsys->SyncDir(dir);
  }
  if (st.ok()) st = fs::WriteFileAtomic(fs::JoinPath(staged, kCheckpointManifestName), EncodeManifest(r.manifest), 0644, fsys);
  if (!st.ok()) return fail(st.WithContext("applying " + src + " to " + target));

  // 3. The staged tree proves before it may replace anything: what is
  // swapped in is exactly what was proven.
  CheckpointVerifyReport proof;
  ProveCheckpointDatabase(staged, r.manifest, o.federation, o.progress, &proof);
  if (!proof.problems.empty()) {
    return fail(DataLoss("the state assembled from " + src + " does not prove, so " + target +
                         " was left as it was: " + proof.problems.front()));
  }

  // 4. Swap.
  st = fs::InstallDirectory(staged, target, fsys);
  if (!st.ok()) return fail(st);
  r.files = r.manifest.files.size();
  r.files_reused = reused_files;
  r.bytes_written = written;
  r.bytes_reused = reused;
  return r;
}

}  // namespace ailee::state
