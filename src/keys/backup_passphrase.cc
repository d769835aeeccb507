#include "keys/backup_passphrase.h"

#include "keys/backup.h"

namespace ailee::keys {

Result<crypto::SecureBytes> ReadBackupPassphrase(const BackupPassphraseSource& source, const std::string& signer_id,
                                                 const std::string& backup) {
  if (source.share_files.empty()) return ReadSecret(source.secret);
  ASSIGN_OR_RETURN(BackupMetadata meta, ReadMetadata(ResolveBackupPath(backup, signer_id)));
  return CombinePassphraseShares(meta, source.share_files);
}

Status ExplainShareFailure(const Status& status, const BackupPassphraseSource& source) {
  if (status.code() == StatusCode::kPermissionDenied && !source.share_files.empty())
    return PermissionDenied("the given shares do not recombine to this backup's passphrase: at least one share is "
                            "damaged or belongs to another split (" + status.message() + ")");
  return status;
}

}  // namespace ailee::keys
