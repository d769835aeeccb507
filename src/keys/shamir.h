// Shamir secret sharing over GF(2^8) through libgfshare, in the file format
// of Debian's gfsplit/gfcombine: a share is a file "<stem>.NNN", NNN its
// share number (001-255, zero padded), whose content is the raw share bytes
// (as long as the secret). Nothing else is stored, so a share carries no
// checksum: combining too few or mismatched shares yields garbage, which the
// caller must detect (we check the result against the key fingerprint).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/secure.h"

namespace ailee::keys {

struct Share {
  int number = 0;  // 1-255, the x coordinate
  crypto::SecureBytes bytes;
};

struct ShareSpec {
  int threshold = 0;
  int count = 0;
};
// Parses "K/N" with 2 <= K <= N <= 255.
Result<ShareSpec> ParseShareSpec(const std::string& text);

// Splits `secret` into spec.count shares with distinct random numbers (as
// gfsplit does), any spec.threshold of which recombine it.
Result<std::vector<Share>> SplitSecret(const crypto::SecureBytes& secret, ShareSpec spec);

// Recombines; InvalidArgument on duplicate numbers or differing lengths.
Result<crypto::SecureBytes> CombineShares(const std::vector<Share>& shares);

// Reads a share file; the number comes from the ".NNN" suffix, as gfcombine does.
Result<Share> ReadShareFile(const std::string& path);

}  // namespace ailee::keys
