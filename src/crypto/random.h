// Cryptographically secure random bytes (libsodium's randombytes).
#pragma once

#include <cstddef>
#include <string>

namespace ailee::crypto {

std::string RandomBytes(size_t n);
void RandomFill(void* buf, size_t n);

}  // namespace ailee::crypto
