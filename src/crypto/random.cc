#include "crypto/random.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace ailee::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RandomFill(out.data(), n);
  return out;
}

void RandomFill(void* buf, size_t n) {
  EnsureSodium();
  randombytes_buf(buf, n);
}

}  // namespace ailee::crypto
