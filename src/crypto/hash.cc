#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <stdexcept>

#include "base/hex.h"

namespace ailee::crypto {

std::string HashToString(const Hash256& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }
std::string HashToHex(const Hash256& h) { return HexEncode(HashToString(h)); }

bool HashFromHex(std::string_view hex, Hash256* out) {
  auto raw = HexDecode(hex);
  if (!raw || raw->size() != 32) return false;
  std::memcpy(out->data(), raw->data(), 32);
  return true;
}

Hash256 Sha256(std::string_view data) {
  Hash256 out;
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Hash256 HmacSha256(std::string_view key, std::string_view data) {
  Hash256 out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex failed");
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Hash256 Sha256Stream::Finish() {
  Hash256 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len);
  return out;
}

}  // namespace ailee::crypto
