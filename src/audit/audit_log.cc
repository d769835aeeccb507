#include "audit/audit_log.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "audit/continuation.h"
#include "audit/log_file.h"
#include "base/fs.h"
#include "base/hint.h"
#include "crypto/hash.h"

namespace ailee::audit {
namespace {

// The head of a file whose clean part (ending in '\n') is [0, clean_size).
Result<AuditHead> HeadAt(const LockedFile& f, uint64_t clean_size) {
  if (clean_size == 0) return AuditHead{};
  ASSIGN_OR_RETURN(std::string line, f.LastLine(clean_size));
  auto rec = ParseLine(line, 0);
  if (!rec.ok()) {
    return DataLoss("audit log " + f.path() + ": the last line is not a valid record (" +
                    rec.status().message() + "); run `ailee-cli audit verify`");
  }
  return AuditHead{rec->seq, LineHash(line)};
}

// The effective user's name, for "create it as root for USER" messages.
std::string EffectiveUser() {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr) return found->pw_name;
  return std::to_string(::geteuid());
}

// Makes sure the log's directory exists: creates it (0750) when only it is
// missing; otherwise says exactly what to create, and for whom.
Status EnsureLogDirectory(const std::string& dir) {
  struct stat st {};
  const std::string create = "install -d -m 0750 -o " + EffectiveUser() + " " + dir;
  if (::lstat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    if (S_ISLNK(st.st_mode) && fs::IsDirectory(dir)) return Status::Ok();  // a symlink to a directory
    return WithHint(FailedPrecondition("audit log directory " + dir + " is not a directory"), "move it away and create the directory (" + create + "), or set logging.audit_log / --audit-log");
  }
  const std::string parent = fs::Dirname(dir);
  if (!fs::IsDirectory(parent)) {
    return WithHint(NotFound("audit log directory " + dir + " does not exist, nor its parent " + parent), "create it as root for the user running ailee-cli (" + create +
                  "), or fix logging.audit_log / --audit-log");
  }
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return WithHint(ErrnoStatus("create audit log directory", dir, errno),
                    "create it as root for the user running ailee-cli: " + create);
  }
  // Exactly 0750 whatever the umask: the audit trail is not world-readable.
  if (::chmod(dir.c_str(), 0750) != 0) return ErrnoStatus("chmod 0750", dir, errno);
  return fs::FsyncDir(parent);
}

}  // namespace

AuditLog::AuditLog(std::string path, AuditLogOptions options)
    : path_(std::move(path)), options_(std::move(options)), origin_(Origin::Current()) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, AuditLogOptions options) {
  std::string dir = fs::Dirname(path);
  RETURN_IF_ERROR(EnsureLogDirectory(dir));
  bool existed = fs::Exists(path);
  // Never through a symlink: root running ailee-cli would create or append
  // to whatever file the log directory's owner points it at.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, options.file_mode);
  if (fd < 0 && errno == ELOOP) {
    return FailedPrecondition("audit log " + path + " is a symbolic link; refusing to follow it: replace it by "
                              "a regular file, or set logging.audit_log / --audit-log to the real file");
  }
  if (fd < 0) {
    // errno now: EffectiveUser() below may change it (it made "Success" of a
    // permission error, exit 1 instead of 5).
    const int err = errno;
    Status st = ErrnoStatus("open audit log", path, err);
    // Denied: the caller names the log's owner and the `sudo -u` fix
    // (cli/session.cc, OpenAuditLogAt), which a hint here would hide.
    if (st.code() == StatusCode::kPermissionDenied) return st;
    return WithHint(st, "the user running ailee-cli (" + EffectiveUser() + ") must be able to append to it and to write " +
                            dir);
  }
  ::close(fd);
  if (!existed) RETURN_IF_ERROR(fs::FsyncDir(dir));
  if (options.clock == nullptr) options.clock = &Clock::Real();
  return std::unique_ptr<AuditLog>(new AuditLog(path, std::move(options)));
}

Result<AuditHead> AuditLog::Append(const AuditEvent& event) {
  auto head = AppendLocked(event);  // the lock is released when it returns
  if (head.ok() && observer_) observer_(*head);
  return head;
}

