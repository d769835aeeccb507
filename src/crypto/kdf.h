// Passphrase-based key derivation: Argon2id (libsodium), memory-hard.
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

}  // namespace ailee::crypto
