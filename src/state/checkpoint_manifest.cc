#include "state/checkpoint_manifest.h"

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "state/checkpoint_files.h"

namespace ailee::state {

using nlohmann::json;

std::string EncodeManifest(const CheckpointManifest& m) {
  json files = json::array();
  for (const auto& f : m.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", crypto::HashToHex(f.sha256)}});
  json j = {{"format", "ailee-checkpoint/" + std::to_string(m.format)},
            {"node_id", m.node_id},
            {"height", m.height},
            {"block_hash", crypto::HashToHex(m.block_hash)},
            {"state_root", crypto::HashToHex(m.state_root)},
            {"created", FormatUtc(m.created_unix)},
            {"source", m.source},
            {"files", files}};
  return j.dump(2) + "\n";
}

Result<CheckpointManifest> DecodeManifest(std::string_view text, const std::string& where) {
  CheckpointManifest m;
  try {
    json j = json::parse(text);
    if (j.at("format").get<std::string>() != "ailee-checkpoint/1")
      return InvalidArgument(where + ": unsupported manifest format " + j.at("format").dump());
    m.node_id = j.at("node_id").get<std::string>();
    m.height = j.at("height").get<uint64_t>();
    if (!crypto::HashFromHex(j.at("block_hash").get<std::string>(), &m.block_hash) ||
        !crypto::HashFromHex(j.at("state_root").get<std::string>(), &m.state_root))
      return DataLoss(where + ": block_hash/state_root are not 64 hex characters");
    ParseUtc(j.at("created").get<std::string>(), &m.created_unix);
    m.source = j.value("source", "");
    for (const auto& f : j.at("files")) {
      CheckpointFile cf{f.at("path").get<std::string>(), f.at("size").get<uint64_t>(), {}};
      if (!crypto::HashFromHex(f.at("sha256").get<std::string>(), &cf.sha256))
        return DataLoss(where + ": file " + cf.path + " has a malformed sha256");
      if (cf.path.empty() || cf.path[0] == '/' || cf.path.find("..") != std::string::npos)
        return DataLoss(where + ": file path '" + cf.path + "' escapes the checkpoint");
      m.files.push_back(std::move(cf));
    }
  } catch (const std::exception& e) {
    return DataLoss(where + ": manifest is not valid: " + e.what());
  }
  return m;
}

Result<CheckpointManifest> ReadManifest(const std::string& dir) { return ReadManifestNoFollow(dir); }

uint64_t ManifestBytes(const CheckpointManifest& m) {
  uint64_t total = 0;
  for (const auto& f : m.files) total += f.size;
  return total;
}

}  // namespace ailee::state
