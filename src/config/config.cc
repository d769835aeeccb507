#include "config/config.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/fs.h"
#include "base/hint.h"
#include "base/user_name.h"
#include "config/parse.h"

namespace ailee::config {

std::optional<int> ParseCompression(std::string_view text) {
  if (text == "auto") return kCompressionAuto;
  if (text == "off") return 0;
  if (text == "fast") return 1;
  if (text == "max") return 9;
  int level = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), level);
  if (ec != std::errc() || end != text.data() + text.size() || level < 1 || level > 19) return std::nullopt;
  return level;
}

std::string ConfigProblem::ToString() const {
  std::string out = field.empty() ? "config" : field;
  out += ": expected " + expected + ", found " + found;
  if (!message.empty()) out += " (" + message + ")";
  return out;
}

const FederationSigner* NodeConfig::FindFederationSigner(std::string_view id) const {
  for (const auto& s : federation.signers) {
    if (!s.id.empty() && s.id == id) return &s;
  }
  return nullptr;
}

ConfigAnalysis AnalyzeConfig(std::string_view yaml_text, const std::string& config_path) {
  ConfigAnalysis out;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(config_path, ec);
  out.config.config_path = (ec ? std::filesystem::path(config_path) : abs).lexically_normal().string();
  out.config.config_dir = fs::Dirname(out.config.config_path);
  internal::FieldReader reader(&out.problems);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    reader.Problem("", "valid YAML",
                   "a syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                       std::to_string(e.mark.column + 1),
                   e.msg);
    return out;
  }
  try {
    internal::ParseDocument(root, &out.config, reader);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on shapes we did not anticipate (e.g. complex keys).
    reader.Problem("", "a config document", "a structure yaml-cpp could not read", e.what());
  }
  return out;
}

std::vector<ConfigProblem> ValidateConfigFile(const std::string& path) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) return {{"", "a readable config file", path, text.status().message()}};
  return AnalyzeConfig(*text, path).problems;
}

std::string FormatProblems(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.ToString();
  }
  return out;
}

namespace {

// Problems that are all files this process may not read: ailee-cli run as
// another user than the one the config's files belong to (the node's): a
// permission error naming that user, not an invalid config.
std::optional<Status> PermissionProblems(const std::vector<ConfigProblem>& problems) {
  const std::string denied = std::strerror(EACCES);
  std::string owner;
  for (const auto& p : problems) {
    if (p.message != denied) return std::nullopt;
    for (std::string at = p.found; owner.empty() && at.size() > 1; at = fs::Dirname(at)) owner = OwnerName(at);
  }
  if (problems.empty() || owner.empty()) return std::nullopt;
  return WithHint(PermissionDenied("the config's files are not readable by " + UserName(::geteuid()) + ":\n" +
                                   FormatProblems(problems)),
                  "they belong to " + owner + ", the user the node runs as: sudo -u " + owner +
                      " ailee-cli ... (docs/operations.md, \"Permission model\")");
}

}  // namespace

Result<NodeConfig> LoadConfig(const std::string& path) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) return text.status().WithContext("loading node config");
  ConfigAnalysis a = AnalyzeConfig(*text, path);
  if (auto denied = PermissionProblems(a.problems)) return *denied;
  if (!a.problems.empty()) {
    return InvalidArgument("config " + a.config.config_path + " has " + std::to_string(a.problems.size()) +
                           " problem(s):\n" + FormatProblems(a.problems));
  }
  return std::move(a.config);
}

std::string Summary(const NodeConfig& c) {
  std::string out = "node " + c.node.id + ", listen " + c.node.listen + ", data_dir " + c.node.data_dir +
                    ", federation " + std::to_string(c.federation.threshold) + "-of-" +
                    std::to_string(c.federation.signers.size());
  if (c.signer) {
    out += ", signer " + c.signer->id + (c.signer->pkcs11 ? " (pkcs11)" : " (key file)");
  }
  if (c.is_follower()) out += ", following " + c.follow;
  if (!c.peers.empty()) out += ", " + std::to_string(c.peers.size()) + " peer(s)";
  out += ", audit log " + c.logging.audit_log;
  return out;
}

Result<std::map<std::string, crypto::PublicKey>> FederationKeys(const NodeConfig& config) {
  std::map<std::string, crypto::PublicKey> keys;
  for (const auto& s : config.federation.signers) {
    std::string pem = s.public_key_pem;
    if (pem.empty() && !s.public_key_file.empty()) {
      ASSIGN_OR_RETURN(pem, fs::ReadFile(s.public_key_file));
    }
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext("public key of federation signer " + s.id);
    if (!s.fingerprint.empty() && key->FingerprintHex() != s.fingerprint) {
      return InvalidArgument("federation signer " + s.id + ": expected fingerprint " + s.fingerprint +
                             ", found " + key->FingerprintHex());
    }
    if (!keys.emplace(s.id, *key).second) return InvalidArgument("duplicate federation signer id " + s.id);
  }
  return keys;
}

Result<crypto::PrivateKey> LoadSignerKey(const NodeConfig& config) {
  if (!config.signer) return FailedPrecondition("config " + config.config_path + " has no signer section");
  const SignerSection& s = *config.signer;
  if (s.pkcs11 || s.key_file.empty()) {
    return FailedPrecondition("signer " + s.id + " uses PKCS#11; load it through the keys layer");
  }
  ASSIGN_OR_RETURN(crypto::SecureBytes pem, internal::ReadSecretFile(s.key_file));
  auto key = crypto::PrivateKey::FromPem(pem);
  if (!key.ok()) return InvalidArgument("signer key_file " + s.key_file + " is not a PEM private key");
  const FederationSigner* fed = config.FindFederationSigner(s.id);
  // Not a genesis signer: one a later epoch added; the node checks the key
  // against the chain's epoch (state::FederationHistory).
  if (fed == nullptr) return key;
  auto fed_key = crypto::PublicKey::FromPem(fed->public_key_pem);
  if (!fed_key.ok()) return fed_key.status().WithContext("public key of federation signer " + s.id);
  if (fed_key->FingerprintHex() != key->public_key().FingerprintHex()) {
    return InvalidArgument("signer key_file " + s.key_file + ": expected the key with fingerprint " +
                           fed_key->FingerprintHex() + ", found " + key->public_key().FingerprintHex());
  }
  return key;
}

}  // namespace ailee::config
