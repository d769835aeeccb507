#include "crypto/kdf.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace ailee::crypto {

Result<SecureBytes> DeriveKeyArgon2id(std::string_view passphrase, std::string_view salt,
                                      const Argon2Params& params, size_t key_size) {
  EnsureSodium();
  if (salt.size() != crypto_pwhash_SALTBYTES) return InvalidArgument("Argon2id salt must be 16 bytes");
  if (params.ops_limit < crypto_pwhash_OPSLIMIT_MIN || params.mem_limit < crypto_pwhash_MEMLIMIT_MIN)
    return InvalidArgument("Argon2id parameters below the library minimum");
  SecureBytes key(key_size);
  if (crypto_pwhash(reinterpret_cast<unsigned char*>(key.data()), key_size, passphrase.data(),
                    passphrase.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                    params.ops_limit, params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhausted("Argon2id needs more memory than is available (" +
                             std::to_string(params.mem_limit >> 20) + " MiB)");
  }
  return key;
}

}  // namespace ailee::crypto
