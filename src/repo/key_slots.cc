#include "repo/key_slots.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace ailee::repo {
namespace {

constexpr std::string_view kKeyFilePrefix = "ailee-repo-key-v1:";
constexpr std::string_view kKeyFileInfo = "ailee-key-file-v1";
constexpr size_t kKeyFileBytes = 32;

std::string KeyAd(const std::string& repo_id) { return "ailee-key-v1" + repo_id; }

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The 32 raw key bytes of a key file (checked with IsKeyFile first).
crypto::SecureBytes KeyFileBytes(std::string_view key_file) {
  std::string_view hex = key_file.substr(kKeyFilePrefix.size());
  crypto::SecureBytes raw(kKeyFileBytes);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < kKeyFileBytes; ++i) {
    raw.data()[i] = static_cast<char>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
  }
  return raw;
}

Result<crypto::SecureBytes> KeyFileKek(std::string_view key_file, std::string_view salt) {
  return crypto::DeriveKeyHkdfSha256(KeyFileBytes(key_file).view(), salt, kKeyFileInfo);
}

Result<std::string> SealSlot(const MasterKey& master, const crypto::SecureBytes& kek, nlohmann::json kdf,
                             const std::string& repo_id, int64_t now_ms, const std::string& config_sha256) {
  crypto::SecureBytes both(64);
  std::copy_n(master.data_key.data(), 32, both.data());
  std::copy_n(master.id_key.data(), 32, both.data() + 32);
  ASSIGN_OR_RETURN(std::string sealed, crypto::AeadSeal(kek, both.view(), KeyAd(repo_id)));
  nlohmann::json j;
  j["version"] = kFormatVersion;
  j["created_ms"] = now_ms;
  j["host"] = LocalHostname();
  j["user"] = LocalUsername();
  j["kdf"] = std::move(kdf);
  j["master"] = HexEncode(sealed);
  if (!config_sha256.empty()) j["config_sha256"] = config_sha256;
  return j.dump(2);
}

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

std::string DamagedKeySlotMessage(const std::string& id, const std::string& location) {
  return "damaged key slot " + id + " in " + location +
         ": its content does not match its name (bit rot, truncation or an edit); it cannot be used";
}

std::string_view KeySlotKindName(KeySlotKind kind) {
  return kind == KeySlotKind::kKeyFile ? "key-file" : "passphrase";
}

crypto::SecureBytes NewKeyFile() {
  static constexpr char kHex[] = "0123456789abcdef";
  crypto::SecureBytes raw(kKeyFileBytes);
  crypto::RandomFill(raw.data(), raw.size());
  crypto::SecureBytes out(kKeyFilePrefix.size() + 2 * kKeyFileBytes);
  std::copy(kKeyFilePrefix.begin(), kKeyFilePrefix.end(), out.data());
  char* hex = out.data() + kKeyFilePrefix.size();
  for (size_t i = 0; i < kKeyFileBytes; ++i) {
    auto b = static_cast<unsigned char>(raw.data()[i]);
    hex[2 * i] = kHex[b >> 4];
    hex[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

bool IsKeyFile(std::string_view secret) {
  if (secret.size() != kKeyFilePrefix.size() + 2 * kKeyFileBytes || secret.substr(0, kKeyFilePrefix.size()) != kKeyFilePrefix)
    return false;
  return std::all_of(secret.begin() + static_cast<std::ptrdiff_t>(kKeyFilePrefix.size()), secret.end(), IsLowerHex);
}

Result<std::string> SealKeySlot(const MasterKey& master, std::string_view passphrase,
                                const crypto::Argon2Params& params, const std::string& repo_id, int64_t now_ms,
                                const std::string& config_sha256) {
  if (passphrase.empty()) return InvalidArgument("empty passphrase");
  std::string salt = crypto::RandomBytes(crypto::kArgon2SaltSize);
  ASSIGN_OR_RETURN(crypto::SecureBytes kek, crypto::DeriveKeyArgon2id(passphrase, salt, params));
  return SealSlot(master, kek,
                  {{"algorithm", "argon2id"}, {"ops_limit", params.ops_limit}, {"mem_limit", params.mem_limit},
                   {"salt", HexEncode(salt)}},
                  repo_id, now_ms, config_sha256);
}

Result<std::string> SealKeyFileSlot(const MasterKey& master, std::string_view key_file, const std::string& repo_id,
                                    int64_t now_ms, const std::string& config_sha256) {
  if (!IsKeyFile(key_file)) return InvalidArgument("not a repository key file (made by `repo key add --key-file`)");
  std::string salt = crypto::RandomBytes(16);
  ASSIGN_OR_RETURN(crypto::SecureBytes kek, KeyFileKek(key_file, salt));
  return SealSlot(master, kek, {{"algorithm", "hkdf-sha256"}, {"salt", HexEncode(salt)}}, repo_id, now_ms,
                  config_sha256);
}

Result<MasterKey> OpenKeySlot(std::string_view slot, std::string_view secret, const std::string& repo_id) {
  std::string algorithm, salt, sealed;
  crypto::Argon2Params params;
  try {
    auto j = nlohmann::json::parse(slot);
    const auto& kdf = j.at("kdf");
    algorithm = kdf.at("algorithm").get<std::string>();
    if (algorithm == "argon2id") {
      params.ops_limit = kdf.at("ops_limit").get<uint64_t>();
      params.mem_limit = kdf.at("mem_limit").get<uint64_t>();
    } else if (algorithm != "hkdf-sha256") {
      return DataLoss("key slot: unknown KDF \"" + algorithm + "\"");
    }
    auto s = HexDecode(kdf.at("salt").get<std::string>());
    auto m = HexDecode(j.at("master").get<std::string>());
    if (!s || !m) return DataLoss("key slot: bad hex");
    salt = *s;
    sealed = *m;
  } catch (const std::exception& e) {
    return DataLoss(std::string("key slot: malformed: ") + e.what());
  }
  crypto::SecureBytes kek;
  if (algorithm == "hkdf-sha256") {
    if (!IsKeyFile(secret)) return PermissionDenied("a passphrase does not open a key-file slot");
    ASSIGN_OR_RETURN(kek, KeyFileKek(secret, salt));
  } else {
    ASSIGN_OR_RETURN(kek, crypto::DeriveKeyArgon2id(secret, salt, params));
  }
  auto both = crypto::AeadOpenSecret(kek, sealed, KeyAd(repo_id));
  if (!both.ok()) return PermissionDenied("the secret does not open this key slot");
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
    info.config_sha256 = j.value("config_sha256", "");
    if (j.contains("kdf") && j["kdf"].value("algorithm", "") == "hkdf-sha256") info.kind = KeySlotKind::kKeyFile;
  } catch (const std::exception& e) {
    return DataLoss(std::string("key slot: malformed: ") + e.what());
  }
  return info;
}

}  // namespace ailee::repo
