#include "base/fault_injection_file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>

#include "base/fs.h"

namespace ailee::fs {
namespace {

namespace stdfs = std::filesystem;

// One spelling per path, so that SyncDir("a/b/") matches Dirname("a/b/c").
std::string Normal(const std::string& path) {
  std::string p = stdfs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.empty() ? "." : p;
}

bool Below(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// `path` with its prefix `from` replaced by `to`, when it is below `from`.
void Rebase(std::string& path, const std::string& from, const std::string& to) {
  if (!path.empty() && Below(path, from)) path = to + path.substr(from.size());
}

Status WriteRaw(const std::string& path, const std::string& data, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoStatus("restore", path, errno);
  Status st = WriteAt(fd, data, 0, path);
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 && st.ok()) st = ErrnoStatus("chmod", path, errno);
  ::close(fd);
  return st;
}

}  // namespace

// A file, symlink or directory tree as a power loss would bring it back.
struct FaultInjectionFileSystem::Saved {
  enum class Kind { kFile, kSymlink, kDir } kind = Kind::kFile;
  unsigned mode = 0644;
  std::string data;  // file content, or symlink target
  std::vector<std::pair<std::string, std::unique_ptr<Saved>>> children;

  Status Restore(const std::string& path) const {
    switch (kind) {
      case Kind::kFile:
        return WriteRaw(path, data, mode);
      case Kind::kSymlink:
        if (::symlink(data.c_str(), path.c_str()) != 0) return ErrnoStatus("restore symlink", path, errno);
        return Status::Ok();
      case Kind::kDir:
        if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("restore dir", path, errno);
        for (const auto& [name, child] : children) RETURN_IF_ERROR(child->Restore(JoinPath(path, name)));
        if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) return ErrnoStatus("chmod", path, errno);
        return Status::Ok();
    }
    return Status::Ok();
  }
};

// An entry change not yet durable: durable once every directory in
// `pending_dirs` was synced after it.
struct FaultInjectionFileSystem::Change {
  Op op;
  std::string a, b;              // path (and second path: rename's target, exchange's other)
  std::unique_ptr<Saved> saved;  // what the change removed (replaced by a rename, unlinked, removed)
  std::set<std::string> pending_dirs;
};

class FaultInjectionFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectionFileSystem* owner, std::unique_ptr<WritableFile> base, std::string path)
      : owner_(owner), base_(std::move(base)), key_(std::move(path)) {}

  Status Append(std::string_view data) override { return Write(Op::kAppend, data.size(), [&](uint64_t n) {
      return base_->Append(data.substr(0, n));
    });
  }
  Status AppendFrom(int src_fd, uint64_t length) override {
    return Write(Op::kAppend, length, [&](uint64_t n) { return base_->AppendFrom(src_fd, n); });
  }
  Status Sync() override {
    std::lock_guard lock(owner_->mu_);
    RETURN_IF_ERROR(owner_->Admit(Op::kSync, base_->path()));
    RETURN_IF_ERROR(base_->Sync());
    auto it = owner_->synced_size_.find(key_);
    if (it != owner_->synced_size_.end()) it->second = base_->size();
    owner_->Done();
    return Status::Ok();
  }
  Status SetAttributes(const FileAttributes& attributes) override {
    std::lock_guard lock(owner_->mu_);
    RETURN_IF_ERROR(owner_->Admit(Op::kSetAttributes, base_->path()));
    RETURN_IF_ERROR(base_->SetAttributes(attributes));
    owner_->Done();
    return Status::Ok();
  }
  Status Close() override {
    std::lock_guard lock(owner_->mu_);
    RETURN_IF_ERROR(owner_->Admit(Op::kClose, base_->path()));
    RETURN_IF_ERROR(base_->Close());
    owner_->Done();
    return Status::Ok();
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  template <typename Fn>
  Status Write(Op op, uint64_t length, Fn write) {
    std::lock_guard lock(owner_->mu_);
    RETURN_IF_ERROR(owner_->Admit(op, base_->path()));
    const uint64_t fits = std::min(length, owner_->space_left_);
    if (owner_->space_left_ != UINT64_MAX) owner_->space_left_ -= fits;
    if (fits > 0) RETURN_IF_ERROR(write(fits));
    if (fits < length) return ErrnoStatus("write", base_->path(), ENOSPC);
    owner_->Done();
    return Status::Ok();
  }

  FaultInjectionFileSystem* owner_;
  std::unique_ptr<WritableFile> base_;
  std::string key_;  // Normal(path)
};

