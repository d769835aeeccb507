#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <memory>

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

Result<SecureBytes> DeriveKeyHkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                        size_t key_size) {
  if (ikm.size() < 32) return InvalidArgument("HKDF input key material must be at least 32 bytes");
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free);
  if (!kdf) return Internal("OpenSSL has no HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), EVP_KDF_CTX_free);
  if (!ctx) return Internal("HKDF context allocation failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  SecureBytes key(key_size);
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key_size, params) != 1) {
    return Internal("HKDF-SHA-256 derivation failed");
  }
  return key;
}

}  // namespace ailee::crypto
