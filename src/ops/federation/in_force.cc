#include "ops/federation/in_force.h"

#include <algorithm>
#include <limits>

#include "base/hint.h"
#include "config/node_access.h"
#include "ops/federation/verified_history.h"
#include "state/data_dir.h"
#include "state/state_db.h"

namespace ailee::ops::federation {

namespace {

struct Candidate {
  std::string source;
  state::FederationHistory history;
};

// The data dir's own epochs (read-only: a running node keeps writing).
// `history_failed` tells a database that opens but whose epochs do not
// verify (it holds a chain, so the genesis alone may be wrong) from one that
// does not open (a damaged data dir recover-node is about to replace).
Result<Candidate> FromDataDir(const std::string& dir, const state::Federation& genesis, bool* history_failed) {
  state::OpenOptions o;
  o.read_only = true;
  o.create_if_missing = false;
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(dir, o));
  auto history = db->Federations(genesis);
  if (!history.ok()) {
    *history_failed = true;
    return history.status();
  }
  return Candidate{"data dir " + dir + " at height " + std::to_string(db->Tip().height), std::move(*history)};
}

// `shorter` must list `longer`'s first epochs: same members, same start.
Status CheckAgree(const Candidate& longer, const Candidate& shorter) {
  const auto& a = longer.history.epochs();
  const auto& b = shorter.history.epochs();
  for (size_t k = 0; k < b.size(); ++k) {
    if (a[k].start_height == b[k].start_height && a[k].federation == b[k].federation) continue;
    return WithHint(DataLoss("federation epoch " + std::to_string(k) + " differs between " + longer.source +
                             " (from height " + std::to_string(a[k].start_height) + ") and " + shorter.source +
                             " (from height " + std::to_string(b[k].start_height) + ")"),
                    "two sources that each verify disagree (a fork): compare them with `ailee-cli federation show "
                    "--url URL` and fix the node that is off the network's chain before trusting either");
  }
  return Status::Ok();
}

}  // namespace

Result<InForceOptions> InForceOptionsOf(const config::NodeConfig& cfg) {
  InForceOptions o;
  ASSIGN_OR_RETURN(o.genesis.signers, config::FederationKeys(cfg));
  o.genesis.threshold = static_cast<int>(cfg.federation.threshold);
  o.data_dir = cfg.node.data_dir;
  std::vector<std::string> urls = {config::NodeUrl(cfg), cfg.follow};
  urls.insert(urls.end(), cfg.peers.begin(), cfg.peers.end());
  for (const std::string& url : urls)
    if (!url.empty() && std::find(o.node_urls.begin(), o.node_urls.end(), url) == o.node_urls.end())
      o.node_urls.push_back(url);
  return o;
}

FederationInForce::FederationInForce(state::FederationHistory history, std::string source,
                                     std::vector<std::string> not_believed, keys::FederationKeys overrides)
    : history_(std::move(history)),
      source_(std::move(source)),
      not_believed_(std::move(not_believed)),
      overrides_(std::move(overrides)) {}

std::string FederationInForce::Describe() const {
  const auto& e = epoch();
  return "epoch " + std::to_string(e.number) + " (in force since height " + std::to_string(e.start_height) + "; " +
         source_ + ")";
}

Result<CheckedKey> FederationInForce::LiveKey(const std::string& signer_id) const {
  if (auto it = overrides_.find(signer_id); it != overrides_.end())
    return CheckedKey{it->second, epoch().number, "the key given with --federation-key " + signer_id};
  if (const crypto::PublicKey* key = epoch().federation.Find(signer_id))
    return CheckedKey{*key, epoch().number, Describe()};
  std::string unbelieved;
  for (const auto& n : not_believed_) unbelieved += "; not believed: " + n;
  const std::string standing = history_.DescribeSigner(signer_id, std::numeric_limits<uint64_t>::max());
  const std::string where = " (federation " + Describe() + unbelieved + ")";
  if (standing.starts_with("left"))
    return WithHint(FailedPrecondition("signer " + signer_id + " " + standing + where +
                                       ": its key is retired and is not brought back as a live signer"),
                    "keep the retired key only to verify history (`ailee-cli keys retire`); to sign from this host, "
                    "generate a new signer's key (`ailee-cli keys generate`), add it with `ailee-cli federation "
                    "propose --add`, `sign` and `apply`, and set signer.id in the config to the new id");
  return WithHint(NotFound("signer " + signer_id + " is not a member of the federation in force: " + standing + where),
                  "check the signer id; a signer added by a federation change is found once this node or one it "
                  "talks to (node.listen, follow, peers) holds that change; --federation-key ID=PUBKEY.pem "
                  "names a key by hand");
}

keys::FederationKeys FederationInForce::KnownKeys() const {
  keys::FederationKeys out;
  for (const auto& e : history_.epochs())
    for (const auto& [id, key] : e.federation.signers) out.insert_or_assign(id, key);
  for (const auto& [id, key] : overrides_) out.insert_or_assign(id, key);
  return out;
}

Result<FederationInForce> ResolveFederationInForce(const InForceOptions& o) {
  std::vector<Candidate> candidates;
  std::vector<std::string> not_believed, unread;
  Status data_dir_failed = Status::Ok();
  // A running node's data dir is left to it: its own API (in node_urls) answers.
  if (!o.data_dir.empty() && state::HoldsDatabase(o.data_dir) && state::EnsureNotInUse(o.data_dir).ok()) {
    bool history_failed = false;
    auto local = FromDataDir(o.data_dir, o.genesis, &history_failed);
    if (local.ok()) {
      candidates.push_back(std::move(*local));
    } else {
      unread.push_back("data dir " + o.data_dir + ": " + local.status().message());
      if (history_failed) data_dir_failed = local.status().WithContext("data dir " + o.data_dir);
    }
  }
  for (const std::string& url : o.node_urls) {
    auto history = VerifiedHistoryFrom(url, o.genesis);
    if (history.ok()) {
      candidates.push_back(Candidate{"node " + url, std::move(*history)});
    } else if (history.status().code() == StatusCode::kUnavailable) {
      unread.push_back(url + " did not answer");
    } else {
      not_believed.push_back(std::string(MessageWithoutHint(history.status())));
    }
  }
  if (candidates.empty() && !data_dir_failed.ok() && o.overrides.empty()) {
    // The data dir holds a chain whose epochs do not verify: the genesis
    // alone could pass a signer the chain retired (a compromised key).
    return WithHint(FailedPrecondition("the federation in force is not known: " + data_dir_failed.message()),
                    "start a node of this network that the config names (node.listen, follow, peers), repair the "
                    "data dir (`ailee-cli verify-state`, restore or resync), or name the key with "
                    "--federation-key ID=PUBKEY.pem");
  }
  if (candidates.empty()) {
    std::string why = "the config's genesis only";
    if (!unread.empty()) why += ": no data dir or node could be read (" + unread.front() + ")";
    return FederationInForce(state::FederationHistory(o.genesis), why, std::move(not_believed), o.overrides);
  }
  auto best = std::max_element(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.history.epochs().size() < b.history.epochs().size();
  });
  for (const Candidate& c : candidates) RETURN_IF_ERROR(CheckAgree(*best, c));
  return FederationInForce(std::move(best->history), std::move(best->source), std::move(not_believed), o.overrides);
}

}  // namespace ailee::ops::federation
