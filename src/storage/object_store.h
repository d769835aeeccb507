// ObjectStore: the one interface between the backup repository and where its
// bytes live (a local directory, S3 in storage/s3/, memory in tests).
//
// Keys are relative, '/'-separated names such as "config", "keys/<id>" or
// "data/ab/<id>". A key must not be empty, start or end with '/', contain an
// empty, "." or ".." component, or contain ".tmp." (reserved for a store's
// temporary files). The repository chooses the fan-out (data/<2 hex>/...).
//
// Contract for every implementation (tests/unit/storage_conformance_test.cc
// checks it; a new store must pass it):
//   - Put is atomic: a reader sees the old object, the new one, or nothing,
//     never a prefix. When Put returns ok the object is durable (it survives
//     a crash or power loss of the store). Put replaces an existing object.
//   - PutIfAbsent creates the object only if no object has the key; two
//     racing callers cannot both succeed (the loser gets kAlreadyExists).
//   - Get/GetRange/Stat of a missing key fail with kNotFound. GetRange past
//     the end fails with kInvalidArgument; a range that ends past the end is
//     kDataLoss (the caller expected bytes that are not there).
//   - Delete of a missing key is ok (idempotent, as on S3).
//   - List returns the objects whose key starts with `prefix`, sorted by key,
//     never a store's temporary files.
//   - Errors say what was done to which object at Location(); kUnavailable
//     means a retry may succeed (network, throttling), everything else not.
//   - Features() and RetainedUntilUnixMs() describe immutability (S3 Object
//     Lock). A store without it answers {atomic_create, !object_lock} and 0.
//     Delete of an object whose retention has not expired fails (never a
//     silent success that leaves the object, or a hidden version, behind).
//
// Thread safety: every method may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

// What a store promises beyond the contract above.
struct StoreFeatures {
  // PutIfAbsent is atomic across processes and hosts (every store here).
  bool atomic_create = true;
  // Put makes objects immutable until a retention date (S3 Object Lock):
  // RetainedUntilUnixMs reports it and Delete fails until then.
  bool object_lock = false;
  // How many Puts of large objects a bulk writer (a backup storing packs)
  // should keep in flight: more where each one mostly waits for a remote
  // server, so that the waits overlap. A hint; every count is correct.
  int puts_in_flight = 1;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Human-readable location for messages, e.g. "file:///backup/repo".
  virtual std::string Location() const = 0;

  virtual Status Put(const std::string& key, std::string_view data) = 0;
  virtual Status PutIfAbsent(const std::string& key, std::string_view data) = 0;
  virtual Result<std::string> Get(const std::string& key) = 0;
  virtual Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) = 0;
  // GetRange into the caller's `length` bytes at `out` (bulk reads that reuse
  // one buffer instead of allocating per call); same errors. The default
  // calls GetRange and copies; a store that can read in place overrides it.
  virtual Status GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out);
  // Size of the object in bytes.
  virtual Result<uint64_t> Stat(const std::string& key) = 0;
  virtual Status Delete(const std::string& key) = 0;
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;

  virtual StoreFeatures Features() const { return {}; }
  // Unix time in milliseconds until which `key` cannot be deleted or
  // replaced; 0 when the object is not locked (the default for stores
  // without Object Lock). A missing key is kNotFound.
  virtual Result<int64_t> RetainedUntilUnixMs(const std::string& key);

  // Stat folded into a yes/no; errors other than kNotFound are passed on.
  Result<bool> Exists(const std::string& key);
};

// Checks the key rules above; kInvalidArgument names the key.
Status ValidateKey(const std::string& key);

// Opens the store named by `url`:
//   file:///abs/path or /abs/path or relative/path -> LocalObjectStore
//   mem://                                          -> a fresh MemoryObjectStore
//   any other scheme registered with RegisterObjectStoreScheme.
// An unknown scheme fails with kInvalidArgument naming the scheme. Opening
// does not create anything; a missing local directory is created by the
// first Put (the repository decides whether a repository exists).
Result<std::shared_ptr<ObjectStore>> OpenObjectStore(const std::string& url);

// Adds a backend: `factory` gets the whole URL. Call once at startup (for
// example from main or the S3 library's init function) before
// OpenObjectStore; registering a scheme twice replaces the factory.
using ObjectStoreFactory = std::function<Result<std::shared_ptr<ObjectStore>>(const std::string& url)>;
void RegisterObjectStoreScheme(const std::string& scheme, ObjectStoreFactory factory);

}  // namespace ailee::storage
