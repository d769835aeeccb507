// Signer key backups: create, verify, restore.
//
// A backup of signer S in directory D is two files:
//   D/S.key.gpg   the key file, byte for byte, in an OpenPGP symmetrically
//                 encrypted message (AES-256; see gpg_envelope.h). Stock
//                 `gpg --decrypt` opens it with the passphrase.
//   D/S.key.json  BackupMetadata (identity.h): fingerprint, type, time; no secret.
// and, when the key file has a signing fence beside it (signing_fence.h),
//   D/S.key.fence a copy of the fence as it was (no secret): restored with the
//                 key, it keeps a restored signer from signing below it.
// and, when the key was retired (retirement.h), D/S.key.retired: restored
// beside the fence, it keeps a restored retired key from signing at all.
// Optionally the passphrase is split into Shamir shares SHARES/S.share.NNN
// (gfsplit format, shamir.h), and the metadata records K, N and the numbers.
// docs/keys.md specifies all of it.
//
// Crash safety and idempotency: every file is written to a temporary name,
// fsync'ed and linked into place without replacing anything; a call that
// fails removes the files it created and leaves all others untouched, so it
// can simply be rerun. Nothing plaintext is ever written except the restore
// target itself.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/secure.h"
#include "keys/identity.h"
#include "keys/shamir.h"

namespace ailee::keys {

struct BackupRequest {
  std::string signer_id;
  std::string key_path;               // PEM private key file
  std::vector<std::string> out_dirs;  // one copy each; created (0700) if missing
  std::optional<ShareSpec> shares;    // split the passphrase into share files
  std::string shares_dir;             // required with `shares`; must not be an out dir
  // When it holds `signer_id`, the key must match it (a key that is not the
  // federation's is refused). Absent ids are not an error at backup time.
  const FederationKeys* federation = nullptr;
  const Clock* clock = &Clock::Real();
};

struct BackupResult {
  KeyIdentity identity;
  std::vector<std::string> backup_files;    // each read back, decrypted and checked
  std::vector<std::string> metadata_files;
  std::vector<std::string> share_files;     // each recombination checked
  std::vector<std::string> fence_files;     // empty when the key had no fence
};

// "<id>.key.fence".
std::string FenceBackupFileName(std::string_view signer_id);

// After a key was restored to `key_file`: the fence backed up beside the
// backup file (if any) is written beside the key, unless a fence there is
// already higher, which is kept (a fence is never lowered). Returns the fence
// height now beside the key, or nothing when the backup carries no fence.
// A retired marker in the backup is written beside that fence too.
Result<std::optional<uint64_t>> RestoreFenceFromBackup(const std::string& signer_id, const std::string& path_or_dir,
                                                       const std::string& key_file);
// The same for a key that is not a file (a PKCS#11 token): the fence is
// written to `fence_path` (FencePathForPkcs11, where the node reads it).
Result<std::optional<uint64_t>> RestoreFenceFromBackupTo(const std::string& signer_id, const std::string& path_or_dir,
                                                         const std::string& fence_path);

// AlreadyExists, before writing anything, when a target file exists.
Result<BackupResult> BackupKey(const BackupRequest& request, const crypto::SecureBytes& passphrase);

// Key backups live in local directories only. InvalidArgument when `path`
// is a URL ("s3://bucket/prefix", "file:///x": a scheme followed by ":/"),
// saying what to do instead; `option` names where it came from ("--out").
// Checked by BackupKey, OpenBackup and CombinePassphraseShares before
// anything is created or read, so a URL never becomes a local "s3:" dir.
// A local name with a colon stays usable as "./s3:/x".
Status CheckLocalPath(const std::string& path, const std::string& option);

// "<dir>" or "<dir>/<id>.key.gpg" -> the backup file path.
std::string ResolveBackupPath(const std::string& path_or_dir, const std::string& signer_id);
// Reads and validates the metadata next to a backup file.
Result<BackupMetadata> ReadMetadata(const std::string& backup_path);

// Recombines the passphrase from share files, checked against what the
// metadata recorded: InvalidArgument for too few shares or shares that were
// not part of this backup's split. (A share altered in content is caught
// only when the result fails to decrypt the backup.)
Result<crypto::SecureBytes> CombinePassphraseShares(const BackupMetadata& metadata,
                                                    const std::vector<std::string>& share_files);

struct FederationCheck {
  const FederationKeys* keys = nullptr;
  bool required = true;  // false: a missing federation key is reported, not fatal
};

struct OpenedBackup {
  std::string path;
  BackupMetadata metadata;
  int64_t mtime_unix = 0;
  crypto::SecureBytes key_pem;  // the key file as backed up
  crypto::PrivateKey key;
  std::string federation;       // "match" or "not configured"
};

// Decrypts in memory and checks, in order: metadata present and for this
// signer; ciphertext hash as recorded (DataLoss: modified or truncated);
// passphrase (PermissionDenied); a parseable key (DataLoss); fingerprint
// and type as recorded (DataLoss); the federation key (DataLoss on mismatch,
// NotFound when required but not configured).
Result<OpenedBackup> OpenBackup(const std::string& signer_id, const std::string& path_or_dir,
                                const crypto::SecureBytes& passphrase, const FederationCheck& federation);

class GpgSymmetric;
// As above, reusing one gpg home for several copies.
Result<OpenedBackup> OpenBackup(const std::string& signer_id, const std::string& path_or_dir,
                                const crypto::SecureBytes& passphrase, const FederationCheck& federation,
                                GpgSymmetric& gpg);

struct CopyReport {
  std::string path;
  Status status;
  std::string fingerprint;  // recorded (if the metadata was readable)
  std::string key_type;
  std::string federation;
  int64_t created_unix = 0;  // from metadata
  int64_t mtime_unix = 0;    // of the .key.gpg file
  std::string retired;       // RetiredRecord::Describe() of the copy's marker, empty when not retired
};

struct VerifyReport {
  std::vector<CopyReport> copies;
  Status overall;  // first failure, or Ok when every copy passed
};

// The weekly check: every copy must open and match. Never writes anything.
VerifyReport VerifyBackups(const std::string& signer_id, const std::vector<std::string>& paths,
                           const crypto::SecureBytes& passphrase, const FederationCheck& federation);

struct FileOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};
// "USER", "USER:GROUP", ":GROUP", numeric ids accepted.
Result<FileOwner> ParseOwner(const std::string& text);

enum class RestoreOutcome { kWritten, kAlreadyPresent };

struct RestoreResult {
  RestoreOutcome outcome = RestoreOutcome::kWritten;
  // With kAlreadyPresent: what was made safe, e.g. "mode 0644 -> 0640" or
  // "owner 1234:1234 -> 0:0"; empty when the file was fine as it was.
  std::string repaired;
  bool operator==(RestoreOutcome o) const { return outcome == o; }
};

// Writes the key file with mode 0400 (and `owner`), atomically, never
// replacing an existing file. If `path` already is a regular file holding
// this key, the call succeeds with kAlreadyPresent once the file is also
// safe, which a rerun must be able to rely on:
//   - mode: group write, any access for others, execute and set-id bits are
//     removed (owner read/write and group read are kept);
//   - owner: set to `owner` when given; when not, a file owned by anyone but
//     root or the caller is refused (PermissionDenied): that user can read
//     the key and change the mode again.
// A symbolic link (even to this key), a FIFO, device or directory at `path`
// and any other content are AlreadyExists and left untouched.
Result<RestoreResult> RestoreToFile(const OpenedBackup& backup, const std::string& path, const FileOwner& owner);

}  // namespace ailee::keys
