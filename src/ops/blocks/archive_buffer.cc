#include "ops/blocks/archive_buffer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "base/hint.h"

namespace ailee::ops {
namespace {

constexpr std::string_view kSuffix = ".seg";
constexpr std::string_view kStatusFile = "status.json";

}  // namespace

ArchiveBuffer::ArchiveBuffer(std::string dir, std::string node_id)
    : dir_(fs::JoinPath(dir, node_id)), node_id_(std::move(node_id)) {}

ArchiveBuffer::~ArchiveBuffer() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status ArchiveBuffer::LockForArchiver() {
  RETURN_IF_ERROR(fs::MakeDirs(dir_, 0700));
  const std::string path = fs::JoinPath(dir_, "archiver.lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return PermissionDenied("cannot open the archiver's lock " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return WithHint(FailedPrecondition("another archiver for node " + node_id_ + " runs with the buffer " + dir_),
                    "one archiver per node: stop the other one (a service and a manual run?)");
  }
  lock_fd_ = fd;
  return Status::Ok();
}

std::string ArchiveBuffer::FileOf(const repo::BlockSegmentName& name) const {
  return fs::JoinPath(dir_, fs::Basename(name.key()) + std::string(kSuffix));
}

Status ArchiveBuffer::Put(const repo::SealedBlockSegment& sealed) {
  RETURN_IF_ERROR(fs::MakeDirs(dir_, 0700));
  return fs::WriteFileAtomic(FileOf(sealed.name), sealed.bytes, 0600);
}

Result<std::vector<repo::BlockSegmentName>> ArchiveBuffer::List() const {
  std::vector<repo::BlockSegmentName> out;
  if (!fs::IsDirectory(dir_)) return out;
  ASSIGN_OR_RETURN(auto names, fs::ListDir(dir_));
  for (const auto& n : names) {
    if (n.size() <= kSuffix.size() || n.compare(n.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) continue;
    auto parsed = repo::ParseBlockSegmentKey(std::string(repo::kBlocksPrefix) + node_id_ + "/" +
                                             n.substr(0, n.size() - kSuffix.size()));
    if (parsed.ok()) out.push_back(std::move(parsed).value());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<repo::SealedBlockSegment> ArchiveBuffer::Read(const repo::BlockSegmentName& name) const {
  repo::SealedBlockSegment s;
  s.name = name;
  ASSIGN_OR_RETURN(s.bytes, fs::ReadFile(FileOf(name)));
  return s;
}

Status ArchiveBuffer::Remove(const repo::BlockSegmentName& name) {
  RETURN_IF_ERROR(fs::RemoveAll(FileOf(name)));
  return fs::FsyncDir(dir_);
}

Result<uint64_t> ArchiveBuffer::Bytes() const {
  ASSIGN_OR_RETURN(auto names, List());
  uint64_t total = 0;
  for (const auto& n : names) {
    auto size = fs::FileSize(FileOf(n));
    if (size.ok()) total += *size;
  }
  return total;
}

Status ArchiveBuffer::WriteStatus(const nlohmann::json& status) {
  RETURN_IF_ERROR(fs::MakeDirs(dir_, 0700));
  return fs::WriteFileAtomic(fs::JoinPath(dir_, kStatusFile), status.dump(), 0600);
}

nlohmann::json ArchiveBuffer::ReadStatus() const {
  auto text = fs::ReadFile(fs::JoinPath(dir_, kStatusFile));
  if (!text.ok()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace ailee::ops
