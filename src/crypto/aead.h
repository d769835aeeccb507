// Authenticated encryption for repository objects: AES-256-GCM (OpenSSL,
// AES-NI) with a random 96-bit nonce per message.
//
// Sealed layout: nonce(12) || ciphertext || tag(16). Associated data binds a
// ciphertext to its role (for example the object id), so a valid ciphertext
// moved to another name fails to open.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;

// `key` must be kAeadKeySize bytes.
Result<std::string> AeadSeal(const SecureBytes& key, std::string_view plaintext, std::string_view ad);
// Fails with kDataLoss when the tag does not verify (tampered, truncated, wrong key).
Result<std::string> AeadOpen(const SecureBytes& key, std::string_view sealed, std::string_view ad);
// Same, decrypting into secure memory (for wrapped keys).
Result<SecureBytes> AeadOpenSecret(const SecureBytes& key, std::string_view sealed, std::string_view ad);

// Allocation-free forms for bulk data (blobs), byte-compatible with the above.
//
// AeadSealInto writes the sealed message (plaintext.size() + kAeadOverhead
// bytes) to `out`, which must not overlap `plaintext`.
Status AeadSealInto(const SecureBytes& key, std::string_view plaintext, std::string_view ad, char* out);
// AeadOpenInPlace decrypts the `size` sealed bytes at `sealed` in place and
// returns the plaintext, which lies at sealed + kAeadNonceSize. On failure
// (kDataLoss) the buffer holds unauthenticated garbage: do not use it.
Result<std::string_view> AeadOpenInPlace(const SecureBytes& key, char* sealed, size_t size, std::string_view ad);

}  // namespace ailee::crypto
