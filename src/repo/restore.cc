#include "repo/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/file_system.h"
#include "base/fs.h"
#include "base/install_directory.h"
#include "base/parallel.h"
#include "base/scratch.h"
#include "repo/blob_run_reader.h"
#include "repo/snapshot.h"

namespace ailee::repo {
namespace {

// A file of the existing target as it was when hashed: a reuse must find
// this very file (same inode, unchanged since), not whatever has its name by
// then.
struct LocalFile {
  std::string path;
  struct stat st {};
};

// Same inode, size and mtime (a link of our own changes only the ctime).
bool SameContent(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// ... and not even its metadata touched (no one can set a ctime back).
bool SameFile(const struct stat& a, const struct stat& b) {
  return SameContent(a, b) && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Opens a regular file of the target without following a symlink or
// blocking on a fifo; -1 for anything else.
int OpenLocalFile(const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// SHA-256 hex of the regular file at `path` and its identity; nothing when
// it is not a regular file or changed while it was read.
std::optional<std::pair<std::string, LocalFile>> HashLocalFile(const std::string& path) {
  LocalFile lf{path, {}};
  int fd = OpenLocalFile(path, &lf.st);
  if (fd < 0) return std::nullopt;
  crypto::Sha256Stream sha;
  std::string buf(1 << 20, '\0');
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  struct stat after {};
  ok = ok && ::fstat(fd, &after) == 0 && SameFile(lf.st, after);
  ::close(fd);
  auto hash = sha.Finish();
  if (!ok || !hash.ok()) return std::nullopt;  // not reused: fetched instead
  return std::pair{crypto::HashToHex(*hash), std::move(lf)};
}

struct Restorer {
  Restorer(Repository& rp, const Snapshot& s, const RestoreOptions& o, std::string stage)
      : repo(rp), snap(s), options(o), files(*fs::FileSystem::Or(o.file_system)), staging(std::move(stage)) {}
  Repository& repo;
  const Snapshot& snap;
  const RestoreOptions& options;
  fs::FileSystem& files;
  std::string staging;
  bool as_root = ::geteuid() == 0;
  std::unordered_map<std::string, LocalFile> local_by_sha;  // sha256 hex -> existing file as hashed
  std::mutex mu;
  RestoreProgress progress;
  RestoreStats stats;

  std::string Dest(const FileEntry& e) const { return staging + "/" + e.path; }

  Status Fail(const FileEntry& e, Status st) const {
    return st.WithContext("restore of " + e.path + " from snapshot " + ShortId(snap.id));
  }

  // Sync, attributes, close: a restored file counts once this returns OK.
  Status Finish(fs::WritableFile& out, const FileEntry& e) const {
    fs::FileAttributes attributes{.mode = e.mode, .uid = {}, .gid = e.gid, .mtime_ns = e.mtime_ns};
    if (as_root) attributes.uid = e.uid;
    Status st = out.Sync();
    if (st.ok()) st = out.SetAttributes(attributes);
    Status closed = out.Close();
    return st.ok() ? closed : st;
  }

  // Reuses `src` from the existing target (its content hash matched when the
  // target was indexed): a hard link when its metadata already matches, so
  // the old tree is not touched even if this restore fails later; otherwise
  // a copy. Only the very file that was hashed, unchanged since, is reused:
  // a file replaced or rewritten behind the restore's back (same name and
  // size), a symlink or a fifo now at its name are not. False: fetch instead.
  Result<bool> ReuseLocal(const FileEntry& e, LocalFile& src, const std::string& dst) {
    struct stat sb {};
    int in = OpenLocalFile(src.path, &sb);
    if (in < 0) return false;
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{in};
    struct stat expect {};
    {
      std::lock_guard lock(mu);
      expect = src.st;
    }
    if (!SameFile(sb, expect) || static_cast<uint64_t>(sb.st_size) != e.size) return false;
    // Still the hashed file after it was linked or copied, else undone.
    auto unchanged = [&](bool linked) {
      struct stat now {};
      if (::fstat(in, &now) != 0) return false;
      if (!linked) return SameFile(now, expect);
      if (!SameContent(now, expect)) return false;
      // Our link moved the ctime: what a later reuse of this file expects.
      std::lock_guard lock(mu);
      if (SameFile(src.st, expect)) src.st.st_ctim = now.st_ctim;
      return true;
    };
    const int64_t mtime_ns = static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
    const bool same_meta = (sb.st_mode & 07777) == e.mode && mtime_ns == e.mtime_ns &&
                           (!as_root || (sb.st_uid == e.uid && sb.st_gid == e.gid));
    // Linked through the descriptor: the inode that was checked, whatever
    // the name points to by now.
    const std::string by_fd = "/proc/self/fd/" + std::to_string(in);
    if (same_meta && files.Link(by_fd, dst).ok()) {
      if (unchanged(true)) return true;
      (void)files.Unlink(dst);
      return false;
    }
    ASSIGN_OR_RETURN(auto out, files.NewWritableFile(dst, 0600, true));
    Status st = out->AppendFrom(in, e.size);
    if (st.code() == StatusCode::kDataLoss) st = st.WithContext("copy " + src.path + ": file shrank while restoring");
    if (st.ok() && !unchanged(false)) {
      (void)out->Close();
      (void)files.Unlink(dst);
      return false;
    }
    if (st.ok()) st = Finish(*out, e);
    if (!st.ok()) return st;
    return true;
  }

  // Fetches and writes one file, its adjacent chunks merged into ranged
  // reads (repo/blob_run_reader.h) and written as they arrive. Each blob is
  // copied out of its run into `buffers`, decrypted in place and written from
  // there (4 KiB-aligned: around the page cache, see fs::WriteAt); nothing
  // is allocated per chunk.
  Status RestoreFile(const FileEntry& e, BlobRunBuffers* buffers) {
    const std::string dst = Dest(e);
    if (!e.sha256.empty() && e.size > 0) {
      auto it = local_by_sha.find(e.sha256);
      if (it != local_by_sha.end()) {
        ASSIGN_OR_RETURN(bool reused, ReuseLocal(e, it->second, dst));
        if (reused) {
          std::lock_guard lock(mu);
          ++stats.files_reused;
          return Status::Ok();
        }
      }
    }
    ASSIGN_OR_RETURN(auto out, files.NewWritableFile(dst, 0600, true));
    crypto::Sha256Stream sha;
    uint64_t written = 0;
    Status st;
    BlobRunReader reader(repo, e.chunks, options.reads, buffers);
    while (!reader.done()) {
      auto data = reader.Next();
      if (!data.ok()) {
        st = data.status().code() == StatusCode::kNotFound ? DataLoss(data.status().message()) : data.status();
        break;
      }
      sha.Update(*data);
      st = out->Append(*data);
      if (!st.ok()) break;
      written += data->size();
      std::lock_guard lock(mu);
      progress.bytes_done += data->size();
      stats.bytes_fetched += data->size();
      if (options.progress) options.progress(progress);
    }
    auto hash = sha.Finish();
    if (st.ok() && !hash.ok()) st = hash.status();
    if (st.ok()) {
      std::string got = crypto::HashToHex(*hash);
      if (got != e.sha256 || written != e.size) {
        st = DataLoss("restored content has SHA-256 " + got + " and " + std::to_string(written) +
                      " bytes; the snapshot records " + e.sha256 + " and " + std::to_string(e.size) + " bytes");
      }
    }
    if (st.ok()) st = Finish(*out, e);
    return st;
  }

  Status RestoreSymlink(const FileEntry& e) {
    const std::string dst = Dest(e);
    RETURN_IF_ERROR(files.Symlink(e.link_target, dst));
    if (as_root && ::lchown(dst.c_str(), e.uid, e.gid) != 0) return ErrnoStatus("lchown", dst, errno);
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = e.mtime_ns / 1000000000;
    times[0].tv_nsec = times[1].tv_nsec = e.mtime_ns % 1000000000;
    ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return Status::Ok();
  }

  Status RestoreEntry(const FileEntry& e, BlobRunBuffers* buffers) {
    std::string parent = fs::Dirname(Dest(e));
    if (!fs::IsDirectory(parent)) RETURN_IF_ERROR(fs::MakeDirs(parent, 0755, &files));
    Status st = e.type == FileEntry::Type::kSymlink ? RestoreSymlink(e) : RestoreFile(e, buffers);
    if (!st.ok()) return Fail(e, st);
    std::lock_guard lock(mu);
    ++progress.files_done;
    ++stats.files;
    if (e.type == FileEntry::Type::kFile) stats.bytes += e.size;
    return Status::Ok();
  }

  void IndexLocalFiles(const std::string& target) {
    std::set<uint64_t> sizes;
    for (const auto& f : snap.files) {
      if (f.type == FileEntry::Type::kFile && f.size > 0) sizes.insert(f.size);
    }
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(target, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code ec2;
      if (!it->is_regular_file(ec2) || it->is_symlink(ec2)) continue;
      uint64_t size = it->file_size(ec2);
      if (ec2 || !sizes.count(size)) continue;
      auto hashed = HashLocalFile(it->path().string());
      if (hashed) local_by_sha.emplace(std::move(hashed->first), std::move(hashed->second));
    }
  }
};

Status FinishDirectories(const Snapshot& snap, const std::string& staging, bool as_root, fs::FileSystem& files) {
  // Deepest first, so setting a read-only mode does not block the children.
  std::vector<const FileEntry*> dirs;
  for (const auto& f : snap.files) {
    if (f.type == FileEntry::Type::kDir) dirs.push_back(&f);
  }
  std::sort(dirs.begin(), dirs.end(), [](const FileEntry* a, const FileEntry* b) { return a->path > b->path; });
  for (const FileEntry* d : dirs) {
    std::string path = staging + "/" + d->path;
    RETURN_IF_ERROR(files.SyncDir(path));
    if (as_root && ::chown(path.c_str(), d->uid, d->gid) != 0) return ErrnoStatus("chown", path, errno);
    if (::chmod(path.c_str(), d->mode) != 0) return ErrnoStatus("chmod", path, errno);
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = d->mtime_ns / 1000000000;
    times[0].tv_nsec = times[1].tv_nsec = d->mtime_ns % 1000000000;
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
  }
  if (::chmod(staging.c_str(), 0755) != 0) return ErrnoStatus("chmod", staging, errno);
  return files.SyncDir(staging);
}

}  // namespace

Result<RestoreStats> RestoreSnapshot(Repository& repo, const std::string& snapshot_ref, const std::string& target_dir,
                                     const RestoreOptions& options) {
  ASSIGN_OR_RETURN(Snapshot snap, FindSnapshot(repo, snapshot_ref));
  return RestoreSnapshot(repo, snap, target_dir, options);
}

Result<RestoreStats> RestoreSnapshot(Repository& repo, const Snapshot& snap, const std::string& target_dir,
                                     const RestoreOptions& options) {
  const int64_t start = Clock::Real().MonotonicNanos();
  std::string target = target_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (target.empty()) return InvalidArgument("empty restore target");
  if (!options.allow_symlinks) {
    for (const auto& f : snap.files) {
      if (f.type != FileEntry::Type::kSymlink) continue;
      return InvalidArgument("snapshot " + ShortId(snap.id) + " holds a symbolic link \"" + f.path + "\" (to \"" +
                             f.link_target + "\"), but a " + snap.kind +
                             " restore creates only regular files and directories: refused before writing anything, " +
                             target + " is untouched; check who wrote this snapshot (`ailee-cli snapshots`, "
                             "`ailee-cli audit show`) and restore another one");
    }
  }

  const bool target_exists = fs::Exists(target);
  bool target_nonempty = false;
  if (target_exists) {
    if (!fs::IsDirectory(target)) return AlreadyExists("restore target " + target + " exists and is not a directory");
    ASSIGN_OR_RETURN(auto names, fs::ListDir(target));
    target_nonempty = !names.empty();
    if (target_nonempty && !options.force) {
      return AlreadyExists("restore target " + target + " is not empty; use --force to replace it");
    }
  }
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo.shared_store(), repo.clock(), false, options.lock));
  RETURN_IF_ERROR(repo.ReloadIndex().status());  // packs may have moved since Open (prune)

  fs::FileSystem& files = *fs::FileSystem::Or(options.file_system);
  const std::string parent = fs::Dirname(target);
  RETURN_IF_ERROR(fs::MakeDirs(parent, 0755, &files));
  // What killed restores into this target left: a staging tree (an old tree
  // a killed install set aside is fs::InstallDirectory's to remove).
  const std::string scratch_prefix = "." + fs::Basename(target) + ".restore-";
  fs::RemoveAbandoned(parent, scratch_prefix, &files);
  const std::string staging = fs::JoinPath(parent, fs::ScratchName(scratch_prefix));
  RETURN_IF_ERROR(files.Mkdir(staging, 0700, false));

  Restorer r(repo, snap, options, staging);
  for (const auto& f : snap.files) {
    if (f.type == FileEntry::Type::kFile) {
      ++r.progress.files_total;
      r.progress.bytes_total += f.size;
    }
  }
  Status st;
  if (target_nonempty && options.reuse_local) r.IndexLocalFiles(target);
  for (const auto& f : snap.files) {
    if (f.type != FileEntry::Type::kDir) continue;
    std::string path = staging + "/" + f.path;
    st = files.Mkdir(path, 0700, true);
    if (!st.ok()) break;
  }
  if (st.ok()) {
    // Regular files first; symlinks only once every file is in place, so no
    // file can be written through a symlink the snapshot also contains.
    // Largest files first: the workers then finish at about the same time
    // instead of one of them writing the biggest SST file alone at the end.
    std::vector<const FileEntry*> work;
    for (const auto& f : snap.files) {
      if (f.type == FileEntry::Type::kFile) work.push_back(&f);
    }
    std::stable_sort(work.begin(), work.end(), [](const FileEntry* a, const FileEntry* b) { return a->size > b->size; });
    std::vector<BlobRunBuffers> buffers(static_cast<size_t>(std::max(1, options.workers)));
    st = ParallelFor(work.size(), options.workers,
                     [&](size_t i, int worker) { return r.RestoreEntry(*work[i], &buffers[worker]); });
    for (const auto& f : snap.files) {
      if (st.ok() && f.type == FileEntry::Type::kSymlink) st = r.RestoreEntry(f, &buffers[0]);
    }
  }
  if (st.ok()) st = FinishDirectories(snap, staging, r.as_root, files);
  if (st.ok() && options.check_staged) st = options.check_staged(staging);

  // The swap, and what a crash leaves: base/install_directory.h.
  if (st.ok()) st = fs::InstallDirectory(staging, target, &files);
  // Either the failed staging tree or, after an exchange, the old target.
  (void)files.RemoveAll(staging);
  if (!st.ok()) return st.WithContext("restore into " + target);
  RETURN_IF_ERROR(lock->Release());
  r.stats.duration_ms = (Clock::Real().MonotonicNanos() - start) / 1000000;
  return r.stats;
}

}  // namespace ailee::repo
