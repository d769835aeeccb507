// The manifest of a config snapshot: the snapshot's meta, format
// "ailee-config/1" (docs/config-backup.md). One entry per file or directory,
// keyed by its original absolute path; `stored` is where the bytes live in
// the snapshot (the mirrored path, or .secrets/<mirrored path>.gpg for a
// secret, whose size is of the plaintext; no plaintext hash is recorded).
#pragma once

#include <cstdint>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

struct ConfigFile {
  std::string path;    // original absolute path
  std::string stored;  // path inside the snapshot
  bool dir = false;
  bool secret = false;
  uint32_t mode = 0, uid = 0, gid = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  std::string sha256;             // plain files; empty for secrets (older manifests: the plaintext's)
  std::string ciphertext_sha256;  // secrets only
};

struct ConfigManifest {
  std::string node_id;
  std::string config_path;  // absolute; validated after a restore
  std::string audit_head;
  std::vector<ConfigFile> files;  // sorted by path

  const ConfigFile* Find(const std::string& path) const;
  std::vector<std::string> SecretPaths() const;
};

nlohmann::json ConfigManifestToJson(const ConfigManifest& m);
// kInvalidArgument when `meta` is not an ailee-config/1 manifest.
Result<ConfigManifest> ParseConfigManifest(const nlohmann::json& meta);

// Whose config snapshots "latest" means, in a repository several hosts share.
//   - `host` set (--host ID): snapshots whose manifest node_id or whose
//     recorded host is ID;
//   - else `node_id` set (the config's node.id): snapshots whose manifest
//     node_id is it;
//   - else: snapshots recorded by this machine's hostname.
struct ConfigSnapshotScope {
  std::string node_id;
  std::string host;
  std::string Describe() const;  // "node 'node-1'", "host or node 'x'", "host 'h'"
};
// The scope a command means: `host` (--host) when given, else the loaded
// config's node.id (cfg may be empty), else this machine's hostname.
ConfigSnapshotScope ConfigScopeFor(const std::optional<config::NodeConfig>& cfg, const std::string& host);
bool InConfigScope(const repo::Snapshot& snap, const ConfigSnapshotScope& scope);

// `ref`: "latest" (the newest config snapshot in `scope`), an id or a
// unique prefix (any host: an id names one snapshot). kNotFound for
// "latest" names the scope and lists the node ids and hosts that do have
// config snapshots; kInvalidArgument when `ref` is not a config snapshot.
Result<repo::Snapshot> FindConfigSnapshot(repo::Repository& repo, const std::string& ref, const ConfigSnapshotScope& scope);

}  // namespace ailee::ops
