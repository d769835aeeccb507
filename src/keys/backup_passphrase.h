// The passphrase that opens a signer key backup, from wherever the operator
// keeps it: share files (`keys backup --shares K/N`, recombined and checked
// against the backup's metadata) or a secret source (a file, the
// environment, the terminal: secret_input.h). One rule for `keys verify`,
// `keys restore` and `recover-node`, so that what opens a backup for one
// opens it for the others. Secrets never come from argv; share FILES do.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/secure.h"
#include "keys/secret_input.h"

namespace ailee::keys {

struct BackupPassphraseSource {
  // When not empty the passphrase is recombined from these files and
  // `secret` is not read.
  std::vector<std::string> share_files;
  SecretSource secret;
};

// The passphrase for the backup of `signer_id` at `backup` (a file or a
// directory). With shares: InvalidArgument naming the count for too few
// distinct shares, or a share that was not part of this backup's split
// (CombinePassphraseShares). Nothing is written.
Result<crypto::SecureBytes> ReadBackupPassphrase(const BackupPassphraseSource& source, const std::string& signer_id,
                                                 const std::string& backup);

// What a wrong passphrase (PermissionDenied from OpenBackup) means when it
// was recombined from shares: a damaged share or one of another split.
// Other statuses are returned as they are.
Status ExplainShareFailure(const Status& status, const BackupPassphraseSource& source);

}  // namespace ailee::keys
