// BackupKey: encrypt once, write every copy, read every copy back.
#include "keys/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/fs.h"
#include "crypto/hash.h"
#include "keys/created_files.h"
#include "keys/gpg_envelope.h"
#include "keys/retirement.h"
#include "keys/secret_input.h"
#include "keys/signing_fence.h"

namespace ailee::keys {
namespace {

std::string CanonicalDir(const std::string& dir) {
  char buf[PATH_MAX];
  return ::realpath(dir.c_str(), buf) ? std::string(buf) : dir;
}

Status CheckCopy(const std::string& backup_path, const std::string& signer_id, const crypto::SecureBytes& passphrase,
                 const KeyIdentity& expected, GpgSymmetric& gpg) {
  auto opened = OpenBackup(signer_id, backup_path, passphrase, FederationCheck{nullptr, false}, gpg);
  if (!opened.ok()) return opened.status().WithContext("reading back " + backup_path);
  if (opened->metadata.identity.fingerprint != expected.fingerprint)
    return DataLoss("read-back of " + backup_path + " has fingerprint " + opened->metadata.identity.fingerprint +
                    ", expected " + expected.fingerprint);
  return Status::Ok();
}

}  // namespace

Result<BackupResult> BackupKey(const BackupRequest& req, const crypto::SecureBytes& passphrase) {
  RETURN_IF_ERROR(ValidateSignerId(req.signer_id));
  if (req.out_dirs.empty()) return InvalidArgument("at least one --out directory is required");
  if (passphrase.empty()) return InvalidArgument("empty passphrase");
  for (const auto& dir : req.out_dirs) RETURN_IF_ERROR(CheckLocalPath(dir, "--out"));
  if (!req.shares_dir.empty()) RETURN_IF_ERROR(CheckLocalPath(req.shares_dir, "--shares-out"));

  // Key first: nothing is created for a key we cannot read or that is not the federation's.
  ASSIGN_OR_RETURN(crypto::SecureBytes pem, ReadSecretFile(req.key_path));
  auto key = crypto::PrivateKey::FromPem(pem);
  if (!key.ok()) return key.status().WithContext("key file " + req.key_path);
  BackupResult result;
  result.identity = IdentityOf(req.signer_id, key->public_key());
  if (req.federation && req.federation->count(req.signer_id))
    RETURN_IF_ERROR(CheckFederation(*req.federation, result.identity).WithContext("refusing to back up " + req.key_path));

  // Targets: distinct directories, nothing there yet.
  std::set<std::string> seen;
  for (const auto& dir : req.out_dirs) {
    if (fs::Exists(dir) && !fs::IsDirectory(dir)) return InvalidArgument("--out " + dir + " is not a directory");
    if (!seen.insert(CanonicalDir(dir)).second) return InvalidArgument("--out " + dir + " is given twice");
    for (const auto& name : {BackupFileName(req.signer_id), MetadataFileName(req.signer_id)}) {
      std::string p = fs::JoinPath(dir, name);
      if (fs::Exists(p))
        return AlreadyExists(p + " already exists; check it with `ailee-cli keys verify`, or back up to another directory");
    }
  }
  // The fence as it is now; a damaged one is not copied as if it were fine.
  std::optional<std::string> fence_text;
  auto fence = ReadFenceFile(FencePathForKeyFile(req.key_path));
  if (fence.ok()) {
    fence_text = SerializeFence(*fence);
    for (const auto& dir : req.out_dirs) {
      std::string p = fs::JoinPath(dir, FenceBackupFileName(req.signer_id));
      if (fs::Exists(p)) return AlreadyExists(p + " already exists; back up to another directory");
    }
  } else if (fence.status().code() != StatusCode::kNotFound) {
    return fence.status().WithContext("refusing to back up " + req.key_path);
  }
  // A retired key stays retired in its backups (retirement.h).
  ASSIGN_OR_RETURN(auto retired, ReadRetiredMarker(RetiredMarkerPathForFence(FencePathForKeyFile(req.key_path))));
  std::vector<Share> shares;
  std::optional<ShareInfo> share_info;
  if (req.shares) {
    if (req.shares_dir.empty()) return InvalidArgument("--shares needs --shares-out DIR (kept apart from the backups)");
    if (fs::Exists(req.shares_dir) && !fs::IsDirectory(req.shares_dir))
      return InvalidArgument("--shares-out " + req.shares_dir + " is not a directory");
    if (seen.count(CanonicalDir(req.shares_dir)))
      return InvalidArgument("--shares-out must not be one of the --out directories: shares next to the backup defeat the split");
    ASSIGN_OR_RETURN(shares, SplitSecret(passphrase, *req.shares));
    share_info = ShareInfo{req.shares->threshold, req.shares->count, {}};
    for (const auto& s : shares) {
      share_info->numbers.push_back(s.number);
      std::string p = fs::JoinPath(req.shares_dir, ShareFileName(req.signer_id, s.number));
      if (fs::Exists(p)) return AlreadyExists(p + " already exists; use an empty --shares-out directory");
    }
  }

  ASSIGN_OR_RETURN(GpgSymmetric gpg, GpgSymmetric::Create());
  ASSIGN_OR_RETURN(std::string ciphertext, gpg.Encrypt(pem, passphrase));
  BackupMetadata meta;
  meta.identity = result.identity;
  meta.created_unix = req.clock->NowSeconds();
  meta.public_key_pem = key->public_key().Pem();
  meta.ciphertext_sha256 = crypto::HashToHex(crypto::Sha256(ciphertext));
  meta.shares = share_info;
  std::string meta_text = meta.ToJson().dump(2) + "\n";

  for (const auto& dir : req.out_dirs)
    if (!fs::Exists(dir)) RETURN_IF_ERROR(fs::MakeDirs(dir, 0700));
  if (!shares.empty() && !fs::Exists(req.shares_dir)) RETURN_IF_ERROR(fs::MakeDirs(req.shares_dir, 0700));
  CreatedFiles created;
  for (const auto& dir : req.out_dirs) {
    std::string backup = fs::JoinPath(dir, BackupFileName(req.signer_id));
    std::string meta_path = fs::JoinPath(dir, MetadataFileName(req.signer_id));
    RETURN_IF_ERROR(created.Write(backup, ciphertext, 0600));
    RETURN_IF_ERROR(created.Write(meta_path, meta_text, 0644));
    result.backup_files.push_back(backup);
    result.metadata_files.push_back(meta_path);
    if (fence_text) {
      std::string fence_path = fs::JoinPath(dir, FenceBackupFileName(req.signer_id));
      RETURN_IF_ERROR(created.Write(fence_path, *fence_text, 0600));
      result.fence_files.push_back(fence_path);
    }
    if (retired) {
      std::string marker = fs::JoinPath(dir, RetiredBackupFileName(req.signer_id));
      RETURN_IF_ERROR(created.Write(marker, retired->ToJson().dump(2) + "\n", 0644));
    }
  }
  for (const auto& s : shares) {
    std::string p = fs::JoinPath(req.shares_dir, ShareFileName(req.signer_id, s.number));
    RETURN_IF_ERROR(created.Write(p, s.bytes.view(), 0600));
    result.share_files.push_back(p);
  }

  // Read everything back from disk before reporting success.
  for (const auto& backup : result.backup_files)
    RETURN_IF_ERROR(CheckCopy(backup, req.signer_id, passphrase, result.identity, gpg));
  if (!shares.empty()) {
    size_t k = static_cast<size_t>(req.shares->threshold);
    std::vector<std::string> first(result.share_files.begin(), result.share_files.begin() + static_cast<long>(k));
    std::vector<std::string> last(result.share_files.end() - static_cast<long>(k), result.share_files.end());
    for (const auto& subset : {first, last}) {
      ASSIGN_OR_RETURN(crypto::SecureBytes combined, CombinePassphraseShares(meta, subset));
      if (!(combined == passphrase)) return Internal("share files read back do not recombine to the passphrase");
    }
  }
  created.Commit();
  return result;
}

std::string FenceBackupFileName(std::string_view signer_id) { return std::string(signer_id) + ".key.fence"; }

Result<std::optional<uint64_t>> RestoreFenceFromBackup(const std::string& signer_id, const std::string& path_or_dir,
                                                       const std::string& key_file) {
  return RestoreFenceFromBackupTo(signer_id, path_or_dir, FencePathForKeyFile(key_file));
}

Result<std::optional<uint64_t>> RestoreFenceFromBackupTo(const std::string& signer_id, const std::string& path_or_dir,
                                                         const std::string& target) {
  const std::string dir = fs::Dirname(ResolveBackupPath(path_or_dir, signer_id));
  // A retired key restored anywhere is still retired: its marker goes beside
  // the fence the node would open, even when the backup carries no fence.
  ASSIGN_OR_RETURN(auto retired, ReadRetiredMarker(fs::JoinPath(dir, RetiredBackupFileName(signer_id))));
  if (retired) {
    auto marked = WriteRetiredMarker(RetiredMarkerPathForFence(target), *retired);
    if (!marked.ok()) return marked.status().WithContext("restoring the retired marker");
  }
  const std::string backed_up = fs::JoinPath(dir, FenceBackupFileName(signer_id));
  auto saved = ReadFenceFile(backed_up);
  if (saved.status().code() == StatusCode::kNotFound) return std::optional<uint64_t>();
  if (!saved.ok()) return saved.status().WithContext("restoring the signing fence");
  Status st = RaiseFenceFile(target, *saved);
  if (!st.ok() && st.code() != StatusCode::kFailedPrecondition) return st.WithContext("restoring the signing fence");
  ASSIGN_OR_RETURN(FenceState now, ReadFenceFile(target));
  return std::optional<uint64_t>(now.height);
}

}  // namespace ailee::keys
