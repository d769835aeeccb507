#include "audit/continuation.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "audit/log_file.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

struct RecordedLiveHead {
  AuditHead head;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

Result<std::optional<RecordedLiveHead>> ReadHeadFile(const std::string& log_path) {
  const std::string path = HeadFilePath(log_path);
  // Only a regular file: reading a FIFO put here would hang every appender.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return FailedPrecondition("audit head file " + path + " is not a regular file (a symlink, FIFO or device); "
                              "move it away, then run `ailee-cli audit verify` over the log's segments");
  }
  auto text = fs::ReadFile(path);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return std::optional<RecordedLiveHead>{};
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
      !j.contains("hash") || !j["hash"].is_string() || j["hash"].get<std::string>().size() != 64 ||
      !j.contains("dev") || !j["dev"].is_number_unsigned() || !j.contains("ino") || !j["ino"].is_number_unsigned()) {
    return DataLoss("audit head file " + path + " is not a recorded head; the log it continues cannot be "
                    "found: run `ailee-cli audit verify` over the log's segments and restore the file");
  }
  RecordedLiveHead r;
  r.head = {j["seq"].get<uint64_t>(), j["hash"].get<std::string>()};
  r.dev = j["dev"].get<uint64_t>();
  r.ino = j["ino"].get<uint64_t>();
  return std::optional<RecordedLiveHead>(r);
}

// The name in `dir` of the regular file with inode (dev, ino), other than
// `skip`; empty when there is none.
Result<std::string> FindByInode(const std::string& dir, const std::string& skip, uint64_t dev, uint64_t ino) {
  ASSIGN_OR_RETURN(auto names, fs::ListDir(dir));
  for (const auto& name : names) {
    if (name == skip) continue;
    struct stat st {};
    if (::lstat(fs::JoinPath(dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<uint64_t>(st.st_dev) == dev && static_cast<uint64_t>(st.st_ino) == ino) return name;
  }
  return std::string();
}

// The head of the complete lines of `path` (a torn tail left by a crash
// inside the rotated file is not part of the chain).
Result<AuditHead> LastCompleteHead(const std::string& path) {
  ASSIGN_OR_RETURN(LockedFile f, LockedFile::Open(path, O_RDONLY | O_NOFOLLOW, 0, LOCK_SH));
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  ASSIGN_OR_RETURN(uint64_t clean, f.CleanSize(size));
  if (clean == 0) return AuditHead{};
  ASSIGN_OR_RETURN(std::string line, f.LastLine(clean));
  auto rec = ParseLine(line, 0);
  if (!rec.ok()) {
    return DataLoss("rotated audit log " + path + ": the last line is not a valid record (" + rec.status().message() +
                    "); run `ailee-cli audit verify` over the log's segments");
  }
  return AuditHead{rec->seq, LineHash(line)};
}

}  // namespace

std::string LockFilePath(const std::string& log_path) { return log_path + ".lock"; }
std::string HeadFilePath(const std::string& log_path) { return log_path + ".head"; }

Result<Continuation> ContinuationHead(const std::string& log_path, uint64_t dev, uint64_t ino) {
  ASSIGN_OR_RETURN(auto recorded, ReadHeadFile(log_path));
  Continuation out;
  if (!recorded) return out;  // never appended to through a head file: a new chain
  // The same inode as the live file: it was emptied in place (copytruncate
  // or by hand), so only the recorded head is left to continue from.
  if (recorded->dev == dev && recorded->ino == ino) {
    out.head = recorded->head;
    return out;
  }
  const std::string dir = fs::Dirname(log_path);
  ASSIGN_OR_RETURN(out.previous_file, FindByInode(dir, fs::Basename(log_path), recorded->dev, recorded->ino));
  if (out.previous_file.empty()) {
    out.head = recorded->head;
    return out;
  }
  ASSIGN_OR_RETURN(out.head, LastCompleteHead(fs::JoinPath(dir, out.previous_file)));
  return out;
}

Status RecordLiveHead(const std::string& log_path, const AuditHead& head, uint64_t dev, uint64_t ino,
                      unsigned mode) {
  nlohmann::json j = {{"v", 1}, {"seq", head.seq}, {"hash", head.hash}, {"dev", dev}, {"ino", ino}};
  return fs::WriteFileAtomic(HeadFilePath(log_path), j.dump() + "\n", mode)
      .WithContext("recording the audit log's head beside it");
}

}  // namespace ailee::audit
