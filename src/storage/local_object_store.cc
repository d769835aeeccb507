#include "storage/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "base/fs.h"

namespace ailee::storage {

LocalObjectStore::LocalObjectStore(std::string root, fs::FileSystem* file_system)
    : root_(std::move(root)), file_system_(file_system) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status LocalObjectStore::Annotate(Status st, std::string_view op, const std::string& key) const {
  if (st.ok()) return st;
  return st.WithContext(std::string(op) + " object " + key + " in " + Location());
}

Result<std::string> LocalObjectStore::PathFor(const std::string& key) const {
  RETURN_IF_ERROR(ValidateKey(key));
  return root_ + "/" + key;
}

Status LocalObjectStore::EnsureParentDir(const std::string& path) {
  std::string dir = fs::Dirname(path);
  {
    std::lock_guard lock(dirs_mu_);
    if (durable_dirs_.count(dir)) return Status::Ok();
  }
  RETURN_IF_ERROR(fs::MakeDirs(dir, 0755, file_system()));
  // New directory entries must be durable before an object inside them is
  // reported durable: fsync every directory from the new one up to the root.
  // Also when the directory exists: a run killed between its mkdir and these
  // fsyncs left one whose entry a power loss can still take (with every
  // object put into it since). Once per directory and store: a directory in
  // durable_dirs_ has its entry, and every ancestor's up to the root, synced
  // already, so the walk up ends there (the packs' data/XX directories would
  // otherwise sync data/, the root and its parent again, each, per backup).
  std::vector<std::string> synced;
  for (std::string d = dir; d.size() >= root_.size(); d = fs::Dirname(d)) {
    {
      std::lock_guard lock(dirs_mu_);
      if (durable_dirs_.count(d)) break;
    }
    RETURN_IF_ERROR(file_system()->SyncDir(fs::Dirname(d)));
    synced.push_back(d);
    if (d == root_) break;
  }
  // Only once the whole walk succeeded: an entry vouches for its ancestors.
  std::lock_guard lock(dirs_mu_);
  for (auto& d : synced) durable_dirs_.insert(std::move(d));
  return Status::Ok();
}

Status LocalObjectStore::Put(const std::string& key, std::string_view data) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  RETURN_IF_ERROR(Annotate(EnsureParentDir(path), "put", key));
  return Annotate(fs::WriteFileAtomic(path, data, 0644, file_system()), "put", key);
}

Status LocalObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  RETURN_IF_ERROR(Annotate(EnsureParentDir(path), "put", key));
  return Annotate(fs::WriteFileExclusive(path, data, 0644, file_system()), "create", key);
}

Result<std::string> LocalObjectStore::Get(const std::string& key) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  auto r = fs::ReadFile(path);
  if (!r.ok()) return Annotate(r.status(), "get", key);
  return r;
}

Result<std::string> LocalObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  // Bulk readers use GetRangeInto with a reused buffer; this one zero-fills.
  std::string out(length, '\0');
  RETURN_IF_ERROR(GetRangeInto(key, offset, length, out.data()));
  return out;
}

Status LocalObjectStore::GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Annotate(ErrnoStatus("open", path, errno), "get", key);
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    return Annotate(ErrnoStatus("stat", path, e), "get", key);
  }
  uint64_t size = static_cast<uint64_t>(sb.st_size);
  if (offset > size || (offset == size && length > 0)) {
    ::close(fd);
    return InvalidArgument("get range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                           ") of object " + key + " in " + Location() + ": object has only " +
                           std::to_string(size) + " bytes");
  }
  if (offset + length > size) {
    ::close(fd);
    return DataLoss("get range [" + std::to_string(offset) + ", +" + std::to_string(length) + ") of object " +
                    key + " in " + Location() + ": object is truncated at " + std::to_string(size) + " bytes");
  }
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Annotate(ErrnoStatus("read", path, e), "get", key);
    }
    if (n == 0) {
      ::close(fd);
      return DataLoss("get object " + key + " in " + Location() + ": truncated while reading");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

Result<uint64_t> LocalObjectStore::Stat(const std::string& key) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return Annotate(ErrnoStatus("stat", path, errno), "stat", key);
  if (!S_ISREG(sb.st_mode)) return NotFound("stat object " + key + " in " + Location() + ": not a file");
  return static_cast<uint64_t>(sb.st_size);
}

Status LocalObjectStore::Delete(const std::string& key) {
  ASSIGN_OR_RETURN(std::string path, PathFor(key));
  if (Status st = file_system()->Unlink(path); !st.ok()) {
    if (st.code() == StatusCode::kNotFound && !fs::Exists(path)) return Status::Ok();
    return Annotate(st, "delete", key);
  }
  return Annotate(file_system()->SyncDir(fs::Dirname(path)), "delete", key);
}

Result<std::vector<ObjectInfo>> LocalObjectStore::List(const std::string& prefix) {
  // Walk only the directory the prefix names, not the whole store.
  std::string dir_part;
  if (auto slash = prefix.find_last_of('/'); slash != std::string::npos) dir_part = prefix.substr(0, slash);
  std::string start = dir_part.empty() ? root_ : root_ + "/" + dir_part;
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(start, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(start, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) continue;
    std::string full = it->path().string();
    std::string key = full.substr(root_.size() + 1);
    if (key.find(".tmp.") != std::string::npos) continue;
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    uint64_t size = it->file_size(ec2);
    if (ec2) continue;  // vanished while listing (concurrent delete)
    out.push_back({std::move(key), size});
  }
  if (ec) return Annotate(ErrnoStatus("list", start, ec.value()), "list", prefix + "*");
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace ailee::storage
