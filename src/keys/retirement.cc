#include "keys/retirement.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "keys/backup.h"
#include "keys/identity.h"

namespace ailee::keys {

nlohmann::json RetiredRecord::ToJson() const {
  return {{"format", "ailee-signer-key-retired"}, {"format_version", 1},
          {"signer_id", signer_id},               {"fingerprint_sha256_spki", fingerprint},
          {"reason", reason},                     {"operator", operator_id},
          {"retired", FormatUtc(retired_unix)},   {"retired_unix", retired_unix}};
}

Result<RetiredRecord> RetiredRecord::FromJson(std::string_view text, const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "ailee-signer-key-retired")
    return DataLoss("retired marker " + path + " is not an ailee retired-key record");
  try {
    RetiredRecord r;
    r.signer_id = j.at("signer_id").get<std::string>();
    r.fingerprint = j.value("fingerprint_sha256_spki", "");
    r.reason = j.at("reason").get<std::string>();
    r.operator_id = j.value("operator", "");
    r.retired_unix = j.at("retired_unix").get<int64_t>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss("retired marker " + path + ": " + e.what());
  }
}

std::string RetiredRecord::Describe() const {
  return "retired " + FormatUtc(retired_unix) + (operator_id.empty() ? "" : " by " + operator_id) + ": " + reason;
}

std::string RetiredMarkerPathForFence(const std::string& fence_path) { return fence_path + ".retired"; }
std::string RetiredBackupFileName(std::string_view signer_id) { return std::string(signer_id) + ".key.retired"; }

Result<std::optional<RetiredRecord>> ReadRetiredMarker(const std::string& path) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT) return std::optional<RetiredRecord>();
    return Internal("lstat " + path + ": " + std::strerror(errno));
  }
  // Never follow a link or wait on a FIFO planted where the marker belongs.
  if (!S_ISREG(sb.st_mode)) return DataLoss("retired marker " + path + " is not a regular file");
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  ASSIGN_OR_RETURN(RetiredRecord r, RetiredRecord::FromJson(text, path));
  return std::optional<RetiredRecord>(std::move(r));
}

Result<MarkerWrite> WriteRetiredMarker(const std::string& path, const RetiredRecord& record) {
  Status st = fs::WriteFileExclusive(path, record.ToJson().dump(2) + "\n", 0644);
  if (st.ok()) return MarkerWrite{record, true};
  if (st.code() != StatusCode::kAlreadyExists) return st.WithContext("writing retired marker " + path);
  ASSIGN_OR_RETURN(auto existing, ReadRetiredMarker(path));
  if (!existing) return Internal("retired marker " + path + " vanished while being written");
  if (existing->signer_id != record.signer_id)
    return FailedPrecondition("retired marker " + path + " belongs to signer '" + existing->signer_id + "', not '" +
                              record.signer_id + "'");
  return MarkerWrite{*existing, false};
}

namespace {

// The backup in `dir` must be this signer's and, when the fingerprint is
// known, this key's: retiring someone else's backup by a typo is refused.
Status CheckBackupDir(const std::string& dir, RetiredRecord& record) {
  ASSIGN_OR_RETURN(BackupMetadata meta, ReadMetadata(fs::JoinPath(dir, BackupFileName(record.signer_id))));
  if (record.fingerprint.empty()) record.fingerprint = meta.identity.fingerprint;
  if (meta.identity.fingerprint != record.fingerprint)
    return FailedPrecondition("the backup in " + dir + " holds key " + meta.identity.fingerprint + ", not " +
                              record.fingerprint + "; nothing was marked");
  return Status::Ok();
}

}  // namespace

Result<RetireResult> RetireKey(const RetireRequest& req) {
  RetiredRecord record = req.record;
  RETURN_IF_ERROR(ValidateSignerId(record.signer_id));
  if (record.reason.empty()) return InvalidArgument("--reason is required: say why the key is retired, it is audited");
  if (record.reason.size() > 1024) return InvalidArgument("--reason is longer than 1024 bytes");
  if (req.fence_path.empty() && req.backup_dirs.empty())
    return InvalidArgument("nothing to retire: name the key (its file or fence) or its backup directories");
  record.retired_unix = req.clock->NowSeconds();

  RetireResult result;
  std::vector<std::string> markers;
  for (const auto& dir : req.backup_dirs) {
    RETURN_IF_ERROR(CheckLocalPath(dir, "--backup"));
    RETURN_IF_ERROR(CheckBackupDir(dir, record));
    markers.push_back(fs::JoinPath(dir, RetiredBackupFileName(record.signer_id)));
    for (const auto& name : {BackupFileName(record.signer_id), MetadataFileName(record.signer_id)})
      result.kept.push_back(fs::JoinPath(dir, name));
  }
  if (!req.fence_path.empty()) {
    markers.insert(markers.begin(), RetiredMarkerPathForFence(req.fence_path));
    if (fs::Exists(req.fence_path)) result.kept.push_back(req.fence_path);
  }
  // Check every marker place before writing one, so a refusal changes nothing.
  for (const auto& m : markers) {
    ASSIGN_OR_RETURN(auto existing, ReadRetiredMarker(m));
    if (existing && existing->signer_id != record.signer_id)
      return FailedPrecondition("retired marker " + m + " belongs to signer '" + existing->signer_id + "'");
  }
  bool first = true;
  for (const auto& m : markers) {
    ASSIGN_OR_RETURN(MarkerWrite w, WriteRetiredMarker(m, record));
    (w.written ? result.written : result.already).push_back(m);
    if (first) result.record = w.record;  // the fence's marker (or first backup's) is the record of reference
    first = false;
  }
  return result;
}

}  // namespace ailee::keys
