#pragma once

namespace ailee::crypto {
// Initializes libsodium once per process; safe to call from any thread.
void EnsureSodium();
}  // namespace ailee::crypto
