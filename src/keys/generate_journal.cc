#include "keys/generate_journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/scratch.h"
#include "keys/backup.h"
#include "keys/generate.h"
#include "keys/identity.h"

namespace ailee::keys {
namespace {

constexpr std::string_view kFormat = "ailee-keys-generate-journal";

int64_t MtimeNs(const struct stat& sb) {
  return static_cast<int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec;
}

// "<boot id>/<pid ns>": a journal from before a reboot names a dead process.
std::string BootOf(const std::string& space) { return space.substr(0, space.find('/')); }

bool RemoveFile(const std::string& path, std::vector<std::string>& removed) {
  if (::unlink(path.c_str()) != 0) return errno == ENOENT;
  removed.push_back(path);
  return true;
}

}  // namespace

std::string GenerateJournalPath(const std::string& key_location) { return key_location + ".generating"; }

GenerateJournal NewGenerateJournal(std::string signer_id, std::string key, std::vector<std::string> out_dirs,
                                   std::string shares_dir, std::string public_key_out) {
  return {std::move(signer_id), std::move(key), fs::OwnerTag(), fs::ProcessSpaceId(), 0,
          std::move(out_dirs), std::move(shares_dir), std::move(public_key_out)};
}

Status WriteGenerateJournal(const std::string& path, const GenerateJournal& j) {
  const nlohmann::json doc = {{"format", kFormat},         {"format_version", 1},         {"signer_id", j.signer_id},
                              {"key", j.key},              {"owner", j.owner},            {"space", j.space},
                              {"out_dirs", j.out_dirs},    {"shares_dir", j.shares_dir},
                              {"public_key_out", j.public_key_out}};
  Status st = fs::WriteFileExclusive(path, doc.dump(2) + "\n", 0600);
  if (st.code() == StatusCode::kAlreadyExists)
    return AlreadyExists(path + " exists: another `keys generate` of this key is in progress or was interrupted");
  return st.WithContext("writing the journal of this `keys generate`");
}

Result<std::optional<GenerateJournal>> ReadGenerateJournal(const std::string& path) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) return std::optional<GenerateJournal>();
  if (!S_ISREG(sb.st_mode)) return DataLoss(path + " is not a regular file; remove it by hand");
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  auto field = [&](const char* name, std::string& to) {
    if (!doc.contains(name) || !doc[name].is_string()) return false;
    to = doc[name].get<std::string>();
    return true;
  };
  GenerateJournal j;
  bool ok = doc.is_object() && doc.value("format", "") == kFormat && field("signer_id", j.signer_id) &&
            field("key", j.key) && field("owner", j.owner) && field("space", j.space) &&
            field("shares_dir", j.shares_dir) && field("public_key_out", j.public_key_out) &&
            doc.contains("out_dirs") && doc["out_dirs"].is_array();
  for (size_t i = 0; ok && i < doc["out_dirs"].size(); ++i) {
    ok = doc["out_dirs"][i].is_string();
    if (ok) j.out_dirs.push_back(doc["out_dirs"][i].get<std::string>());
  }
  // Its signer id names the files a rerun removes: it must be a signer id.
  if (!ok || !ValidateSignerId(j.signer_id).ok())
    return DataLoss(path + " is not a `keys generate` journal (" + std::string(kFormat) +
                    "); look at it and remove it by hand");
  j.started_unix_ns = MtimeNs(sb);
  return std::optional<GenerateJournal>(std::move(j));
}

Status RemoveGenerateJournal(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
  return fs::FsyncDir(fs::Dirname(path));
}

Status CheckInterrupted(const GenerateJournal& j, const std::string& journal_path, const std::string& signer_id) {
  if (j.signer_id != signer_id)
    return FailedPrecondition(journal_path + " is the journal of a `keys generate` of " + j.signer_id + ", not " +
                              signer_id + "; rerun it with --id " + j.signer_id);
  int64_t pid = 0;
  uint64_t start = 0;
  const std::string here = fs::ProcessSpaceId();
  const bool parsed = fs::ParseOwnerTag(j.owner, &pid, &start);
  const bool rebooted = !here.empty() && !j.space.empty() && BootOf(here) != BootOf(j.space);
  if (parsed && (rebooted || (j.space == here && fs::OwnerGone(pid, start)))) return Status::Ok();
  return Unavailable("a `keys generate` of " + signer_id + " (process " + j.owner + ") is making this key now (" +
                     journal_path + "); wait for it. If that process is certainly gone (another host or container), "
                     "remove the journal, then rerun");
}

bool ChangedSince(const GenerateJournal& j, const std::string& path) {
  struct stat sb {};
  return ::lstat(path.c_str(), &sb) == 0 && MtimeNs(sb) >= j.started_unix_ns;
}

Result<std::vector<std::string>> RemoveInterruptedOutputs(const GenerateJournal& j, const std::string& key_file) {
  std::vector<std::string> removed;
  std::vector<std::string> failed;
  auto remove_if_new = [&](const std::string& path) {
    if (ChangedSince(j, path) && !RemoveFile(path, removed)) failed.push_back(path);
  };
  // Temporary names carry their writer: "<name>.tmp.<owner>.<n>.<r>" (fs::TempSiblingName).
  auto remove_temps = [&](const std::string& dir, const std::string& name_prefix) {
    auto names = fs::ListDir(dir);
    if (!names.ok()) return;
    for (const auto& name : *names) {
      if (!name.starts_with(name_prefix) || name.find(".tmp." + j.owner + ".") == std::string::npos) continue;
      if (!RemoveFile(fs::JoinPath(dir, name), removed)) failed.push_back(fs::JoinPath(dir, name));
    }
  };
  const std::string id_prefix = j.signer_id + ".";
  for (const auto& dir : j.out_dirs) {
    for (const auto& name : {BackupFileName(j.signer_id), MetadataFileName(j.signer_id),
                             FenceBackupFileName(j.signer_id), TokenKeyRecordFileName(j.signer_id)}) {
      remove_if_new(fs::JoinPath(dir, name));
    }
    remove_temps(dir, id_prefix);
  }
  if (!j.shares_dir.empty()) {
    const std::string share_prefix = j.signer_id + ".share.";
    if (auto names = fs::ListDir(j.shares_dir); names.ok()) {
      for (const auto& name : *names) {
        if (name.starts_with(share_prefix) && name.find(".tmp.") == std::string::npos)
          remove_if_new(fs::JoinPath(j.shares_dir, name));
      }
    }
    remove_temps(j.shares_dir, share_prefix);
  }
  if (!j.public_key_out.empty()) {
    remove_if_new(j.public_key_out);
    remove_temps(fs::Dirname(j.public_key_out), fs::Basename(j.public_key_out) + ".tmp.");
  }
  // The key's own ("<key>.tmp.") and its journal's ("<key>.generating.tmp.").
  if (!key_file.empty()) remove_temps(fs::Dirname(key_file), fs::Basename(key_file) + ".");
  if (!failed.empty())
    return Internal("could not remove " + std::to_string(failed.size()) + " file(s) the interrupted run wrote, e.g. " +
                    failed.front());
  return removed;
}

}  // namespace ailee::keys
