#include "storage/object_store.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"

namespace ailee::storage {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, ObjectStoreFactory> factories;
};

Registry& GetRegistry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->factories["file"] = [](const std::string& url) -> Result<std::shared_ptr<ObjectStore>> {
      std::string path = url.substr(std::string_view("file://").size());
      if (path.empty() || path.front() != '/') {
        return InvalidArgument("repository URL " + url + ": file:// needs an absolute path (file:///abs/path)");
      }
      return std::shared_ptr<ObjectStore>(std::make_shared<LocalObjectStore>(path));
    };
    reg->factories["mem"] = [](const std::string&) -> Result<std::shared_ptr<ObjectStore>> {
      return std::shared_ptr<ObjectStore>(std::make_shared<MemoryObjectStore>());
    };
    return reg;
  }();
  return *r;
}

}  // namespace

Status ObjectStore::GetRangeInto(const std::string& key, uint64_t offset, uint64_t length, char* out) {
  ASSIGN_OR_RETURN(std::string data, GetRange(key, offset, length));
  std::copy(data.begin(), data.end(), out);
  return Status::Ok();
}

Result<bool> ObjectStore::Exists(const std::string& key) {
  auto st = Stat(key);
  if (st.ok()) return true;
  if (st.status().code() == StatusCode::kNotFound) return false;
  return st.status();
}

Result<int64_t> ObjectStore::RetainedUntilUnixMs(const std::string& key) {
  auto st = Stat(key);
  if (!st.ok()) return st.status();
  return int64_t{0};
}

Status ValidateKey(const std::string& key) {
  auto bad = [&](const char* why) { return InvalidArgument("object key \"" + key + "\": " + why); };
  if (key.empty()) return bad("empty");
  if (key.front() == '/' || key.back() == '/') return bad("must not start or end with '/'");
  if (key.find(".tmp.") != std::string::npos) return bad("\".tmp.\" is reserved for temporary files");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view part(key.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return bad("empty, '.' or '..' path component");
    start = end + 1;
  }
  if (key.find('\0') != std::string::npos) return bad("contains NUL");
  return Status::Ok();
}

void RegisterObjectStoreScheme(const std::string& scheme, ObjectStoreFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.factories[scheme] = std::move(factory);
}

Result<std::shared_ptr<ObjectStore>> OpenObjectStore(const std::string& url) {
  if (url.empty()) return InvalidArgument("empty repository URL");
  auto pos = url.find("://");
  if (pos == std::string::npos) {
    // A plain path; relative paths are taken from the current directory.
    return std::shared_ptr<ObjectStore>(std::make_shared<LocalObjectStore>(url));
  }
  std::string scheme = url.substr(0, pos);
  ObjectStoreFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(scheme);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [name, f] : r.factories) known += (known.empty() ? "" : ", ") + name + "://";
      return InvalidArgument("repository URL " + url + ": unsupported scheme \"" + scheme +
                             "\" (supported: " + known + ")");
    }
    factory = it->second;
  }
  return factory(url);
}

}  // namespace ailee::storage
