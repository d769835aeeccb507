// The state root: an LtHash-style homomorphic multiset hash over every
// (column family, key, value) entry of the state (accounts, pegins, pegouts,
// signers). Adding and removing entries is O(1) each, independent of the
// state size, and the order of operations does not matter, so
//   incremental (per block: remove old entry, add new entry)
//   == from scratch (add every entry once)
// which is what verification checks. No RocksDB here.
//
// Element: d = SHA-256(u8 len(cf) || cf || u32 len(key) || key || u32 len(value) || value);
// expand d with AES-256-CTR (key = d, IV = 0) over 2048 zero bytes into 1024
// little-endian uint16 lanes. The accumulator is the lane-wise sum mod 2^16
// of all elements; state_root = SHA-256(accumulator as 2048 LE bytes).
//
// Not thread-safe per instance; separate instances may be used concurrently
// (the AES context is per thread).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::state {

class LtHash {
 public:
  static constexpr size_t kLanes = 1024;
  static constexpr size_t kBytes = kLanes * 2;

  LtHash() { lanes_.fill(0); }
  // Parses a persisted accumulator (exactly kBytes); kDataLoss otherwise.
  static Result<LtHash> FromBytes(std::string_view bytes);

  void Add(std::string_view cf, std::string_view key, std::string_view value);
  void Remove(std::string_view cf, std::string_view key, std::string_view value);
  // Lane-wise sum / difference of two accumulators (to merge per-thread work).
  void Combine(const LtHash& other);
  void Subtract(const LtHash& other);

  std::string ToBytes() const;
  crypto::Hash256 Root() const;
  bool operator==(const LtHash& other) const { return lanes_ == other.lanes_; }

 private:
  std::array<uint16_t, kLanes> lanes_;
};

// d above, exposed for documentation tests and second implementations.
crypto::Hash256 StateEntryDigest(std::string_view cf, std::string_view key, std::string_view value);
// Root of the empty state (the genesis state at height 0).
crypto::Hash256 EmptyStateRoot();

}  // namespace ailee::state
