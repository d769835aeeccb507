#include "crypto/ed25519.h"

#include <sodium.h>

#include "crypto/random.h"
#include "crypto/sodium_init.h"

namespace ailee::crypto {

Ed25519KeyPair Ed25519FromSeed(std::string_view seed32) {
  EnsureSodium();
  Ed25519KeyPair kp{SecureBytes(crypto_sign_SECRETKEYBYTES), std::string(crypto_sign_PUBLICKEYBYTES, '\0')};
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(kp.public_key.data()),
                           reinterpret_cast<unsigned char*>(kp.secret.data()),
                           reinterpret_cast<const unsigned char*>(seed32.data()));
  return kp;
}

Ed25519KeyPair Ed25519Generate() {
  SecureBytes seed(kEd25519SeedSize);
  RandomFill(seed.data(), seed.size());
  return Ed25519FromSeed(seed.view());
}

std::string Ed25519Sign(const Ed25519KeyPair& key, std::string_view message) {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret.data()));
  return sig;
}

Ed25519PlainKey Ed25519PlainFromSeed(std::string_view seed32) {
  EnsureSodium();
  Ed25519PlainKey k{std::string(crypto_sign_SECRETKEYBYTES, '\0'), std::string(crypto_sign_PUBLICKEYBYTES, '\0')};
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                           reinterpret_cast<unsigned char*>(k.secret.data()),
                           reinterpret_cast<const unsigned char*>(seed32.data()));
  return k;
}

std::string Ed25519SignPlain(const Ed25519PlainKey& key, std::string_view message) {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret.data()));
  return sig;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  EnsureSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

}  // namespace ailee::crypto
