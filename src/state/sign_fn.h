// Signs with whatever holds a signer's key (a PEM key in memory, a PKCS#11
// token); the signature format is crypto::PrivateKey::Sign's.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::state {

using SignFn = std::function<Result<std::string>(std::string_view message)>;

}  // namespace ailee::state
