#include "state/state_root.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

#include "state/encoding.h"

namespace ailee::state {
namespace {

// One cipher context per thread: creating an EVP context per element costs
// more than the 2 KiB of AES-NI keystream itself.
// The cipher is fetched once: OpenSSL 3's implicit fetch inside
// EVP_EncryptInit_ex (EVP_aes_256_ctr()) more than doubles the per-element cost.
// Only the key changes per element; the cipher stays bound to the context.
struct CtxHolder {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  bool ready = false;
  ~CtxHolder() { EVP_CIPHER_CTX_free(ctx); }
};

const EVP_CIPHER* AesCtr() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  return cipher;
}

void Expand(const crypto::Hash256& digest, uint16_t* lanes) {
  static const unsigned char kZeros[LtHash::kBytes] = {};
  static const unsigned char kIv[16] = {};
  thread_local CtxHolder holder;
  unsigned char out[LtHash::kBytes];
  int len = 0;
  // AES-256-CTR with a fixed key size and buffer cannot fail short of memory
  // corruption or an OpenSSL without AES; either way, continuing would
  // silently produce a wrong root.
  if (!holder.ready && holder.ctx != nullptr && AesCtr() != nullptr) {
    holder.ready = EVP_EncryptInit_ex(holder.ctx, AesCtr(), nullptr, nullptr, nullptr) == 1;
  }
  if (!holder.ready || EVP_EncryptInit_ex(holder.ctx, nullptr, nullptr, digest.data(), kIv) != 1 ||
      EVP_EncryptUpdate(holder.ctx, out, &len, kZeros, sizeof(kZeros)) != 1 || len != sizeof(kZeros)) {
    std::abort();
  }
  for (size_t i = 0; i < LtHash::kLanes; ++i) {
    lanes[i] = static_cast<uint16_t>(out[2 * i] | (out[2 * i + 1] << 8));
  }
}

}  // namespace

crypto::Hash256 StateEntryDigest(std::string_view cf, std::string_view key, std::string_view value) {
  std::string buf;
  buf.reserve(1 + cf.size() + 8 + key.size() + value.size());
  PutU8(&buf, static_cast<uint8_t>(cf.size()));
  buf.append(cf);
  PutBytes(&buf, key);
  PutBytes(&buf, value);
  return crypto::Sha256(buf);
}

Result<LtHash> LtHash::FromBytes(std::string_view bytes) {
  if (bytes.size() != kBytes) {
    return DataLoss("state accumulator is " + std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(kBytes));
  }
  LtHash h;
  for (size_t i = 0; i < kLanes; ++i) {
    h.lanes_[i] = static_cast<uint16_t>(static_cast<uint8_t>(bytes[2 * i]) |
                                        (static_cast<uint8_t>(bytes[2 * i + 1]) << 8));
  }
  return h;
}

void LtHash::Add(std::string_view cf, std::string_view key, std::string_view value) {
  uint16_t e[kLanes];
  Expand(StateEntryDigest(cf, key, value), e);
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] + e[i]);
}

void LtHash::Remove(std::string_view cf, std::string_view key, std::string_view value) {
  uint16_t e[kLanes];
  Expand(StateEntryDigest(cf, key, value), e);
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] - e[i]);
}

void LtHash::Combine(const LtHash& other) {
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] + other.lanes_[i]);
}

void LtHash::Subtract(const LtHash& other) {
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] - other.lanes_[i]);
}

std::string LtHash::ToBytes() const {
  std::string out(kBytes, '\0');
  for (size_t i = 0; i < kLanes; ++i) {
    out[2 * i] = static_cast<char>(lanes_[i] & 0xff);
    out[2 * i + 1] = static_cast<char>(lanes_[i] >> 8);
  }
  return out;
}

crypto::Hash256 LtHash::Root() const { return crypto::Sha256(ToBytes()); }

crypto::Hash256 EmptyStateRoot() { return LtHash().Root(); }

}  // namespace ailee::state
