#include "ops/config/snapshot.h"

#include <optional>
#include <set>

#include "ops/config/backup.h"
#include "repo/key_slots.h"

namespace ailee::ops {

const ConfigFile* ConfigManifest::Find(const std::string& path) const {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::vector<std::string> ConfigManifest::SecretPaths() const {
  std::vector<std::string> out;
  for (const auto& f : files) {
    if (f.secret) out.push_back(f.path);
  }
  return out;
}

nlohmann::json ConfigManifestToJson(const ConfigManifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files) {
    nlohmann::json j = {{"path", f.path}, {"stored", f.stored}, {"type", f.dir ? "dir" : "file"}, {"mode", f.mode},
                        {"uid", f.uid}, {"gid", f.gid}, {"mtime_ns", f.mtime_ns}};
    if (!f.dir) {
      j["size"] = f.size;
      if (!f.secret || !f.sha256.empty()) j["sha256"] = f.sha256;
      j["secret"] = f.secret;
      if (f.secret) j["ciphertext_sha256"] = f.ciphertext_sha256;
    }
    files.push_back(std::move(j));
  }
  return {{"format", kConfigFormat}, {"node_id", m.node_id}, {"config_path", m.config_path},
          {"audit_head", m.audit_head}, {"secrets", m.SecretPaths()}, {"files", std::move(files)}};
}

Result<ConfigManifest> ParseConfigManifest(const nlohmann::json& meta) {
  if (!meta.is_object() || meta.value("format", "") != kConfigFormat) {
    return InvalidArgument("snapshot meta is not an " + std::string(kConfigFormat) + " manifest");
  }
  try {
    ConfigManifest m;
    m.node_id = meta.value("node_id", "");
    m.config_path = meta.value("config_path", "");
    m.audit_head = meta.value("audit_head", "");
    for (const auto& j : meta.at("files")) {
      ConfigFile f;
      f.path = j.at("path").get<std::string>();
      f.stored = j.at("stored").get<std::string>();
      f.dir = j.value("type", "file") == "dir";
      f.mode = j.value("mode", 0u);
      f.uid = j.value("uid", 0u);
      f.gid = j.value("gid", 0u);
      f.mtime_ns = j.value("mtime_ns", int64_t{0});
      f.size = j.value("size", uint64_t{0});
      f.sha256 = j.value("sha256", "");
      f.secret = j.value("secret", false);
      f.ciphertext_sha256 = j.value("ciphertext_sha256", "");
      m.files.push_back(std::move(f));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("damaged config manifest: ") + e.what());
  }
}

std::string ConfigSnapshotScope::Describe() const {
  if (!host.empty()) return "host or node '" + host + "'";
  if (!node_id.empty()) return "node '" + node_id + "'";
  return "host '" + repo::LocalHostname() + "'";
}

ConfigSnapshotScope ConfigScopeFor(const std::optional<config::NodeConfig>& cfg, const std::string& host) {
  ConfigSnapshotScope scope;
  scope.host = host;
  if (cfg) scope.node_id = cfg->node.id;
  return scope;
}

bool InConfigScope(const repo::Snapshot& snap, const ConfigSnapshotScope& scope) {
  std::string node = snap.meta.is_object() ? snap.meta.value("node_id", "") : "";
  if (!scope.host.empty()) return node == scope.host || snap.host == scope.host;
  if (!scope.node_id.empty()) return node == scope.node_id;
  return snap.host == repo::LocalHostname();
}

Result<repo::Snapshot> FindConfigSnapshot(repo::Repository& repo, const std::string& ref, const ConfigSnapshotScope& scope) {
  if (ref != "latest") {
    ASSIGN_OR_RETURN(auto snap, repo::FindSnapshot(repo, ref));
    if (snap.kind != kConfigSnapshotKind) {
      return InvalidArgument("snapshot " + snap.id_hex().substr(0, 12) + " is a " + snap.kind + " snapshot, not a config snapshot");
    }
    return snap;
  }
  ASSIGN_OR_RETURN(auto listing, repo::ListSnapshots(repo));
  std::optional<repo::Snapshot> best;
  std::set<std::string> others;
  for (auto& s : listing.snapshots) {  // oldest first
    if (s.kind != kConfigSnapshotKind) continue;
    if (InConfigScope(s, scope)) {
      if (!best || s.time_ms >= best->time_ms) best = std::move(s);
    } else {
      std::string node = s.meta.is_object() ? s.meta.value("node_id", "") : "";
      others.insert("node '" + node + "' on host '" + s.host + "'");
    }
  }
  if (best) return std::move(*best);
  std::string msg = "no config snapshot of " + scope.Describe() + " in the repository";
  if (others.empty()) return NotFound(msg + " (it holds no config snapshot at all); run `ailee-cli config backup` first");
  msg += "; config snapshots exist for:";
  for (const auto& o : others) msg += " " + o + ";";
  return NotFound(msg + " pick one with --host ID or give a snapshot id");
}

}  // namespace ailee::ops
