#include "storage/memory_object_store.h"

namespace ailee::storage {

Status MemoryObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  objects_[key] = std::string(data);
  return Status::Ok();
}

Status MemoryObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  if (!objects_.emplace(key, std::string(data)).second) {
    return AlreadyExists("create object " + key + " in " + Location() + ": already exists");
  }
  return Status::Ok();
}

Result<std::string> MemoryObjectStore::Get(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound("get object " + key + " in " + Location() + ": no such object");
  return it->second;
}

Result<std::string> MemoryObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound("get object " + key + " in " + Location() + ": no such object");
  uint64_t size = it->second.size();
  if (offset > size || (offset == size && length > 0)) {
    return InvalidArgument("get range of object " + key + " in " + Location() + ": offset " +
                           std::to_string(offset) + " past the end (" + std::to_string(size) + " bytes)");
  }
  if (offset + length > size) {
    return DataLoss("get range of object " + key + " in " + Location() + ": object is truncated at " +
                    std::to_string(size) + " bytes");
  }
  return it->second.substr(offset, length);
}

Result<uint64_t> MemoryObjectStore::Stat(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound("stat object " + key + " in " + Location() + ": no such object");
  return static_cast<uint64_t>(it->second.size());
}

Status MemoryObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  objects_.erase(key);
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> MemoryObjectStore::List(const std::string& prefix) {
  std::lock_guard lock(mu_);
  std::vector<ObjectInfo> out;
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back({it->first, it->second.size()});
  }
  return out;
}

}  // namespace ailee::storage
