#include "state/proof_pending.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "state/checkpoint_files.h"

namespace ailee::state {

using nlohmann::json;

namespace {

constexpr char kFormat[] = "ailee-proof-pending/1";
constexpr int64_t kMaxMarkerBytes = 64 << 10;  // a marker is a few hundred bytes

}  // namespace

std::string KeptAsideDir(const std::string& data_dir) { return data_dir + ".before-restore"; }

Status WriteProofPending(const std::string& dir, const ProofPending& m) {
  json j = {{"format", kFormat},
            {"height", m.height},
            {"block_hash", crypto::HashToHex(m.block_hash)},
            {"state_root", crypto::HashToHex(m.state_root)},
            {"source", m.source},
            {"written", FormatUtc(m.written_unix)}};
  if (!m.previous_dir.empty()) j["previous_dir"] = m.previous_dir;
  if (!m.previous_dir.empty() && m.previous_kept_unix > 0) j["previous_kept"] = FormatUtc(m.previous_kept_unix);
  if (!m.last_failure.empty()) {
    j["last_failure"] = m.last_failure;
    j["failed"] = FormatUtc(m.failed_unix);
  }
  return fs::WriteFileAtomic(fs::JoinPath(dir, kProofPendingName), j.dump(2) + "\n", 0600);
}

Result<std::optional<ProofPending>> ReadProofPending(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kProofPendingName);
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT) return std::optional<ProofPending>();
    return Internal("looking for " + path + ": " + std::strerror(errno));
  }
  if (S_ISREG(sb.st_mode) && sb.st_size > kMaxMarkerBytes)
    return DataLoss(path + ": " + std::to_string(sb.st_size) + " bytes, not a proof-pending marker");
  // Opened as a checkpoint's files are (state/checkpoint_files.h): a symlink
  // is refused, not followed, and a FIFO before an open could block on it.
  ASSIGN_OR_RETURN(OpenedFile file, OpenedFile::Open(dir, kProofPendingName, static_cast<uint64_t>(sb.st_size)));
  ASSIGN_OR_RETURN(std::string text, file.Read());
  ProofPending m;
  try {
    json j = json::parse(text);
    if (j.at("format").get<std::string>() != kFormat)
      return DataLoss(path + ": unsupported format " + j.at("format").dump());
    m.height = j.at("height").get<uint64_t>();
    if (!crypto::HashFromHex(j.at("block_hash").get<std::string>(), &m.block_hash) ||
        !crypto::HashFromHex(j.at("state_root").get<std::string>(), &m.state_root))
      return DataLoss(path + ": block_hash/state_root are not 64 hex characters");
    m.source = j.value("source", "");
    ParseUtc(j.value("written", ""), &m.written_unix);
    m.previous_dir = j.value("previous_dir", "");
    ParseUtc(j.value("previous_kept", ""), &m.previous_kept_unix);
    m.last_failure = j.value("last_failure", "");
    ParseUtc(j.value("failed", ""), &m.failed_unix);
  } catch (const std::exception& e) {
    return DataLoss(path + ": not a valid proof-pending marker: " + e.what());
  }
  return std::optional<ProofPending>(std::move(m));
}

Status EnsureProven(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kProofPendingName);
  const std::string what_to_do =
      "start ailee-node on it and let its background proof finish (the node removes the marker once the state "
      "proves out; progress: GET /v1/status, \"proof\"), then rerun; or restore a snapshot into it without "
      "--prove-in-background, which proves before the swap (docs/recovery.md, \"Serving before the proof completes\")";
  auto pending = ReadProofPending(dir);
  if (!pending.ok()) {
    return WithHint(pending.status().WithContext("the data dir " + dir + " is not known to be proven (a restore marks "
                                                 "an unproven state with " + std::string(kProofPendingName) + ")"),
                    "the node refuses to start on it too; check what put it there, then " + what_to_do);
  }
  if (!*pending) return Status::Ok();
  const ProofPending& m = **pending;
  return WithHint(FailedPrecondition("the data dir " + dir + " holds a restored state that is not proven yet (" +
                                     m.source + ", height " + std::to_string(m.height) + ", marked by " + path +
                                     "): a copy of it would carry no marker and pass for a proven state, so none "
                                     "is taken"),
                  what_to_do);
}

Status ClearProofPending(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kProofPendingName);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Internal("removing " + path + ": " + std::strerror(errno));
  return fs::FsyncDir(dir);
}

}  // namespace ailee::state
