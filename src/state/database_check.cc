#include "state/database_check.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

namespace ailee::state {
namespace {

// Where the served files appear to RocksDB. Nothing is ever read from or
// written to this path on the real file system: every call that could reach
// it is answered from the DatabaseFiles source or refused.
constexpr char kDir[] = "/ailee-database-check";

rocksdb::IOStatus ReadOnlyRefusal(const std::string& what) {
  return rocksdb::IOStatus::NotSupported("read-only database check: refusing to " + what);
}

class NullLogger : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

class NoLock : public rocksdb::FileLock {};

// Serves the files of one DatabaseFiles source as the directory kDir.
class SourceFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit SourceFileSystem(DatabaseFiles& files)
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()), files_(files) {
    for (auto& f : files_.List()) sizes_[f.name] = f.size;
  }

  const char* Name() const override { return "AileeDatabaseCheckFileSystem"; }

  // The first error the source returned, as the source returned it.
  Status source_error() {
    std::lock_guard lock(mu_);
    return source_error_;
  }

  rocksdb::IOStatus Read(const std::string& name, uint64_t offset, size_t n, char* out) {
    std::lock_guard lock(mu_);
    Status st = files_.ReadAt(name, offset, n, out);
    if (st.ok()) return rocksdb::IOStatus::OK();
    if (source_error_.ok()) source_error_ = st;
    return rocksdb::IOStatus::IOError(name + ": " + st.message());
  }

  bool Lookup(const std::string& path, std::string* name, uint64_t* size) const {
    const std::string prefix = std::string(kDir) + "/";
    if (path.rfind(prefix, 0) != 0) return false;
    auto it = sizes_.find(path.substr(prefix.size()));
    if (it == sizes_.end()) return false;
    *name = it->first;
    *size = it->second;
    return true;
  }

