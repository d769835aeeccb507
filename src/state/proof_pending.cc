#include "state/proof_pending.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"

namespace ailee::state {

using nlohmann::json;

namespace {
constexpr char kFormat[] = "ailee-proof-pending/1";
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
  if (!m.last_failure.empty()) {
    j["last_failure"] = m.last_failure;
    j["failed"] = FormatUtc(m.failed_unix);
  }
  return fs::WriteFileAtomic(fs::JoinPath(dir, kProofPendingName), j.dump(2) + "\n", 0600);
}

Result<std::optional<ProofPending>> ReadProofPending(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kProofPendingName);
  if (!fs::Exists(path)) return std::optional<ProofPending>();
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
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
    m.last_failure = j.value("last_failure", "");
    ParseUtc(j.value("failed", ""), &m.failed_unix);
  } catch (const std::exception& e) {
    return DataLoss(path + ": not a valid proof-pending marker: " + e.what());
  }
  return std::optional<ProofPending>(std::move(m));
}

Status ClearProofPending(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kProofPendingName);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Internal("removing " + path + ": " + std::strerror(errno));
  return fs::FsyncDir(dir);
}

}  // namespace ailee::state
