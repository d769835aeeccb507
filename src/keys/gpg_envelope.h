// OpenPGP symmetric encryption of a secret, through GPGME, readable by stock
// `gpg --decrypt`.
//
// Each call runs gpg in a private, throw-away GNUPGHOME (mode 0700 under
// $TMPDIR, its gpg-agent killed and the directory removed afterwards), so
// the operator's keyring and agent cache are never touched and no passphrase
// is cached. The passphrase reaches gpg through GPGME's loopback passphrase
// callback, never argv or a file. Plaintext stays in caller-owned
// SecureBytes: encryption reads it in place (gpgme_data_new_from_mem without
// copy) and decryption writes it through a callback straight into locked
// memory. Thread-compatible: calls are independent.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::keys {

class TempGnupgHome;

// One private GNUPGHOME (and so one gpg-agent start) shared by several
// operations of one command: a backup encrypts once and reads every copy
// back. Passphrases are never cached (no-symkey-cache, cache TTL 0), so
// sharing the home shares no secret between calls. Not thread-safe.
class GpgSymmetric {
 public:
  static Result<GpgSymmetric> Create();
  GpgSymmetric(GpgSymmetric&&) noexcept;
  GpgSymmetric& operator=(GpgSymmetric&&) = delete;
  ~GpgSymmetric();

  // AES-256, S2K iterated+salted with SHA-512, MDC (integrity) on, binary
  // (not armored) output.
  Result<std::string> Encrypt(const crypto::SecureBytes& plaintext, const crypto::SecureBytes& passphrase);
  // PermissionDenied on a wrong passphrase; DataLoss when the input is not a
  // complete, intact OpenPGP symmetric message. Plaintext is capped at 1 MiB.
  Result<crypto::SecureBytes> Decrypt(std::string_view ciphertext, const crypto::SecureBytes& passphrase);

 private:
  explicit GpgSymmetric(std::unique_ptr<TempGnupgHome> home);
  std::unique_ptr<TempGnupgHome> home_;
};

// One-shot forms (a fresh home each).
Result<std::string> GpgEncryptSymmetric(const crypto::SecureBytes& plaintext,
                                        const crypto::SecureBytes& passphrase);
Result<crypto::SecureBytes> GpgDecryptSymmetric(std::string_view ciphertext,
                                                const crypto::SecureBytes& passphrase);

}  // namespace ailee::keys
