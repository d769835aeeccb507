#include "keys/identity.h"

#include <cstdio>

#include "base/clock.h"

namespace ailee::keys {

Status ValidateSignerId(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return InvalidArgument("signer id must be 1-64 characters, got " + std::to_string(id.size()));
  if (id.front() == '.' || id.front() == '-')
    return InvalidArgument("signer id '" + std::string(id) + "' must not start with '.' or '-'");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return InvalidArgument("signer id '" + std::string(id) + "' may only contain A-Z a-z 0-9 . _ -");
  }
  return Status::Ok();
}

KeyIdentity IdentityOf(std::string signer_id, const crypto::PublicKey& key) {
  return KeyIdentity{std::move(signer_id), key.FingerprintHex(), key.type()};
}

Status CheckFederation(const FederationKeys& federation, const KeyIdentity& identity) {
  auto it = federation.find(identity.signer_id);
  if (it == federation.end())
    return NotFound("no federation public key for signer '" + identity.signer_id +
                    "' (set it in the config's federation section or pass --federation-key " +
                    identity.signer_id + "=PUBKEY.pem)");
  std::string expected = it->second.FingerprintHex();
  if (expected != identity.fingerprint)
    return DataLoss("key fingerprint " + identity.fingerprint + " (" +
                           std::string(crypto::KeyTypeName(identity.type)) +
                           ") does not match the federation key of '" + identity.signer_id + "' " + expected +
                           " (" + std::string(crypto::KeyTypeName(it->second.type())) + ")");
  return Status::Ok();
}

nlohmann::json BackupMetadata::ToJson() const {
  nlohmann::json j = {
      {"format", "ailee-signer-key-backup"},
      {"format_version", format_version},
      {"signer_id", identity.signer_id},
      {"fingerprint_sha256_spki", identity.fingerprint},
      {"key_type", std::string(crypto::KeyTypeName(identity.type))},
      {"created", FormatUtc(created_unix)},
      {"created_unix", created_unix},
      {"tool_version", tool_version},
      {"public_key_pem", public_key_pem},
      {"ciphertext_sha256", ciphertext_sha256},
      {"encryption", "OpenPGP symmetric (RFC 4880), AES-256, iterated+salted S2K SHA-512"},
  };
  if (shares) {
    j["passphrase_shares"] = {{"scheme", "gfshare (gfsplit/gfcombine, GF(2^8))"},
                              {"threshold", shares->threshold},
                              {"count", shares->count},
                              {"numbers", shares->numbers}};
  }
  return j;
}

Result<BackupMetadata> BackupMetadata::FromJson(std::string_view text, const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("metadata " + path + " is not a JSON object");
  try {
    BackupMetadata m;
    if (j.value("format", "") != "ailee-signer-key-backup")
      return DataLoss("metadata " + path + " is not an ailee signer key backup metadata file");
    m.format_version = j.at("format_version").get<int>();
    if (m.format_version != kMetadataFormatVersion)
      return FailedPrecondition("metadata " + path + " has format_version " + std::to_string(m.format_version) +
                                ", this tool reads " + std::to_string(kMetadataFormatVersion));
    m.identity.signer_id = j.at("signer_id").get<std::string>();
    m.identity.fingerprint = j.at("fingerprint_sha256_spki").get<std::string>();
    ASSIGN_OR_RETURN(m.identity.type, crypto::ParseKeyType(j.at("key_type").get<std::string>()));
    m.created_unix = j.at("created_unix").get<int64_t>();
    m.tool_version = j.value("tool_version", "");
    m.public_key_pem = j.value("public_key_pem", "");
    m.ciphertext_sha256 = j.value("ciphertext_sha256", "");
    if (j.contains("passphrase_shares")) {
      const auto& s = j.at("passphrase_shares");
      ShareInfo info;
      info.threshold = s.at("threshold").get<int>();
      info.count = s.at("count").get<int>();
      info.numbers = s.at("numbers").get<std::vector<int>>();
      m.shares = info;
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss("metadata " + path + " is malformed: " + e.what());
  }
}

std::string BackupFileName(std::string_view id) { return std::string(id) + ".key.gpg"; }
std::string MetadataFileName(std::string_view id) { return std::string(id) + ".key.json"; }

std::string ShareFileName(std::string_view id, int number) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%03d", number);
  return std::string(id) + ".share." + suffix;
}

std::string MetadataPathFor(const std::string& backup_path) {
  constexpr std::string_view kSuffix = ".key.gpg";
  if (backup_path.size() >= kSuffix.size() &&
      backup_path.compare(backup_path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return backup_path.substr(0, backup_path.size() - kSuffix.size()) + ".key.json";
  return backup_path + ".json";
}

}  // namespace ailee::keys
