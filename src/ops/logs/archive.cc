#include "ops/logs/archive.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <regex>
#include <set>

#include "archive/paths.h"
#include "archive/target.h"
#include "base/file_system.h"
#include "base/fs.h"
#include "crypto/hash.h"
#include "repo/blob_stream.h"
#include "repo/key_slots.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

struct LocalLog {
  std::string name;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
};

Result<std::string> HashFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string data, fs::ReadFile(path));
  return crypto::HashToHex(crypto::Sha256(data));
}

}  // namespace

bool IsRotatedLogName(const std::string& name) {
  static const std::regex kRotated(R"(^[^.].*(\.log\.[0-9]+(\.gz)?|\.log-[0-9]{8,14}(\.gz)?|\.gz)$)");
  return std::regex_match(name, kRotated);
}

Result<int64_t> ParseDurationMs(const std::string& text) {
  static const std::regex kDuration(R"(^([0-9]+)([smhdwy]?)$)");
  std::smatch m;
  if (!std::regex_match(text, m, kDuration)) {
    return InvalidArgument("duration '" + text + "': expected a number with a unit s, m, h, d, w or y (e.g. 90d, 7y)");
  }
  const char unit = m[2].str().empty() ? 's' : m[2].str()[0];
  // Years: 7y is exactly kDefaultKeepArchiveMs (multiplied before dividing by 7).
  const int64_t unit_ms = unit == 's' ? 1000 : unit == 'm' ? 60000 : unit == 'h' ? 3600000 : unit == 'd' ? kDayMs
                        : unit == 'w' ? 7 * kDayMs : kDefaultKeepArchiveMs;
  const int64_t divisor = unit == 'y' ? 7 : 1;
  // std::stoll threw (an abort) past 19 digits, and the product overflowed.
  int64_t n = 0, ms = 0;
  const std::string digits = m[1].str();
  if (std::from_chars(digits.data(), digits.data() + digits.size(), n).ec != std::errc() ||
      __builtin_mul_overflow(n, unit_ms, &ms)) {
    return InvalidArgument("duration '" + text + "' is too long: at most " + std::to_string(INT64_MAX / unit_ms * divisor) +
                           unit);
  }
  return ms / divisor;
}

LogArchiveOptions LogArchiveOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& dir) {
  LogArchiveOptions o;
  if (!dir.empty()) {
    o.dir = dir;
  } else if (cfg && !cfg->logging.log_file.empty()) {
    o.dir = fs::Dirname(cfg->logging.log_file);
  }
  return o;
}