std::string_view FaultInjectionFileSystem::OpName(Op op) {
  switch (op) {
    case Op::kCreate: return "create";
    case Op::kAppend: return "append";
    case Op::kSync: return "sync";
    case Op::kSetAttributes: return "set attributes";
    case Op::kClose: return "close";
    case Op::kRename: return "rename";
    case Op::kRenameExchange: return "exchange";
    case Op::kLink: return "link";
    case Op::kSymlink: return "symlink";
    case Op::kUnlink: return "unlink";
    case Op::kMkdir: return "mkdir";
    case Op::kSyncDir: return "sync dir";
    case Op::kRemoveAll: return "remove";
  }
  return "?";
}

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {
  if (!base_) {
    static PosixFileSystem posix;  // not Default(): that may be this one
    base_ = &posix;
  }
}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

uint64_t FaultInjectionFileSystem::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

void FaultInjectionFileSystem::CutPowerAfter(uint64_t n) {
  std::lock_guard lock(mu_);
  cut_at_ = n == 0 ? 0 : calls_ + n;
}

bool FaultInjectionFileSystem::power_is_out() const {
  std::lock_guard lock(mu_);
  return power_out_;
}

void FaultInjectionFileSystem::FailCall(uint64_t n, int err) {
  std::lock_guard lock(mu_);
  fail_at_ = n == 0 ? 0 : calls_ + n;
  fail_at_errno_ = err;
}

void FaultInjectionFileSystem::FailOp(Op op, int err) {
  std::lock_guard lock(mu_);
  if (err == 0) failing_ops_.erase(op);
  else failing_ops_[op] = err;
}

void FaultInjectionFileSystem::SetSpaceLimit(uint64_t bytes) {
  std::lock_guard lock(mu_);
  space_left_ = bytes;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard lock(mu_);
  fail_at_ = 0;
  failing_ops_.clear();
  space_left_ = UINT64_MAX;
}

void FaultInjectionFileSystem::SimulateProcessCrash() {
  std::lock_guard lock(mu_);
  power_out_ = false;
  cut_at_ = 0;
}

void FaultInjectionFileSystem::MarkAllDurable() {
  std::lock_guard lock(mu_);
  changes_.clear();
  synced_size_.clear();
}

Status FaultInjectionFileSystem::Admit(Op op, const std::string& path) {
  ++calls_;
  const std::string what = "(injected) " + std::string(OpName(op));
  if (power_out_) return ErrnoStatus(what + " after the power cut:", path, EIO);
  if (fail_at_ != 0 && calls_ == fail_at_) return ErrnoStatus(what, path, fail_at_errno_);
  if (auto it = failing_ops_.find(op); it != failing_ops_.end()) return ErrnoStatus(what, path, it->second);
  return Status::Ok();
}

void FaultInjectionFileSystem::Done() {
  if (cut_at_ != 0 && calls_ >= cut_at_) power_out_ = true;
}

void FaultInjectionFileSystem::Record(Change change) {
  for (const std::string* p : {&change.a, &change.b}) {
    if (!p->empty()) change.pending_dirs.insert(Normal(Dirname(*p)));
  }
  changes_.push_back(std::move(change));
}

// Drops the tracking of `path` and everything below it.
void FaultInjectionFileSystem::Forget(const std::string& path) {
  std::erase_if(synced_size_, [&](const auto& entry) { return Below(entry.first, path); });
}

