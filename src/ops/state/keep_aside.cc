#include "ops/state/keep_aside.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "state/data_dir.h"
#include "state/proof_pending.h"

namespace ailee::ops {

namespace {

namespace stdfs = std::filesystem;

// The mode bits of `path` (0700 when unreadable).
unsigned ModeOf(const stdfs::path& path) {
  std::error_code ec;
  auto st = stdfs::status(path, ec);
  return ec ? 0700u : static_cast<unsigned>(st.permissions() & stdfs::perms::mask);
}

// The last change of `dir`'s entries: about when it was built aside (0 when
// it cannot be read). Only for markers that do not record it.
int64_t ModifiedAt(const std::string& dir) {
  struct stat sb {};
  return ::stat(dir.c_str(), &sb) == 0 ? static_cast<int64_t>(sb.st_mtim.tv_sec) : 0;
}

// Table files are linked; everything else (CURRENT, MANIFEST, WAL, OPTIONS,
// our own JSON files) is copied, since the tree it came from may still be
// written to if the restore fails before its swap.
Status LinkOrCopyTree(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(fs::MakeDirs(to, ModeOf(from)));
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(from, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string rel = stdfs::relative(it->path(), from).string();
    const std::string dst = fs::JoinPath(to, rel);
    if (it->is_symlink()) continue;  // a data dir holds none; never followed
    if (it->is_directory()) {
      RETURN_IF_ERROR(fs::MakeDirs(dst, ModeOf(it->path())));
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string src = it->path().string();
    if (state::IsImmutableDatabaseFile(src) && ::link(src.c_str(), dst.c_str()) == 0) continue;
    ASSIGN_OR_RETURN(std::string data, fs::ReadFile(src));
    RETURN_IF_ERROR(fs::WriteFileAtomic(dst, data, ModeOf(it->path())));
  }
  if (ec) return Internal("listing " + from + ": " + ec.message());
  // Directories last, deepest first, so every entry is durable.
  std::vector<std::string> dirs{to};
  for (auto it = stdfs::recursive_directory_iterator(to, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && !it->is_symlink()) dirs.push_back(it->path().string());
  }
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) RETURN_IF_ERROR(fs::FsyncDir(*d));
  return Status::Ok();
}

// The copy of a target whose marker is unreadable gets an unreadable marker
// too: one that was a symlink, a FIFO or a socket was not copied, and the
// copy must not pass for proven when it is moved back.
Status StayUnproven(const std::string& copy, const Status& why) {
  const std::string marker = fs::JoinPath(copy, state::kProofPendingName);
  struct stat sb {};
  if (::lstat(marker.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) return Status::Ok();
  RETURN_IF_ERROR(fs::RemoveAll(marker));
  return fs::WriteFileAtomic(marker, "not a proof-pending marker: the data dir this copy was kept from had an "
                                     "unreadable one (" + std::string(why.message()) + ")\n", 0600);
}

}  // namespace

Result<KeptAside> KeepTargetAside(const std::string& target) {
  auto entries = fs::ListDir(target);
  if (!entries.ok() || entries->empty()) return KeptAside();
  const std::string aside = state::KeptAsideDir(target);
  auto pending = state::ReadProofPending(target);
  if (pending.ok() && *pending && !(*pending)->previous_dir.empty() && fs::IsDirectory((*pending)->previous_dir)) {
    // The target is unproven: the proven one stays the fallback.
    const state::ProofPending& m = **pending;
    return KeptAside{m.previous_dir, true, m.previous_kept_unix ? m.previous_kept_unix : ModifiedAt(m.previous_dir),
                     m.source, m.height};
  }
  if (!pending.ok() && fs::IsDirectory(aside)) {
    return KeptAside{aside, true, ModifiedAt(aside), "", 0};  // unknown, so unproven: never the fallback
  }
  const std::string parent = fs::Dirname(target);
  const std::string prefix = "." + fs::Basename(target) + ".aside-";
  fs::RemoveAbandoned(parent, prefix);
  const std::string scratch = fs::JoinPath(parent, fs::ScratchName(prefix));
  Status built = LinkOrCopyTree(target, scratch);
  if (built.ok() && !pending.ok()) built = StayUnproven(scratch, pending.status());
  if (!built.ok()) {
    (void)fs::RemoveAll(scratch);
    return built.WithContext("keeping " + target + " aside before the restore replaces it");
  }
  RETURN_IF_ERROR(fs::RemoveAll(aside));
  RETURN_IF_ERROR(fs::RenameDurable(scratch, aside));
  KeptAside kept;
  kept.dir = aside;
  kept.since_unix = Clock::Real().NowMillis() / 1000;
  return kept;
}

}  // namespace ailee::ops