Result<LogArchiveResult> ArchiveLogs(repo::Repository& repo, const LogArchiveOptions& options) {
  if (!fs::IsDirectory(options.dir)) return NotFound("log directory " + options.dir + " does not exist");
  const std::string host = options.host.empty() ? repo::LocalHostname() : options.host;
  const int64_t now_ms = repo.clock().NowMillis();
  LogArchiveResult result;

  std::map<std::string, LocalLog> logs;
  ASSIGN_OR_RETURN(auto names, fs::ListDir(options.dir));
  for (const auto& name : names) {
    if (!IsRotatedLogName(name)) continue;
    struct stat st;
    if (::lstat(fs::JoinPath(options.dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    logs[name] = {name, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, static_cast<uint64_t>(st.st_size)};
  }
  for (const auto& [name, l] : logs) result.archived.push_back(name);

  if (!logs.empty() && !options.dry_run) {
    repo::BackupOptions bo;
    bo.kind = kLogsSnapshotKind;
    bo.host = host;
    bo.tags = options.tags;
    bo.parent = "latest";
    bo.workers = 1;
    bo.skip = [&logs](const std::string& rel) { return !logs.count(rel); };
    nlohmann::json files = nlohmann::json::array();
    for (const auto& [name, l] : logs) files.push_back({{"name", name}, {"size", l.size}, {"mtime_ns", l.mtime_ns}});
    bo.meta = {{"format", kLogsFormat}, {"dir", options.dir}, {"files", files}, {"audit_head", options.audit_head}};
    ASSIGN_OR_RETURN(auto backup, repo::BackupTree(repo, options.dir, bo));
    result.snapshot_id = repo::IdHex(backup.snapshot_id);
    result.stats = backup.stats;

    // Durably stored means: readable back from the repository.
    ASSIGN_OR_RETURN(auto stored, repo::LoadSnapshot(repo, backup.snapshot_id));
    std::map<std::string, std::string> stored_sha;
    for (const auto& e : stored.files) {
      if (e.type == repo::FileEntry::Type::kFile) stored_sha[e.path] = e.sha256;
    }
    if (options.keep_local_ms >= 0) {
      bool removed = false;
      for (const auto& [name, l] : logs) {
        if (now_ms - l.mtime_ns / 1000000 <= options.keep_local_ms) continue;
        std::string path = fs::JoinPath(options.dir, name);
        auto sha = HashFile(path);
        auto it = stored_sha.find(name);
        if (!sha.ok() || it == stored_sha.end() || it->second != *sha) {
          result.kept_changed.push_back(name);
          continue;
        }
        RETURN_IF_ERROR(fs::FileSystem::Default()->Unlink(path).WithContext("remove archived log"));
        result.removed_local.push_back(name);
        removed = true;
      }
      if (removed) RETURN_IF_ERROR(fs::FsyncDir(options.dir, fs::FileSystem::Default()));
    }
  } else if (options.dry_run && options.keep_local_ms >= 0) {
    for (const auto& [name, l] : logs) {
      if (now_ms - l.mtime_ns / 1000000 > options.keep_local_ms) result.removed_local.push_back(name);
    }
  }

  if (options.keep_archive_ms > 0) {
    repo::ForgetOptions fo;
    fo.policy.keep_within_ms = options.keep_archive_ms;
    fo.filter = {kLogsSnapshotKind, host};
    fo.dry_run = options.dry_run;
    ASSIGN_OR_RETURN(auto decisions, repo::Forget(repo, fo));
    for (auto& d : decisions) {
      if (!d.keep) result.forgotten.push_back(std::move(d));
    }
  }
  return result;
}

Result<LogRestoreResult> RestoreLogs(repo::Repository& repo, const std::string& target, const LogRestoreOptions& options) {
  std::vector<repo::Snapshot> snaps;
  if (!options.snapshot.empty()) {
    repo::SnapshotFilter filter;
    // "latest" in a repository several hosts share is this host's newest.
    if (options.snapshot == "latest") filter = {kLogsSnapshotKind, options.host.empty() ? repo::LocalHostname() : options.host};
    ASSIGN_OR_RETURN(auto s, repo::FindSnapshot(repo, options.snapshot, filter));
    if (s.kind != kLogsSnapshotKind) return InvalidArgument("snapshot " + s.id_hex().substr(0, 12) + " is a " + s.kind + " snapshot, not logs");
    snaps.push_back(std::move(s));
  } else {
    ASSIGN_OR_RETURN(auto listing, repo::ListSnapshots(repo));
    for (auto& s : listing.snapshots) {
      if (s.kind == kLogsSnapshotKind && (options.host.empty() || s.host == options.host)) snaps.push_back(std::move(s));
    }
  }
  // Distinct content, newest first, so the newest file keeps the plain name.
  std::map<std::string, const repo::FileEntry*> by_sha;
  for (const auto& s : snaps) {
    for (const auto& e : s.files) {
      if (e.type != repo::FileEntry::Type::kFile) continue;
      if (options.snapshot.empty() && e.mtime_ns / 1000000 < options.since_ms) continue;
      by_sha.emplace(e.sha256, &e);
    }
  }
  std::vector<const repo::FileEntry*> picks;
  for (const auto& [sha, e] : by_sha) picks.push_back(e);
  std::sort(picks.begin(), picks.end(), [](auto* a, auto* b) { return a->mtime_ns > b->mtime_ns; });
  std::vector<archive::ArchiveEntry> entries;
  std::set<std::string> used;
  std::vector<std::pair<std::string, const repo::FileEntry*>> plan;
  for (const auto* e : picks) {
    std::string name = used.count(e->path) ? e->path + "~" + e->sha256.substr(0, 12) : e->path;
    used.insert(name);
    plan.emplace_back(name, e);
    entries.push_back({name, archive::ArchiveEntry::Type::kFile, "", ""});
  }
  RETURN_IF_ERROR(archive::RefusalsToStatus(archive::CheckEntries(entries), "logs"));
  ASSIGN_OR_RETURN(auto out, archive::SafeTarget::Open(target, true));
  LogRestoreResult result;
  result.snapshots = snaps.size();
  for (const auto& [name, e] : plan) {
    auto read = repo::ReadFileBlobs(repo, *e);
    if (!read.ok()) return read.status().WithContext("archived log");
    const std::string& data = *read;
    RETURN_IF_ERROR(out.WriteFile(name, data, archive::FileAttrs{e->mode ? e->mode : 0640, e->mtime_ns, true, e->uid, e->gid}));
    result.files.push_back(name);
    result.bytes += data.size();
  }
  RETURN_IF_ERROR(out.Sync());
  return result;
}

}  // namespace ailee::ops
