// Configuration backups through the repository (runbook section 3).
//
// A config snapshot (kind "config") mirrors absolute source paths the way
// restic does: /etc/ailee/config.yaml is stored as etc/ailee/config.yaml.
// Secret files are never stored in plaintext: each is encrypted with
// OpenPGP (AES-256, keys::GpgSymmetric, readable by stock `gpg --decrypt`)
// under the secrets passphrase and stored as .secrets/<mirrored path>.gpg.
// The snapshot meta (format "ailee-config/1", docs/config-backup.md) lists
// every file with its original path, mode, owner, size and SHA-256, which is
// what restore trusts for modes and owners.
//
// BackupConfig builds a staging view (mode 0700, under scratch_dir) holding
// copies of the non-secret files (mtimes kept) and only ciphertext for the
// secrets, stores it with BackupTree (parent: the latest config snapshot of
// this host), and removes the view. A secret whose plaintext did not change
// reuses the parent's ciphertext (checked by decrypting it with the current
// passphrase), so an unchanged config stores no new data.
//
// Crash safety: as BackupTree; a killed backup leaves at most the staging
// directory (no plaintext secrets in it).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "repo/backup.h"
#include "repo/repository.h"

namespace ailee::ops {

inline constexpr const char* kConfigSnapshotKind = "config";
inline constexpr const char* kConfigFormat = "ailee-config/1";
inline constexpr const char* kSecretsPrefix = ".secrets/";

struct ConfigBackupOptions {
  std::string config_path;                // absolute; recorded and validated on restore
  std::string node_id;
  std::vector<std::string> paths;         // absolute files or directories (plain)
  std::vector<std::string> secret_paths;  // absolute files stored encrypted
  // Needed when any secret exists (an explicit secret or a secrets.yaml found).
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  std::string scratch_dir;  // parent of the staging view; empty: $TMPDIR or /tmp
  std::string audit_head;
  std::vector<std::string> tags;
  std::string host;         // empty: this host
};

// The options a node's config implies: config_paths (default: the config
// file's directory), env_files, compose_files, proxy_configs as plain paths;
// backup.secret_paths as secrets (a secrets.yaml anywhere is a secret too).
ConfigBackupOptions ConfigBackupOptionsFor(const config::NodeConfig& cfg);
// Same for a config file that does not load (a backup must still be possible).
ConfigBackupOptions ConfigBackupOptionsForPath(const std::string& config_path);

struct ConfigBackupResult {
  repo::BackupResult backup;
  std::string parent;                  // parent snapshot id, or empty
  size_t files = 0;                    // plain files
  std::vector<std::string> secrets;    // original paths stored encrypted
  size_t secrets_reused = 0;           // unchanged: parent's ciphertext reused
  std::vector<std::string> skipped;    // "path: why" (symlinks, special files, missing)
};

Result<ConfigBackupResult> BackupConfig(repo::Repository& repo, const ConfigBackupOptions& options);

}  // namespace ailee::ops
