// validate-config's comparison of a config with the chain its node runs
// (issue 14): the config's `federation:` is the GENESIS federation forever;
// later epochs live in the chain. Two ways a config and its chain disagree:
//  - federation.signers (or the threshold) was edited after a rotation, so
//    its fingerprint is not the one epoch 1 replaced;
//  - signer.id is not a member of the epoch in force for the next block, or
//    its key is not the one that epoch lists.
// The chain is read from the node's API when it answers (GET /v1/federation),
// else from the data dir opened read-only (a stopped node).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace ailee::ops {

struct ChainComparison {
  std::string source;  // "node API http://..." or "data dir /var/lib/ailee/data (read-only)"
  uint64_t epoch = 0;  // in force for the next block (0: genesis)
  uint64_t start_height = 1;
  int threshold = 0;
  std::vector<std::string> signers;
  // Each with the fix in its message; validate-config fails with them.
  std::vector<config::ConfigProblem> problems;
};

// nullopt (with `why_not`) when neither the API answers nor the data dir
// opens: nothing to compare, validate-config says so and judges the file alone.
std::optional<ChainComparison> CompareConfigWithChain(const config::NodeConfig& cfg, std::string* why_not);

}  // namespace ailee::ops