// A rename moves what is known of the files below `from`, and the earlier
// changes not yet durable (they happened to what is now below `to`).
void FaultInjectionFileSystem::MoveTracking(const std::string& from, const std::string& to, size_t changes) {
  std::map<std::string, uint64_t> moved;
  for (auto it = synced_size_.begin(); it != synced_size_.end();) {
    if (!Below(it->first, from)) {
      ++it;
      continue;
    }
    moved[to + it->first.substr(from.size())] = it->second;
    it = synced_size_.erase(it);
  }
  Forget(to);
  synced_size_.merge(moved);
  for (size_t i = 0; i < changes && i < changes_.size(); ++i) {
    Change& c = changes_[i];
    Rebase(c.a, from, to);
    Rebase(c.b, from, to);
    std::set<std::string> dirs;
    for (std::string d : c.pending_dirs) {
      Rebase(d, from, to);
      dirs.insert(std::move(d));
    }
    c.pending_dirs = std::move(dirs);
  }
}

void FaultInjectionFileSystem::Swap(const std::string& a, const std::string& b, size_t changes) {
  const std::string parked = a + "\x01";
  MoveTracking(a, parked, changes);
  MoveTracking(b, a, changes);
  MoveTracking(parked, b, changes);
}

// What is durable of `path` now: files as far as they were synced.
std::unique_ptr<FaultInjectionFileSystem::Saved> FaultInjectionFileSystem::Save(const std::string& path) const {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) return nullptr;
  auto saved = std::make_unique<Saved>();
  saved->mode = sb.st_mode & 07777;
  if (S_ISLNK(sb.st_mode)) {
    saved->kind = Saved::Kind::kSymlink;
    std::error_code ec;
    saved->data = stdfs::read_symlink(path, ec).string();
  } else if (S_ISDIR(sb.st_mode)) {
    saved->kind = Saved::Kind::kDir;
    auto names = ListDir(path);
    if (names.ok()) {
      for (const auto& name : *names) {
        if (auto child = Save(JoinPath(path, name))) saved->children.emplace_back(name, std::move(child));
      }
    }
  } else {
    auto data = ReadFile(path);
    if (data.ok()) saved->data = std::move(*data);
    if (auto it = synced_size_.find(Normal(path)); it != synced_size_.end() && it->second < saved->data.size()) {
      saved->data.resize(it->second);
    }
  }
  return saved;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(const std::string& path,
                                                                                unsigned mode, bool exclusive) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kCreate, path));
  const bool existed = Exists(path);
  ASSIGN_OR_RETURN(auto file, base_->NewWritableFile(path, mode, exclusive));
  const std::string key = Normal(path);
  synced_size_[key] = 0;
  if (!existed) Record({Op::kCreate, key, "", nullptr, {}});
  Done();
  return std::unique_ptr<WritableFile>(new File(this, std::move(file), key));
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kRename, to));
  const std::string f = Normal(from), t = Normal(to);
  auto replaced = Save(t);
  RETURN_IF_ERROR(base_->Rename(from, to));
  MoveTracking(f, t, changes_.size());
  Record({Op::kRename, f, t, std::move(replaced), {}});
  Done();
  return Status::Ok();
}

Result<bool> FaultInjectionFileSystem::RenameExchange(const std::string& a, const std::string& b) {
  std::lock_guard lock(mu_);
  if (Status admitted = Admit(Op::kRenameExchange, b); !admitted.ok()) {
    // EINVAL or ENOSYS injected: a filesystem without the exchange, as POSIX reports it.
    auto it = failing_ops_.find(Op::kRenameExchange);
    const bool unsupported = !power_out_ && it != failing_ops_.end() && (it->second == EINVAL || it->second == ENOSYS);
    if (!unsupported) return admitted;
    Done();
    return false;
  }
  ASSIGN_OR_RETURN(bool exchanged, base_->RenameExchange(a, b));
  if (exchanged) {
    const std::string na = Normal(a), nb = Normal(b);
    Swap(na, nb, changes_.size());
    Record({Op::kRenameExchange, na, nb, nullptr, {}});
  }
  Done();
  return exchanged;
}

