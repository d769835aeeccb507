#include "crypto/sodium_init.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace ailee::crypto {

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no secure RNG: nothing is safe to do
  });
}

}  // namespace ailee::crypto
