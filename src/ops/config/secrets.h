// Which files of a config backup hold secrets, and reading them safely.
//
// A config backup encrypts every file that holds a secret, whether or not
// the operator listed it in backup.secret_paths (docs/config-backup.md,
// "What is a secret"). A file is a secret when any rule matches:
//   - it is listed in backup.secret_paths, or is named secrets.yaml;
//   - the config names it as a secret: signer.key_file,
//     signer.pkcs11.pin_file, backup.passphrase_file, node.admin_token_file,
//     backup.s3.credentials_file (ConfigNamedSecrets);
//   - it is an AWS credentials/config file: in a directory named .aws, or
//     named by $AWS_SHARED_CREDENTIALS_FILE / $AWS_CONFIG_FILE;
//   - its mode gives no read access to group and others (0600, 0400, ...);
//   - its content has a known secret shape: a PEM or OpenSSH private key
//     ("-----BEGIN ... PRIVATE KEY-----"), a PuTTY key, an
//     aws_secret_access_key or aws_session_token line.
// The rules are pure apart from reading the environment; ReadSourceFile
// reads one file straight into locked memory.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "config/config.h"
#include "crypto/secure.h"

namespace ailee::ops {

// Absolute path -> the config field naming it, for every file the config
// says holds a secret (empty fields are left out).
// The lexically normal form of a path: how the secret rules compare paths.
std::string NormalizedPath(const std::string& path);

std::map<std::string, std::string> ConfigNamedSecrets(const config::NodeConfig& cfg);

struct SecretRules {
  std::map<std::string, std::string> listed;  // path -> why ("backup.secret_paths", "signer.key_file", ...)
};

// Why the file at `path` (normalized, absolute) with mode `mode` and content
// `content` is a secret ("holds a PEM private key", "mode 0600: readable
// by its owner only", ...), or "" when it is not.
std::string SecretReason(const SecretRules& rules, const std::string& path, uint32_t mode, std::string_view content);

// Reads the regular file at `path` into locked memory through one file
// descriptor opened with O_NOFOLLOW|O_NONBLOCK, so what is classified and
// stored is what was read: a symlink, fifo or device now at `path` is
// refused (kFailedPrecondition, naming what it is) without blocking, and
// a file that grows or shrinks while read is kUnavailable (run again).
// `st` receives the fstat of the opened file.
Result<crypto::SecureBytes> ReadSourceFile(const std::string& path, struct stat* st);

}  // namespace ailee::ops
