// Object ids and object names: the one place that knows where each kind of
// object lives in the store (see docs/repository-format.md).
//
//   config              plaintext JSON, written once by init
//   keys/<id>           key slots (plaintext JSON with a wrapped master key)
//   data/<id[0:2]>/<id> pack files
//   index/<id>          encrypted index files
//   snapshots/<id>      encrypted snapshots
//   locks/<id>          plaintext lock objects
//
// Every id is 64 lowercase hex digits. Except for locks (random), an object's
// id is the SHA-256 of its stored bytes, so any object can be checked for
// damage without the key.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::repo {

inline constexpr int kFormatVersion = 1;

using Id = crypto::Hash256;

struct IdHash {
  size_t operator()(const Id& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

std::string IdHex(const Id& id);
std::string ShortId(const Id& id);  // first 8 hex digits, for messages
Result<Id> ParseId(std::string_view hex);
Id RandomId();

std::string ConfigKey();
std::string KeySlotKey(std::string_view id_hex);
std::string PackKey(const Id& id);
std::string IndexKey(const Id& id);
std::string SnapshotKey(const Id& id);
std::string LockKey(std::string_view id_hex);

inline constexpr std::string_view kKeysPrefix = "keys/";
inline constexpr std::string_view kDataPrefix = "data/";
inline constexpr std::string_view kIndexPrefix = "index/";
inline constexpr std::string_view kSnapshotsPrefix = "snapshots/";
inline constexpr std::string_view kLocksPrefix = "locks/";

// The id part of a key ("data/ab/abcd..." -> "abcd..."); nullopt-like error
// when the name is not a valid id (foreign or temporary files).
Result<Id> IdFromKey(std::string_view key);

}  // namespace ailee::repo
