// Key derivation.
//
// Argon2id (libsodium), memory-hard: for passphrases, which people choose and
// attackers can guess; its cost is the defence against guessing.
// HKDF-SHA-256 (RFC 5869, OpenSSL): for secrets that are already uniformly
// random and long (a 256-bit key file). Guessing those is hopeless whatever
// the cost per guess, so a memory-hard function would only slow down the
// legitimate user. Never use it for anything a person chose.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::crypto {

struct Argon2Params {
  uint64_t ops_limit = 3;                   // passes
  uint64_t mem_limit = 256ull << 20;        // bytes
  // Cheap parameters for tests only; production never chooses these implicitly.
  static Argon2Params ForTests() { return {1, 8ull << 20}; }
};

inline constexpr size_t kArgon2SaltSize = 16;

Result<SecureBytes> DeriveKeyArgon2id(std::string_view passphrase, std::string_view salt,
                                      const Argon2Params& params, size_t key_size = 32);

// HKDF-SHA-256 extract-and-expand. `ikm` must hold at least 32 bytes of
// entropy (kInvalidArgument when shorter than 32 bytes).
Result<SecureBytes> DeriveKeyHkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                        size_t key_size = 32);

}  // namespace ailee::crypto
