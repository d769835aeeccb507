// The federation in force now (at the tip) and where each signer stands:
// the one answer the key commands (test-signer, keys backup|verify|restore,
// drill --keys) and recover-node's key phase check a signer key against.
//
// Trusted the way the chain trusts it: the genesis is the config's
// federation section; later epochs come from this node's data dir (a state
// it proved when it applied or restored it) or from the nodes the command
// talks to, each proven back to the genesis by ops/federation/
// verified_history.h. A source that does not verify is not believed (it is
// named in not_believed()); of the rest, the one that knows the most epochs
// wins, and the others must agree with it epoch by epoch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "crypto/asymmetric.h"
#include "keys/identity.h"
#include "state/federation.h"
#include "state/federation_history.h"

namespace ailee::ops::federation {

struct InForceOptions {
  state::Federation genesis;           // the config's federation section (epoch 0)
  std::string data_dir;                // read when it holds a database no process holds ("" = none)
  std::vector<std::string> node_urls;  // asked GET /v1/federation, each proven
  // --federation-key ID=PUBKEY.pem: the operator's own word for a key,
  // taken as given and named so in every check that uses it.
  keys::FederationKeys overrides;
};

// Genesis, data dir and node URLs of a node config: its own API, its
// leader (follow) and its peers.
Result<InForceOptions> InForceOptionsOf(const config::NodeConfig& config);

// A signer's key as a member of the epoch in force, and what said so.
struct CheckedKey {
  crypto::PublicKey key;
  uint64_t epoch = 0;
  std::string against;  // "epoch 1 (in force since height 57; node http://...)"
};

class FederationInForce {
 public:
  FederationInForce(state::FederationHistory history, std::string source, std::vector<std::string> not_believed,
                    keys::FederationKeys overrides);

  const state::FederationHistory& history() const { return history_; }
  const state::FederationEpoch& epoch() const { return history_.Current(); }
  // "epoch 1 (in force since height 57; node http://127.0.0.1:8545)".
  std::string Describe() const;
  // Sources that answered but did not verify, with why.
  const std::vector<std::string>& not_believed() const { return not_believed_; }

  // `signer_id`'s key when it is a member of the epoch in force (or an
  // override). kFailedPrecondition for a signer that left the federation,
  // naming the height and epoch and what to do; kNotFound for one that
  // never was a member.
  Result<CheckedKey> LiveKey(const std::string& signer_id) const;
  // Every id's latest listed key, retired members included (a backup of a
  // retired key is still that key), then the overrides: what keys::
  // FederationCheck compares backups with.
  keys::FederationKeys KnownKeys() const;

 private:
  state::FederationHistory history_;
  std::string source_;
  std::vector<std::string> not_believed_;
  keys::FederationKeys overrides_;
};

// Never fails for lack of a source: with none readable the genesis alone
// is in force, and Describe() says so. Except kFailedPrecondition when the
// data dir opens but its epochs do not verify (a lost block 1, a foreign
// change) and nothing else answers nor --federation-key names a key: that
// chain may have retired a genesis signer, which the genesis alone would pass. kDataLoss when two verified sources
// disagree about an epoch (a fork: nothing is trusted then).
Result<FederationInForce> ResolveFederationInForce(const InForceOptions& options);

}  // namespace ailee::ops::federation