  rocksdb::IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions&,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                      rocksdb::IODebugContext*) override {
    std::string name;
    uint64_t size = 0;
    if (!Lookup(f, &name, &size)) return rocksdb::IOStatus::PathNotFound(f);
    r->reset(new SequentialFile(this, name, size));
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions&,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext*) override {
    std::string name;
    uint64_t size = 0;
    if (!Lookup(f, &name, &size)) return rocksdb::IOStatus::PathNotFound(f);
    r->reset(new RandomAccessFile(this, name, size));
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus FileExists(const std::string& f, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    std::string name;
    uint64_t size = 0;
    if (f == kDir || Lookup(f, &name, &size)) return rocksdb::IOStatus::OK();
    return rocksdb::IOStatus::NotFound(f);
  }
  rocksdb::IOStatus GetChildren(const std::string& dir, const rocksdb::IOOptions&, std::vector<std::string>* r,
                                rocksdb::IODebugContext*) override {
    if (dir != kDir) return rocksdb::IOStatus::PathNotFound(dir);
    r->clear();
    for (const auto& [name, size] : sizes_) r->push_back(name);
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus GetChildrenFileAttributes(const std::string& dir, const rocksdb::IOOptions&,
                                              std::vector<rocksdb::FileAttributes>* r,
                                              rocksdb::IODebugContext*) override {
    if (dir != kDir) return rocksdb::IOStatus::PathNotFound(dir);
    r->clear();
    for (const auto& [name, size] : sizes_) r->push_back({name, size});
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus GetFileSize(const std::string& f, const rocksdb::IOOptions&, uint64_t* s,
                                rocksdb::IODebugContext*) override {
    std::string name;
    if (!Lookup(f, &name, s)) return rocksdb::IOStatus::PathNotFound(f);
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus GetFileModificationTime(const std::string& f, const rocksdb::IOOptions&, uint64_t* t,
                                            rocksdb::IODebugContext*) override {
    std::string name;
    uint64_t size = 0;
    if (!Lookup(f, &name, &size)) return rocksdb::IOStatus::PathNotFound(f);
    *t = 0;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus IsDirectory(const std::string& path, const rocksdb::IOOptions&, bool* is_dir,
                                rocksdb::IODebugContext*) override {
    std::string name;
    uint64_t size = 0;
    if (path == kDir) {
      *is_dir = true;
    } else if (Lookup(path, &name, &size)) {
      *is_dir = false;
    } else {
      return rocksdb::IOStatus::PathNotFound(path);
    }
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus GetAbsolutePath(const std::string& db_path, const rocksdb::IOOptions&, std::string* out,
                                    rocksdb::IODebugContext*) override {
    *out = db_path;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus LockFile(const std::string&, const rocksdb::IOOptions&, rocksdb::FileLock** l,
                             rocksdb::IODebugContext*) override {
    *l = new NoLock;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus UnlockFile(rocksdb::FileLock* l, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    delete l;
    return rocksdb::IOStatus::OK();
  }

  // Everything that would write, or look at the real file system, is refused.
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSWritableFile>*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("create " + f);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions&,
                                       std::unique_ptr<rocksdb::FSWritableFile>*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("write " + f);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string&, const rocksdb::FileOptions&,
                                      std::unique_ptr<rocksdb::FSWritableFile>*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("write " + f);
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("write " + f);
  }
  rocksdb::IOStatus NewMemoryMappedFileBuffer(const std::string& f,
                                              std::unique_ptr<rocksdb::MemoryMappedFileBuffer>*) override {
    return ReadOnlyRefusal("map " + f);
  }
  rocksdb::IOStatus NewDirectory(const std::string& d, const rocksdb::IOOptions&,
                                 std::unique_ptr<rocksdb::FSDirectory>*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("open directory " + d + " for syncing");
  }
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("delete " + f);
  }
  rocksdb::IOStatus Truncate(const std::string& f, size_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("truncate " + f);
  }
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("create " + d);
  }
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("create " + d);
  }
  rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("delete " + d);
  }
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string&, const rocksdb::IOOptions&,
                               rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("rename " + s);
  }
  rocksdb::IOStatus LinkFile(const std::string& s, const std::string&, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("link " + s);
  }
  rocksdb::IOStatus NumFileLinks(const std::string& f, const rocksdb::IOOptions&, uint64_t*,
                                 rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("count links of " + f);
  }
  rocksdb::IOStatus AreFilesSame(const std::string& a, const std::string&, const rocksdb::IOOptions&, bool*,
                                 rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("compare " + a);
  }
  rocksdb::IOStatus NewLogger(const std::string& f, const rocksdb::IOOptions&, std::shared_ptr<rocksdb::Logger>*,
                              rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("create the log " + f);
  }
  rocksdb::IOStatus GetTestDirectory(const rocksdb::IOOptions&, std::string*, rocksdb::IODebugContext*) override {
    return ReadOnlyRefusal("use a test directory");
  }

 private:
  class SequentialFile : public rocksdb::FSSequentialFile {
   public:
    SequentialFile(SourceFileSystem* fs, std::string name, uint64_t size) : fs_(fs), name_(std::move(name)), size_(size) {}
    rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions&, rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext*) override {
      const size_t k = pos_ >= size_ ? 0 : static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_));
      if (k > 0) {
        auto s = fs_->Read(name_, pos_, k, scratch);
        if (!s.ok()) return s;
      }
      pos_ += k;
      *result = rocksdb::Slice(scratch, k);
      return rocksdb::IOStatus::OK();
    }
    rocksdb::IOStatus Skip(uint64_t n) override {
      pos_ = std::min(size_, pos_ + n);
      return rocksdb::IOStatus::OK();
    }

   private:
    SourceFileSystem* fs_;
    std::string name_;
    uint64_t size_;
    uint64_t pos_ = 0;
  };

  class RandomAccessFile : public rocksdb::FSRandomAccessFile {
   public:
    RandomAccessFile(SourceFileSystem* fs, std::string name, uint64_t size) : fs_(fs), name_(std::move(name)), size_(size) {}
    rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions&, rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext*) const override {
      const size_t k = offset >= size_ ? 0 : static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
      if (k > 0) {
        auto s = fs_->Read(name_, offset, k, scratch);
        if (!s.ok()) return s;
      }
      *result = rocksdb::Slice(scratch, k);
      return rocksdb::IOStatus::OK();
    }

   private:
    SourceFileSystem* fs_;
    std::string name_;
    uint64_t size_;
  };

  DatabaseFiles& files_;
  std::map<std::string, uint64_t> sizes_;
  std::mutex mu_;
  Status source_error_;
};

