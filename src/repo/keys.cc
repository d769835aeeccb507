#include "repo/keys.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace ailee::repo {
namespace {

std::string KeyAd(const std::string& repo_id) { return "ailee-key-v1" + repo_id; }

}  // namespace

// Both are computed once (thread-safe static initialization): getpwuid is
// not reentrant, and neither value changes while the process runs.
std::string LocalHostname() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return std::string("unknown");
    return std::string(buf);
  }();
  return name;
}

std::string LocalUsername() {
  static const std::string name = [] {
    if (const char* u = std::getenv("USER"); u && *u) return std::string(u);
    passwd pw {};
    passwd* found = nullptr;
    char buf[4096];
    if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found) return std::string(pw.pw_name);
    return std::to_string(::geteuid());
  }();
  return name;
}

MasterKey NewMasterKey() {
  MasterKey k{crypto::SecureBytes(32), crypto::SecureBytes(32)};
  crypto::RandomFill(k.data_key.data(), 32);
  crypto::RandomFill(k.id_key.data(), 32);
  return k;
}

Result<std::string> SealKeySlot(const MasterKey& master, std::string_view passphrase,
                                const crypto::Argon2Params& params, const std::string& repo_id, int64_t now_ms) {
  if (passphrase.empty()) return InvalidArgument("empty passphrase");
  std::string salt = crypto::RandomBytes(crypto::kArgon2SaltSize);
  ASSIGN_OR_RETURN(crypto::SecureBytes kek, crypto::DeriveKeyArgon2id(passphrase, salt, params));
  crypto::SecureBytes both(64);
  std::copy_n(master.data_key.data(), 32, both.data());
  std::copy_n(master.id_key.data(), 32, both.data() + 32);
  ASSIGN_OR_RETURN(std::string sealed, crypto::AeadSeal(kek, both.view(), KeyAd(repo_id)));
  nlohmann::json j;
  j["version"] = kFormatVersion;
  j["created_ms"] = now_ms;
  j["host"] = LocalHostname();
  j["user"] = LocalUsername();
  j["kdf"] = {{"algorithm", "argon2id"}, {"ops_limit", params.ops_limit}, {"mem_limit", params.mem_limit},
              {"salt", HexEncode(salt)}};
  j["master"] = HexEncode(sealed);
  return j.dump(2);
}

Result<MasterKey> OpenKeySlot(std::string_view slot, std::string_view passphrase, const std::string& repo_id) {
  crypto::Argon2Params params;
  std::string salt, sealed;
  try {
    auto j = nlohmann::json::parse(slot);
    const auto& kdf = j.at("kdf");
    if (kdf.at("algorithm").get<std::string>() != "argon2id") return DataLoss("key slot: unknown KDF");
    params.ops_limit = kdf.at("ops_limit").get<uint64_t>();
    params.mem_limit = kdf.at("mem_limit").get<uint64_t>();
    auto s = HexDecode(kdf.at("salt").get<std::string>());
    auto m = HexDecode(j.at("master").get<std::string>());
    if (!s || !m) return DataLoss("key slot: bad hex");
    salt = *s;
    sealed = *m;
  } catch (const std::exception& e) {
    return DataLoss(std::string("key slot: malformed: ") + e.what());
  }
  ASSIGN_OR_RETURN(crypto::SecureBytes kek, crypto::DeriveKeyArgon2id(passphrase, salt, params));
  auto both = crypto::AeadOpenSecret(kek, sealed, KeyAd(repo_id));
  if (!both.ok()) return PermissionDenied("passphrase does not open this key slot");
  if (both->size() != 64) return DataLoss("key slot: master key has the wrong size");
  return MasterKey{crypto::SecureBytes(both->view().substr(0, 32)), crypto::SecureBytes(both->view().substr(32))};
}

Result<KeyInfo> DescribeKeySlot(std::string_view slot) {
  KeyInfo info;
  try {
    auto j = nlohmann::json::parse(slot);
    info.created_ms = j.value("created_ms", int64_t{0});
    info.host = j.value("host", "");
    info.user = j.value("user", "");
  } catch (const std::exception& e) {
    return DataLoss(std::string("key slot: malformed: ") + e.what());
  }
  return info;
}

}  // namespace ailee::repo
