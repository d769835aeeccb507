// LocalObjectStore: objects as files below a root directory (file:///path).
//
// Key "data/ab/abcd..." is the file <root>/data/ab/abcd...; directories are
// created on demand. Put writes a temporary sibling ("<name>.tmp.<pid>...")
// then fsync, rename, fsync of the directory, so a crash leaves the old object
// or the new one; leftover temporaries are invisible to List and Get.
// PutIfAbsent uses link(2), so exactly one of several racing writers wins
// even across processes on one host (and on NFS with link semantics).
// Large objects from 4 KiB-aligned buffers (packs) are written around the
// page cache (fs::WriteAt). Every change goes through `file_system`
// (base/file_system.h; nullptr: fs::FileSystem::Default()), so a crash test
// can cut the power under a repository.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "base/file_system.h"
#include "storage/object_store.h"

namespace ailee::storage {

class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root, fs::FileSystem* file_system = nullptr);

  std::string Location() const override { return "file://" + root_; }
  Status Put(const std::string& key, std::string_view data) override;
  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Status GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out) override;
  Result<uint64_t> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;

 private:
  Result<std::string> PathFor(const std::string& key) const;
  Status EnsureParentDir(const std::string& path);
  Status Annotate(Status st, std::string_view op, const std::string& key) const;

  fs::FileSystem* file_system() const { return fs::FileSystem::Or(file_system_); }

  std::string root_;
  fs::FileSystem* file_system_;
  std::mutex dirs_mu_;
  std::set<std::string> durable_dirs_;  // directories this store has made durable
};

}  // namespace ailee::storage
