#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

namespace {

// The implementation is fetched once and each thread keeps one digest
// context: EVP_Digest(..., EVP_sha256()) fetches SHA-256 from the provider
// store (a lock and a lookup) and allocates a context on every call under
// OpenSSL 3, which cost more than hashing a 65-byte Merkle node and about as
// much as hashing a 1 KiB transaction (verify-state hashes millions of both).
const EVP_MD* FetchedSha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Hash256 Sha256(std::string_view data) {
  thread_local DigestContext holder;
  Hash256 out;
  unsigned int len = 0;
  const EVP_MD* md = FetchedSha256();
  if (md != nullptr && holder.ctx != nullptr && EVP_DigestInit_ex(holder.ctx, md, nullptr) == 1 &&
      EVP_DigestUpdate(holder.ctx, data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(holder.ctx, out.data(), &len) == 1) {
    return out;
  }
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Result<Hash256> Sha256File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256Stream sha;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoStatus("read", path, e);
    }
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  auto hash = sha.Finish();
  if (!hash.ok()) return hash.status().WithContext("hashing " + path);
  return hash;
}

Hash256 HmacSha256(std::string_view key, std::string_view data) {
  Hash256 out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  ok_ = ctx_ && EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) == 1;
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(std::string_view data) {
  if (ok_) ok_ = EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) == 1;
}

Result<Hash256> Sha256Stream::Finish() {
  Hash256 out;
  unsigned int len = 0;
  const bool finished = ok_ && EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len) == 1;
  ok_ = ctx_ && EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) == 1;
  if (!finished) return Internal("OpenSSL SHA-256 stream failed (out of memory or no SHA-256 provider)");
  return out;
}

}  // namespace ailee::crypto