Result<AuditHead> AuditLog::AppendLocked(const AuditEvent& event) {
  // The lock file first: it is never rotated, so an appender holding the
  // file logrotate just renamed and one holding its successor cannot
  // interleave (audit/continuation.h).
  ASSIGN_OR_RETURN(LockedFile chain_lock, LockedFile::Open(LockFilePath(path_), O_RDONLY | O_CREAT | O_NOFOLLOW,
                                                           options_.file_mode, LOCK_EX));
  ASSIGN_OR_RETURN(LockedFile f, LockedFile::Open(path_, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, options_.file_mode,
                                                  LOCK_EX));
  // Root running ailee-cli (an operator's sudo) must not leave the side
  // files root's: the node's user, who owns the log, could no longer append.
  RETURN_IF_ERROR(chain_lock.OwnLike(f));
  ASSIGN_OR_RETURN(auto identity, f.DeviceAndInode());
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  ASSIGN_OR_RETURN(uint64_t clean, f.CleanSize(size));
  std::string torn;
  if (clean != size) {
    // A line without '\n' is the remains of an append that crashed before it
    // was acknowledged: remove it, durably, before extending the chain.
    ASSIGN_OR_RETURN(torn, f.ReadRange(clean, size - clean));
    RETURN_IF_ERROR(f.Truncate(clean));
    size = clean;
  }
  ASSIGN_OR_RETURN(AuditHead head, HeadAt(f, size));

  const int64_t now = options_.clock->NowMillis();
  const crypto::PrivateKey* signer = options_.signer.get();
  std::string buffer;
  auto add_line = [&](const AuditEvent& e) -> Status {
    ASSIGN_OR_RETURN(std::string line, RenderLine(e, head.seq + 1, now, origin_, head.hash, signer));
    head = {head.seq + 1, LineHash(line)};
    buffer += line + "\n";
    return Status::Ok();
  };
  if (size == 0) {
    // A new live file: continue the chain of the file rotated away, if any.
    ASSIGN_OR_RETURN(Continuation from, ContinuationHead(path_, identity.first, identity.second));
    // This file's inode is recorded before its first line: killed after the
    // line but before the update below, the next appender still finds this
    // file (renamed or not) and reads its real last line.
    RETURN_IF_ERROR(RecordLiveHead(path_, from.head, identity.first, identity.second, options_.file_mode));
    RETURN_IF_ERROR(f.GiveOwnerTo(HeadFilePath(path_)));
    if (from.head.seq > 0) {
      head = from.head;
      AuditEvent cont;
      cont.operation = std::string(kContinueOperation);
      cont.args = {{"previous_seq", from.head.seq}, {"previous_file", from.previous_file}};
      cont.message = "continues the chain of the rotated log";
      RETURN_IF_ERROR(add_line(cont));
    }
  }
  if (!torn.empty()) {
    AuditEvent recover;
    recover.operation = "audit.recover";
    recover.args = {{"truncated_bytes", torn.size()},
                    {"truncated_sha256", crypto::HashToHex(crypto::Sha256(torn))}};
    recover.message = "removed an incomplete last line left by an interrupted append";
    RETURN_IF_ERROR(add_line(recover));
  }
  RETURN_IF_ERROR(add_line(event));

  // One write(2) so concurrent readers never see a line in two pieces; a
  // short write is undone so the file keeps whole lines only.
  Status st = f.WriteOnce(buffer);
  if (!st.ok()) {
    (void)f.Truncate(size);
    return st.WithContext("appending to audit log");
  }
  RETURN_IF_ERROR(f.DataSync());
  if (size == 0) RETURN_IF_ERROR(fs::FsyncDir(fs::Dirname(path_)));
  // After the line is durable: a crash before this leaves the head file
  // behind, which ContinuationHead corrects from the file itself.
  RETURN_IF_ERROR(RecordLiveHead(path_, head, identity.first, identity.second, options_.file_mode));
  RETURN_IF_ERROR(f.GiveOwnerTo(HeadFilePath(path_)));
  return head;
}

Result<AuditHead> AuditLog::Head() const {
  ASSIGN_OR_RETURN(LockedFile f, LockedFile::Open(path_, O_RDONLY | O_NOFOLLOW, 0, LOCK_SH));
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  ASSIGN_OR_RETURN(uint64_t clean, f.CleanSize(size));
  if (clean > 0) return HeadAt(f, clean);
  // Just rotated: the chain's head is the rotated file's last line.
  ASSIGN_OR_RETURN(auto identity, f.DeviceAndInode());
  ASSIGN_OR_RETURN(Continuation from, ContinuationHead(path_, identity.first, identity.second));
  return from.head;
}

}  // namespace ailee::audit
