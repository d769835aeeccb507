#include "crypto/aead.h"

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>

#include "crypto/random.h"

namespace ailee::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(const char* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U(char* p) { return reinterpret_cast<unsigned char*>(p); }

// Decrypts into `out` (pre-sized to the plaintext length).
Status OpenInto(const SecureBytes& key, std::string_view sealed, std::string_view ad, char* out) {
  if (key.size() != kAeadKeySize) return InvalidArgument("AEAD key must be 32 bytes");
  if (sealed.size() < kAeadOverhead) return DataLoss("ciphertext shorter than nonce and tag");
  const size_t n = sealed.size() - kAeadOverhead;
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key.data()), U(sealed.data())) == 1;
  ok = ok && (ad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(ad.data()), static_cast<int>(ad.size())) == 1);
  ok = ok && EVP_DecryptUpdate(ctx.get(), U(out), &len, U(sealed.data() + kAeadNonceSize), static_cast<int>(n)) == 1;
  if (!ok) return Internal("AES-GCM decrypt setup failed");
  // The tag follows the ciphertext, so decrypting in place (out == the
  // ciphertext) leaves it intact; the copy is for OpenSSL's non-const API.
  std::array<char, kAeadTagSize> tag;
  std::memcpy(tag.data(), sealed.data() + sealed.size() - kAeadTagSize, kAeadTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag.data()) != 1)
    return Internal("AES-GCM set tag failed");
  if (EVP_DecryptFinal_ex(ctx.get(), U(out) + len, &len) != 1)
    return DataLoss("authentication failed: data was modified, truncated, or the key is wrong");
  return Status::Ok();
}

}  // namespace

Status AeadSealInto(const SecureBytes& key, std::string_view plaintext, std::string_view ad, char* out) {
  if (key.size() != kAeadKeySize) return InvalidArgument("AEAD key must be 32 bytes");
  RandomFill(out, kAeadNonceSize);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key.data()), U(out)) == 1;
  ok = ok && (ad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(ad.data()), static_cast<int>(ad.size())) == 1);
  ok = ok && EVP_EncryptUpdate(ctx.get(), U(out + kAeadNonceSize), &len, U(plaintext.data()),
                               static_cast<int>(plaintext.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), U(out + kAeadNonceSize + len), &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize,
                                 out + kAeadNonceSize + plaintext.size()) == 1;
  if (!ok) return Internal("AES-GCM encryption failed");
  return Status::Ok();
}

Result<std::string> AeadSeal(const SecureBytes& key, std::string_view plaintext, std::string_view ad) {
  std::string out(plaintext.size() + kAeadOverhead, '\0');
  RETURN_IF_ERROR(AeadSealInto(key, plaintext, ad, out.data()));
  return out;
}

Result<std::string> AeadOpen(const SecureBytes& key, std::string_view sealed, std::string_view ad) {
  std::string out(sealed.size() >= kAeadOverhead ? sealed.size() - kAeadOverhead : 0, '\0');
  RETURN_IF_ERROR(OpenInto(key, sealed, ad, out.data()));
  return out;
}

Result<SecureBytes> AeadOpenSecret(const SecureBytes& key, std::string_view sealed, std::string_view ad) {
  SecureBytes out(sealed.size() >= kAeadOverhead ? sealed.size() - kAeadOverhead : 0);
  RETURN_IF_ERROR(OpenInto(key, sealed, ad, out.data()));
  return out;
}

Result<std::string_view> AeadOpenInPlace(const SecureBytes& key, char* sealed, size_t size, std::string_view ad) {
  char* plain = sealed + kAeadNonceSize;
  RETURN_IF_ERROR(OpenInto(key, std::string_view(sealed, size), ad, plain));
  return std::string_view(plain, size - kAeadOverhead);
}

}  // namespace ailee::crypto
