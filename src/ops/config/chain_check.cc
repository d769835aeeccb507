#include "ops/config/chain_check.h"

#include <map>

#include "config/node_access.h"
#include "crypto/hash.h"
#include "keys/signer.h"
#include "node/client.h"
#include "state/federation_history.h"
#include "state/state_db.h"

namespace ailee::ops {
namespace {

// What the comparison needs of the chain, from either source.
struct ChainFacts {
  std::string source;
  uint64_t epoch = 0;
  uint64_t start_height = 1;
  int threshold = 0;
  std::map<std::string, std::string> signer_fingerprints;  // id -> public key fingerprint (hex)
  std::optional<std::string> epoch1_outgoing_fingerprint;   // hex; absent while the chain has no epoch 1
};

constexpr const char* kEditedHint =
    "federation.signers was edited after a rotation: it must stay the genesis federation; the chain carries later "
    "epochs: see `ailee-cli federation show` (restore the genesis federation's signers and threshold from a config "
    "backup: `ailee-cli config history`)";

ChainFacts FromHistory(const state::FederationHistory& history, std::string source) {
  ChainFacts f;
  f.source = std::move(source);
  const state::FederationEpoch& current = history.Current();
  f.epoch = current.number;
  f.start_height = current.start_height;
  f.threshold = current.federation.threshold;
  for (const auto& [id, key] : current.federation.signers) f.signer_fingerprints[id] = key.FingerprintHex();
  if (history.epochs().size() > 1 && history.epochs()[1].change) {
    f.epoch1_outgoing_fingerprint = crypto::HashToHex(history.epochs()[1].change->outgoing_fingerprint);
  }
  return f;
}

Result<ChainFacts> FromDataDir(const config::NodeConfig& cfg, const state::Federation& genesis) {
  state::OpenOptions o;
  o.read_only = true;
  o.create_if_missing = false;
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(cfg.node.data_dir, o));
  ASSIGN_OR_RETURN(state::FederationHistory history, db->Federations(genesis));
  return FromHistory(history, "data dir " + cfg.node.data_dir + " (read-only)");
}

// GET /v1/federation (state::FederationHistoryToJson): only the fields the
// comparison reads.
Result<ChainFacts> FromApi(const config::NodeConfig& cfg) {
  const std::string url = config::NodeUrl(cfg);
  node::NodeClient client(url, "", 5000);
  ASSIGN_OR_RETURN(nlohmann::json j, client.GetJson("/v1/federation"));
  const auto epochs = j.find("epochs");
  if (epochs == j.end() || !epochs->is_array() || epochs->empty() || !epochs->back().is_object()) {
    return DataLoss(url + "/v1/federation: no \"epochs\" list");
  }
  try {
    const nlohmann::json& current = epochs->back();
    ChainFacts f;
    f.source = "node API " + url;
    f.epoch = current.at("number").get<uint64_t>();
    f.start_height = current.at("start_height").get<uint64_t>();
    f.threshold = current.at("threshold").get<int>();
    for (const auto& s : current.at("signers")) {
      f.signer_fingerprints[s.at("id").get<std::string>()] = s.at("key_fingerprint").get<std::string>();
    }
    if (epochs->size() > 1) f.epoch1_outgoing_fingerprint = (*epochs)[1].at("outgoing_fingerprint").get<std::string>();
    return f;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(url + "/v1/federation: " + e.what());
  }
}

std::string Fingerprint(const state::Federation& f) { return crypto::HashToHex(state::FederationFingerprint(f)); }

// The signer's public key fingerprint from its key file; empty for PKCS#11
// (reading the token's key needs its PIN; the node checks it at start).
Result<std::string> SignerFingerprint(const config::NodeConfig& cfg) {
  if (!cfg.signer || cfg.signer->pkcs11) return std::string();
  ASSIGN_OR_RETURN(auto signer, keys::FileSigner::Open(cfg.signer->key_file));
  return signer->public_key().FingerprintHex();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::optional<ChainComparison> CompareConfigWithChain(const config::NodeConfig& cfg, std::string* why_not) {
  auto keys = config::FederationKeys(cfg);
  if (!keys.ok()) {
    *why_not = "the genesis federation's keys do not load: " + keys.status().message();
    return std::nullopt;
  }
  const state::Federation genesis{std::move(*keys), static_cast<int>(cfg.federation.threshold)};
  auto facts = FromApi(cfg);
  if (!facts.ok()) {
    auto offline = FromDataDir(cfg, genesis);
    if (!offline.ok()) {
      *why_not = "the chain was not compared: " + facts.status().message() + "; and " + offline.status().message();
      return std::nullopt;
    }
    facts = std::move(offline);
  }
  ChainComparison c;
  c.source = facts->source;
  c.epoch = facts->epoch;
  c.start_height = facts->start_height;
  c.threshold = facts->threshold;
  for (const auto& [id, fp] : facts->signer_fingerprints) c.signers.push_back(id);

  if (facts->epoch1_outgoing_fingerprint && *facts->epoch1_outgoing_fingerprint != Fingerprint(genesis)) {
    c.problems.push_back({"federation", "the genesis federation epoch 1 replaced (fingerprint " +
                                            facts->epoch1_outgoing_fingerprint->substr(0, 16) + ")",
                          "fingerprint " + Fingerprint(genesis).substr(0, 16), kEditedHint});
  }
  if (cfg.signer) {
    const std::string& id = cfg.signer->id;
    auto member = facts->signer_fingerprints.find(id);
    if (member == facts->signer_fingerprints.end()) {
      c.problems.push_back({"signer.id", "a member of the chain's current epoch " + std::to_string(c.epoch) + " (" +
                                             Join(c.signers) + ")",
                            id, "this node cannot sign blocks; see `ailee-cli federation show` for where " + id +
                                    " stands"});
    } else if (auto mine = SignerFingerprint(cfg); !mine.ok()) {
      c.problems.push_back({"signer.key_file", "a readable key", cfg.signer->key_file, mine.status().message()});
    } else if (!mine->empty() && *mine != member->second) {
      c.problems.push_back({"signer.key_file", "the key epoch " + std::to_string(c.epoch) + " lists for " + id +
                                                   " (fingerprint " + member->second.substr(0, 16) + ")",
                            "fingerprint " + mine->substr(0, 16),
                            "a rotated key: point signer.key_file at " + id + "'s current key"});
    }
  }
  return c;
}

}  // namespace ailee::ops
