// Getting secrets into locked memory: key files, passphrases, PINs.
//
// Secrets never come from the command line. A passphrase comes from, in
// order: an explicit file (--passphrase-file), an environment variable
// (AILEE_KEY_PASSPHRASE; wiped and unset once read), or a no-echo prompt on
// the controlling terminal. Everything lands in crypto::SecureBytes.
//
// A secret file means what it means to `gpg --passphrase-file`, so that the
// stock-gpg recovery in docs/keys.md opens what this tool wrote with the
// very same file. gpg takes the first line up to the LF, byte for byte
// (spaces and a CR before the LF included), and ignores the rest (`pass
// show` prints the password first, metadata after). This tool takes the
// same bytes and refuses, saying what to do, a first line where gpg and a
// person could disagree: one with a CR (CR LF line endings), an empty one,
// one with a NUL. The file may be a regular file or a pipe/FIFO
// (`--passphrase-file <(pass show NAME)`, /dev/stdin): it is read once, to
// EOF, into locked memory; devices, sockets and directories are refused.
#pragma once

#include <string>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::keys {

inline constexpr const char* kPassphraseEnv = "AILEE_KEY_PASSPHRASE";
inline constexpr const char* kPinEnv = "AILEE_PKCS11_PIN";

// Reads a whole (small, <= 1 MiB) regular file straight into locked memory,
// as is (key files; no line rule).
Result<crypto::SecureBytes> ReadSecretFile(const std::string& path);

struct SecretSource {
  std::string file;      // read this file or pipe (its first line; see above) if set
  const char* env = nullptr;  // else this environment variable, if set and non-empty
  bool allow_tty = true;      // else prompt on /dev/tty
  std::string prompt = "Passphrase: ";
  bool confirm = false;       // prompt twice and require a match (when creating)
};

// NotFound when no source is available (no file, no env, no terminal).
// Rejects empty secrets and secrets containing NUL or newline (gpg reads one line).
Result<crypto::SecureBytes> ReadSecret(const SecretSource& source);

// A fresh random passphrase (64 hex characters, 256 bits) for backups whose
// passphrase is only ever held as Shamir shares.
crypto::SecureBytes GeneratePassphrase();

}  // namespace ailee::keys
