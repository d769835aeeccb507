#include "keys/audit_sink.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/clock.h"
#include "base/fs.h"

namespace ailee::keys {

std::string CurrentOperator() {
  std::string who;
  if (struct passwd* pw = ::getpwuid(::geteuid())) who = pw->pw_name;
  else who = "uid " + std::to_string(::geteuid());
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) who += std::string(" (sudo by ") + sudo + ")";
  return who;
}

Status JsonLinesKeyAuditSink::Record(std::string_view operation, std::string_view signer_id,
                                     std::string_view fingerprint, const Status& result,
                                     const nlohmann::json& details) {
  nlohmann::json rec = {
      {"time", FormatUtc(Clock::Real().NowSeconds())},
      {"operator", CurrentOperator()},
      {"operation", std::string(operation)},
      {"signer_id", std::string(signer_id)},
      {"fingerprint", std::string(fingerprint)},
      {"result", result.ok() ? "ok" : std::string(StatusCodeName(result.code()))},
      {"details", details},
  };
  if (!result.ok()) rec["message"] = result.message();
  std::string line = rec.dump() + "\n";
  std::string dir = fs::Dirname(path_);
  if (!dir.empty() && !fs::Exists(dir)) RETURN_IF_ERROR(fs::MakeDirs(dir, 0750));
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus("open audit log", path_, errno);
  ssize_t n = ::write(fd, line.data(), line.size());
  int e = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) return ErrnoStatus("append audit log", path_, n < 0 ? e : EIO);
  if (!synced) return ErrnoStatus("fsync audit log", path_, errno);
  return Status::Ok();
}

}  // namespace ailee::keys
