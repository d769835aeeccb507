// SHA-256 and HMAC-SHA-256 (OpenSSL; uses the SHA extensions where present).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::crypto {

using Hash256 = std::array<uint8_t, 32>;

std::string HashToString(const Hash256& h);           // 32 raw bytes
std::string HashToHex(const Hash256& h);
bool HashFromHex(std::string_view hex, Hash256* out);

Hash256 Sha256(std::string_view data);
// SHA-256 of a whole file, read sequentially in 1 MiB blocks.
Result<Hash256> Sha256File(const std::string& path);
Hash256 HmacSha256(std::string_view key, std::string_view data);

// Incremental SHA-256 for streaming large files. Not thread-safe.
// OpenSSL can fail to set the stream up (out of memory, no SHA-256
// provider): Finish then returns kInternal, and Update does nothing.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // The hash of everything since construction or the last Finish, which
  // starts the stream afresh.
  Result<Hash256> Finish();

 private:
  void* ctx_;
  bool ok_ = false;  // the context is set up and every call on it succeeded
};

}  // namespace ailee::crypto
