// Restoring, exporting and importing config snapshots.
//
// RestoreConfig puts a config snapshot back below `target` (use "/" to put
// files back at their original paths; any other directory receives the
// mirrored tree, e.g. <target>/etc/ailee/config.yaml). In order:
//   1. every manifest path is checked (archive/paths.h rules) and every file
//      fetched and checked against its SHA-256, secrets decrypted in memory:
//      any failure here writes nothing;
//   2. the diff against the target is computed (added, changed with
//      size/hash/mode/owner and a line diff for text, removed = in the target
//      below a backed-up directory but not in the snapshot; left in place);
//      with dry_run this is all;
//   3. directories are created, then each differing file is written
//      atomically (temporary name, fsync, rename) after its previous version
//      was hard-linked aside (".ailee-restore-old-*"); secrets get their
//      recorded mode back (decrypted in memory, written atomically);
//      owners are restored when running as root; directories are fsynced;
//   4. the restored config file is validated (config::ValidateConfigFile).
//      If it has problems every written file is put back from its aside copy
//      (new files removed) and the report lists the problems with
//      rolled_back = true. Otherwise the aside copies are removed.
// Killed during 3 or 4, each file is old or new and the aside copies remain
// next to the files for the operator.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archive/tar.h"
#include "base/status.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "ops/config/snapshot.h"
#include "repo/repository.h"

namespace ailee::ops {

struct ConfigChange {
  enum class Kind { kAdded, kChanged, kRemoved, kUnchanged };
  Kind kind = Kind::kUnchanged;
  std::string path;       // original absolute path
  std::string target;     // path under the target directory
  bool secret = false;
  bool dir = false;
  std::string detail;     // "size 10 -> 12, sha256 1a2b.. -> 3c4d.., mode 0644 -> 0600"
  std::string text_diff;  // "-old line" / "+new line" lines (plain text files only)
};
const char* ConfigChangeKindName(ConfigChange::Kind kind);

struct ConfigRestoreOptions {
  bool dry_run = false;
  // Whose snapshot "latest" is (config_snapshot.h). Default: this hostname.
  ConfigSnapshotScope scope;
  // Needed to restore (or, in a dry run, to compare) secrets.
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  bool validate = true;
  // Seam for tests; default config::ValidateConfigFile.
  std::function<std::vector<config::ConfigProblem>(const std::string& path)> validator;
};

struct ConfigRestoreReport {
  std::string snapshot_id;
  std::string config_file;  // the restored config file under the target, or empty
  std::vector<ConfigChange> changes;  // every file, unchanged ones included
  size_t written = 0;
  size_t secrets_written = 0;
  bool validated = false;
  bool rolled_back = false;
  std::vector<std::string> problems;  // validation problems (rolled back)

  size_t Count(ConfigChange::Kind kind) const;
  // Ok, or kInvalidArgument listing the problems when rolled back.
  Status ToStatus() const;
};

// `ref`: "latest" (newest config snapshot in options.scope), an id or a unique prefix.
Result<ConfigRestoreReport> RestoreConfig(repo::Repository& repo, const std::string& ref, const std::string& target,
                                          const ConfigRestoreOptions& options);

// Writes config snapshot `ref` as a plain .tar.gz: the mirrored tree, secrets
// as .secrets/<path>.gpg ciphertext (stock `gpg --decrypt` opens them), and
// MANIFEST.json (the manifest without plaintext hashes of secrets).
// A secret is never written in clear: a file the snapshot stores plain but
// that the config_secrets.h rules call a secret (a snapshot made before
// those rules, or by another tool) is encrypted into .secrets/<path>.gpg
// with the secrets passphrase when one is given, and otherwise the export is
// refused (kFailedPrecondition naming the files), writing nothing.
struct ConfigExportOptions {
  ConfigSnapshotScope scope;  // whose "latest"
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  std::map<std::string, std::string> named_secrets;  // ConfigNamedSecrets of the current config
};
// What a node's config implies: its scope (ConfigScopeFor) and the files it
// names as secrets (cfg may be empty).
ConfigExportOptions ConfigExportOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& host);
struct ConfigExportResult {
  std::string snapshot_id;
  size_t files = 0, secrets = 0;
  std::vector<std::string> encrypted_now;  // stored plain in the snapshot, encrypted for the export
};
Result<ConfigExportResult> ExportConfig(repo::Repository& repo, const std::string& ref, const std::string& output,
                                        const ConfigExportOptions& options = {});

// Extracts an archive (an export, or any .tar.gz) below `target` after the
// safety checks; refuses the whole archive, writing nothing, when any entry
// is unsafe. With a passphrase, .secrets/<p>.gpg are also decrypted to <p>
// with mode 0400. Then validates <target><config_path> when MANIFEST.json
// names one (problems reported, nothing rolled back: the target is new).
struct ConfigImportOptions {
  bool dry_run = false;  // only check and list
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  bool validate = true;
};
struct ConfigImportReport {
  archive::ExtractStats stats;
  size_t entries = 0;
  size_t secrets_decrypted = 0;
  std::string config_file;
  std::vector<std::string> problems;
};
Result<ConfigImportReport> ImportConfigArchive(const std::string& archive_path, const std::string& target,
                                               const ConfigImportOptions& options);

}  // namespace ailee::ops
