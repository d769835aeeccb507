// Configuration backups through the repository (runbook section 3).
//
// A config snapshot (kind "config") mirrors absolute source paths the way
// restic does: /etc/ailee/config.yaml is stored as etc/ailee/config.yaml.
// Secret files are never stored in plaintext: a file is a secret when any
// rule of config_secrets.h matches (listed, named by the config, an AWS
// file, owner-only mode, or a private-key/credential shape in its content),
// whether or not the operator listed it. Each is encrypted with
// OpenPGP (AES-256, keys::GpgSymmetric, readable by stock `gpg --decrypt`)
// under the secrets passphrase and stored as .secrets/<mirrored path>.gpg.
// The snapshot meta (format "ailee-config/1", docs/config-backup.md) lists
// every file with its original path, mode, owner, size and SHA-256, which is
// what restore trusts for modes and owners.
//
// BackupConfig builds a staging view (mode 0700, under scratch_dir) holding
// copies of the non-secret files (mtimes kept) and only ciphertext for the
// secrets, stores it with BackupTree (parent: the latest config snapshot of
// this node on this host), and removes the view. Every file is read once
// through one descriptor (O_NOFOLLOW): what is classified is what is stored.
// A file the parent has with the same size and mtime but other content
// (replaced behind the backup's back) makes the whole backup re-read. A secret whose plaintext did not change
// reuses the parent's ciphertext (checked by decrypting it with the current
// passphrase), so an unchanged config stores no new data.
//
// Crash safety: as BackupTree; a killed backup leaves at most the staging
// directory (no plaintext secrets in it).
#pragma once

#include <map>
#include <optional>
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
  std::vector<std::string> secret_paths;  // absolute files stored encrypted (added even when not below `paths`)
  // Files the config names as secrets (config_secrets.h ConfigNamedSecrets):
  // absolute path -> config field. Encrypted when found below `paths`; not
  // added by themselves.
  std::map<std::string, std::string> named_secrets;
  // Needed when any secret exists (an explicit secret or a secrets.yaml found).
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  std::string scratch_dir;  // parent of the staging view; empty: $TMPDIR or /tmp
  std::string audit_head;
  std::vector<std::string> tags;
  std::string host;         // empty: this host
};

// The options a node's config implies: config_paths (default: the config
// file's directory), env_files, compose_files, proxy_configs as paths;
// backup.secret_paths as secrets; the files the config names as secrets.
ConfigBackupOptions ConfigBackupOptionsFor(const config::NodeConfig& cfg);
// Same for a config file that does not load (a backup must still be
// possible): the config's directory, plus whatever the file still says
// (config::AnalyzeConfig) about secret files.
ConfigBackupOptions ConfigBackupOptionsForPath(const std::string& config_path);
// The one a command wants: ConfigBackupOptionsFor(*cfg) when the config
// loaded, else ConfigBackupOptionsForPath(config_path).
ConfigBackupOptions ConfigBackupOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& config_path);

struct ConfigBackupResult {
  repo::BackupResult backup;
  std::string parent;                  // parent snapshot id, or empty
  size_t files = 0;                    // plain files
  std::vector<std::string> secrets;    // original paths stored encrypted
  std::vector<std::string> secret_reasons;  // parallel to `secrets`: why each is one
  size_t secrets_reused = 0;           // unchanged: parent's ciphertext reused
  std::vector<std::string> skipped;    // "path: why" (symlinks, special files, missing)
};

Result<ConfigBackupResult> BackupConfig(repo::Repository& repo, const ConfigBackupOptions& options);

}  // namespace ailee::ops
