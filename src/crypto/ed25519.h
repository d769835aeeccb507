// Raw Ed25519 (libsodium) for the hot paths: transaction and block
// signatures. Keys are 32-byte seeds / public keys, signatures 64 bytes.
#pragma once

#include <string>
#include <string_view>

#include "crypto/secure.h"

namespace ailee::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
inline constexpr size_t kEd25519SeedSize = 32;

struct Ed25519KeyPair {
  SecureBytes secret;      // libsodium's 64-byte secret key (seed || public)
  std::string public_key;  // 32 bytes
};

Ed25519KeyPair Ed25519FromSeed(std::string_view seed32);
Ed25519KeyPair Ed25519Generate();
std::string Ed25519Sign(const Ed25519KeyPair& key, std::string_view message);
// Throwaway keys (load generation, tests) in ordinary memory: locked memory
// costs memory mappings, and a generator holds hundreds of thousands of keys.
struct Ed25519PlainKey {
  std::string secret;      // 64 bytes, libsodium layout
  std::string public_key;  // 32 bytes
};
Ed25519PlainKey Ed25519PlainFromSeed(std::string_view seed32);
std::string Ed25519SignPlain(const Ed25519PlainKey& key, std::string_view message);
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

}  // namespace ailee::crypto
