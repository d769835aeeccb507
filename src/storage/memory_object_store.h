// MemoryObjectStore: objects in a map, for tests. Put is trivially atomic;
// nothing survives the process. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "storage/object_store.h"

namespace ailee::storage {

class MemoryObjectStore final : public ObjectStore {
 public:
  MemoryObjectStore() = default;

  std::string Location() const override { return "mem://"; }
  Status Put(const std::string& key, std::string_view data) override;
  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

}  // namespace ailee::storage
