// Digests and nonces the S3 store needs on the wire: the payload SHA-256
// (x-amz-content-sha256 and the object's x-amz-meta-sha256), Content-MD5,
// and random claim names. OpenSSL directly: storage sits beside crypto/, not
// above it. OpenSSL fails these only when it cannot allocate or has no
// provider for the algorithm: kInternal, naming the call.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::storage::s3 {

// Lower-case hex SHA-256 of `data` (64 characters).
Result<std::string> Sha256Hex(std::string_view data);
// Base64 of the raw MD5 of `data`, the Content-MD5 header value.
Result<std::string> Md5Base64(std::string_view data);
// Lower-case hex MD5 of `data`, as in a single-part ETag.
Result<std::string> Md5Hex(std::string_view data);
// `bytes` random bytes as lower-case hex, from OpenSSL's CSPRNG.
Result<std::string> RandomHex(size_t bytes);

}  // namespace ailee::storage::s3