Status FaultInjectionFileSystem::Link(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kLink, to));
  RETURN_IF_ERROR(base_->Link(from, to));
  const std::string t = Normal(to);
  // The same inode: as durable as it is under its first name.
  if (auto it = synced_size_.find(Normal(from)); it != synced_size_.end()) synced_size_[t] = it->second;
  Record({Op::kLink, t, "", nullptr, {}});
  Done();
  return Status::Ok();
}

Status FaultInjectionFileSystem::Symlink(const std::string& target, const std::string& path) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kSymlink, path));
  RETURN_IF_ERROR(base_->Symlink(target, path));
  Record({Op::kSymlink, Normal(path), "", nullptr, {}});
  Done();
  return Status::Ok();
}

Status FaultInjectionFileSystem::Unlink(const std::string& path) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kUnlink, path));
  const std::string p = Normal(path);
  auto saved = Save(p);
  RETURN_IF_ERROR(base_->Unlink(path));
  Forget(p);
  Record({Op::kUnlink, p, "", std::move(saved), {}});
  Done();
  return Status::Ok();
}

Status FaultInjectionFileSystem::Mkdir(const std::string& path, unsigned mode, bool exist_ok) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kMkdir, path));
  const bool existed = Exists(path);
  RETURN_IF_ERROR(base_->Mkdir(path, mode, exist_ok));
  if (!existed) Record({Op::kMkdir, Normal(path), "", nullptr, {}});
  Done();
  return Status::Ok();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kSyncDir, dir));
  RETURN_IF_ERROR(base_->SyncDir(dir));
  const std::string d = Normal(dir);
  for (auto& c : changes_) c.pending_dirs.erase(d);
  std::erase_if(changes_, [](const Change& c) { return c.pending_dirs.empty(); });
  Done();
  return Status::Ok();
}

Status FaultInjectionFileSystem::RemoveAll(const std::string& path) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Admit(Op::kRemoveAll, path));
  const std::string p = Normal(path);
  auto saved = Save(p);
  RETURN_IF_ERROR(base_->RemoveAll(path));
  Forget(p);
  if (saved) Record({Op::kRemoveAll, p, "", std::move(saved), {}});
  Done();
  return Status::Ok();
}

// Undoes changes_[i]; the earlier changes see the paths as they were then.
void FaultInjectionFileSystem::UndoChange(size_t i) {
  Change& c = changes_[i];
  std::error_code ec;
  switch (c.op) {
    case Op::kCreate:
    case Op::kLink:
    case Op::kSymlink:
    case Op::kMkdir:
      stdfs::remove_all(c.a, ec);
      Forget(c.a);
      break;
    case Op::kRename:
      if (::rename(c.b.c_str(), c.a.c_str()) == 0) MoveTracking(c.b, c.a, i);
      if (c.saved) (void)c.saved->Restore(c.b);
      break;
    case Op::kRenameExchange:
      if (::renameat2(AT_FDCWD, c.a.c_str(), AT_FDCWD, c.b.c_str(), RENAME_EXCHANGE) == 0) Swap(c.a, c.b, i);
      break;
    case Op::kUnlink:
    case Op::kRemoveAll:
      if (c.saved) (void)c.saved->Restore(c.a);
      break;
    default:
      break;
  }
}

Status FaultInjectionFileSystem::SimulatePowerLoss() {
  std::lock_guard lock(mu_);
  for (size_t i = changes_.size(); i-- > 0;) UndoChange(i);
  changes_.clear();
  Status st;
  for (const auto& [path, size] : synced_size_) {
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    if (static_cast<uint64_t>(sb.st_size) > size && ::truncate(path.c_str(), static_cast<off_t>(size)) != 0 &&
        st.ok()) {
      st = ErrnoStatus("truncate", path, errno);
    }
  }
  synced_size_.clear();
  power_out_ = false;
  cut_at_ = 0;
  return st;
}

}  // namespace ailee::fs
