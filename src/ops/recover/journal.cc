#include "ops/recover/journal.h"

#include <sys/stat.h>

#include <cerrno>

#include "base/fs.h"
#include "base/hint.h"

namespace ailee::ops {

namespace {
constexpr int kJournalVersion = 1;

// The fields of a phase's detail that later steps read back (the report's
// sources, the audit line's touches, the RPO, the state phase's skip), each
// of the type they read it as: a journal whose detail has another shape is
// damaged, not an exception thrown out of recover-node later.
bool DetailHasItsShape(const nlohmann::json& detail) {
  if (!detail.is_object()) return false;
  for (const char* text : {"state_root", "fingerprint", "snapshot", "backup", "source", "outcome"})
    if (detail.contains(text) && !detail[text].is_string()) return false;
  if (detail.contains("height") && !detail["height"].is_number_unsigned()) return false;
  if (detail.contains("timestamp_ms") && !detail["timestamp_ms"].is_number_integer()) return false;
  return true;
}

std::string WithoutTrailingSlash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}
}  // namespace

std::string RecoverJournalPath(const std::string& data_dir) {
  return WithoutTrailingSlash(data_dir) + ".recover-journal.json";
}

std::string RecoverReportPath(const std::string& data_dir) {
  return WithoutTrailingSlash(data_dir) + ".recover-report.json";
}

Result<RecoverJournal> ReadRecoverJournal(const std::string& path) {
  RecoverJournal j;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return j;
    return ErrnoStatus("stat", path, errno);
  }
  // Opened only when a regular file: a FIFO there would block the read
  // (even of a --dry-run) forever, and a symlink could point anywhere.
  if (!S_ISREG(st.st_mode))
    return WithHint(FailedPrecondition("recover-node journal " + path + " is not a regular file"),
                    "recover-node writes it itself: remove what is there (ls -l " + path + "), then rerun");
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  const Status damaged = WithHint(
      DataLoss("recover-node journal " + path + " cannot be read as a version-1 journal"),
      "check the node by hand (ailee-cli health-check), then remove the journal and rerun recover-node");
  try {
    auto doc = nlohmann::json::parse(text);
    if (doc.value("version", 0) != kJournalVersion) return damaged;
    j.node_id = doc.at("node_id").get<std::string>();
    j.started_ms = doc.at("started_ms").get<int64_t>();
    for (const auto& [phase, detail] : doc.at("phases").items()) {
      if (!DetailHasItsShape(detail)) return damaged;
      j.finished[phase] = detail;
    }
  } catch (const std::exception&) {
    return damaged;
  }
  return j;
}

Status WriteRecoverJournal(const std::string& path, const RecoverJournal& journal) {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [phase, detail] : journal.finished) phases[phase] = detail;
  nlohmann::json doc = {{"version", kJournalVersion}, {"node_id", journal.node_id},
                        {"started_ms", journal.started_ms}, {"phases", phases}};
  return fs::WriteFileAtomic(path, doc.dump(2) + "\n", 0600);
}

}  // namespace ailee::ops
