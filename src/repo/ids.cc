#include "repo/ids.h"

#include "base/hex.h"
#include "crypto/random.h"

namespace ailee::repo {

std::string IdHex(const Id& id) { return crypto::HashToHex(id); }
std::string ShortId(const Id& id) { return IdHex(id).substr(0, 8); }

Result<Id> ParseId(std::string_view hex) {
  Id id{};
  if (hex.size() != 64 || !crypto::HashFromHex(hex, &id)) {
    return InvalidArgument("\"" + std::string(hex) + "\" is not an object id (64 hex digits)");
  }
  return id;
}

Id RandomId() {
  Id id{};
  crypto::RandomFill(id.data(), id.size());
  return id;
}

std::string ConfigKey() { return "config"; }
std::string KeySlotKey(std::string_view id_hex) { return std::string(kKeysPrefix) + std::string(id_hex); }
std::string PackKey(const Id& id) {
  std::string hex = IdHex(id);
  return std::string(kDataPrefix) + hex.substr(0, 2) + "/" + hex;
}
std::string IndexKey(const Id& id) { return std::string(kIndexPrefix) + IdHex(id); }
std::string SnapshotKey(const Id& id) { return std::string(kSnapshotsPrefix) + IdHex(id); }
std::string LockKey(std::string_view id_hex) { return std::string(kLocksPrefix) + std::string(id_hex); }

Result<Id> IdFromKey(std::string_view key) {
  auto slash = key.find_last_of('/');
  return ParseId(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

}  // namespace ailee::repo