// "table file 000123.sst" for RocksDB's "table file 123" or "000123.sst" /
// "000123.ldb" (the name it tries second for a missing table file); else the
// name of a served file the message mentions; else "".
std::string FileNamed(const std::string& msg, const std::map<std::string, uint64_t>& names) {
  auto table = [](const std::string& digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06llu.sst", std::stoull(digits));
    return "table file " + std::string(buf);
  };
  auto digits_at = [&](size_t i) {
    size_t j = i;
    while (j < msg.size() && std::isdigit(static_cast<unsigned char>(msg[j]))) ++j;
    return j;
  };
  const std::string marker = "table file ";
  for (size_t at = msg.find(marker); at != std::string::npos; at = msg.find(marker, at + 1)) {
    const size_t i = at + marker.size(), j = digits_at(i);
    if (j > i && j - i <= 18) return table(msg.substr(i, j - i));
  }
  for (const char* ext : {".sst", ".ldb"}) {
    for (size_t at = msg.find(ext); at != std::string::npos; at = msg.find(ext, at + 1)) {
      size_t i = at;
      while (i > 0 && std::isdigit(static_cast<unsigned char>(msg[i - 1]))) --i;
      if (i < at && at - i <= 18) return table(msg.substr(i, at - i));
    }
  }
  for (const auto& [name, size] : names) {
    if (msg.find(name) != std::string::npos) return name;
  }
  return "";
}

std::string Clean(std::string msg) {
  const std::string dir = std::string(kDir) + "/";
  for (size_t at = msg.find(dir); at != std::string::npos; at = msg.find(dir, at)) msg.erase(at, dir.size());
  return msg;
}

}  // namespace

Status CheckDatabaseOpens(DatabaseFiles& files) {
  auto fs = std::make_shared<SourceFileSystem>(files);
  std::map<std::string, uint64_t> names;
  for (const auto& f : files.List()) names[f.name] = f.size;
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);

  rocksdb::DBOptions o;
  o.env = env.get();
  o.info_log = std::make_shared<NullLogger>();
  o.create_if_missing = false;
  o.paranoid_checks = true;
  // Open every table file at open, and check each one's unique id against
  // the MANIFEST (what a restored node does when it opens the file).
  o.max_open_files = -1;
  o.max_file_opening_threads = 1;
  o.verify_sst_unique_id_in_manifest = true;
  o.skip_checking_sst_file_sizes_on_db_open = false;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;

  auto failure = [&](const rocksdb::Status& s, const char* step) -> Status {
    Status src = fs->source_error();
    if (!src.ok()) return src;
    const std::string msg = Clean(s.ToString());
    const std::string file = FileNamed(msg, names);
    return DataLoss((file.empty() ? std::string("the database") : file) + ": the files do not form a database that opens (" +
                    step + "; RocksDB: " + msg + "); a restore of them would fail the same way");
  };

  if (!names.count("CURRENT")) {
    return DataLoss("CURRENT: missing, so the files do not form a database that opens; a restore of them would fail");
  }
  std::vector<std::string> cf_names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(o, kDir, &cf_names);
  if (!s.ok()) return failure(s, "listing its column families");
  std::vector<rocksdb::ColumnFamilyDescriptor> cfds;
  for (const auto& n : cf_names) cfds.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(o, kDir, cfds, &handles, &raw);
  if (!s.ok()) return failure(s, "opening it read-only");
  std::unique_ptr<rocksdb::DB> db(raw);
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  s = db->Close();
  if (!s.ok() && !s.IsNotSupported()) return failure(s, "closing it");
  Status src = fs->source_error();
  if (!src.ok()) return src;
  return Status::Ok();
}

}  // namespace ailee::state
