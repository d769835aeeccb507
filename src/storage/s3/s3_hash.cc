#include "storage/s3/s3_hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <vector>

#include "base/hex.h"

namespace ailee::storage::s3 {
namespace {

Result<std::string> Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    return Internal(std::string("OpenSSL ") + EVP_MD_get0_name(md) + " digest of " + std::to_string(data.size()) +
                    " bytes failed (out of memory or no provider)");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

Result<std::string> Sha256Hex(std::string_view data) {
  ASSIGN_OR_RETURN(std::string raw, Digest(EVP_sha256(), data));
  return HexEncode(raw);
}

Result<std::string> Md5Hex(std::string_view data) {
  ASSIGN_OR_RETURN(std::string raw, Digest(EVP_md5(), data));
  return HexEncode(raw);
}

Result<std::string> Md5Base64(std::string_view data) {
  ASSIGN_OR_RETURN(std::string raw, Digest(EVP_md5(), data));
  unsigned char out[32];
  int n = EVP_EncodeBlock(out, reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return Internal("OpenSSL RAND_bytes of " + std::to_string(bytes) + " bytes failed (no entropy source?)");
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

}  // namespace ailee::storage::s3
