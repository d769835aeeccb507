// The config's `drill` section: the objectives a recovery drill is judged
// against (docs/drills.md). Kept out of NodeConfig: only `ailee-cli drill`
// reads it, so it is read from the config file when a drill runs; the
// config's validation (LoadConfig, validate-config) checks it like every
// other section.
//
//   drill:
//     targets:
//       rto_s: 14400       # the runbook's "L2 State Database" row: < 4 hours
//       rpo_s: 900         # < 15 minutes
//       rpo_blocks: 1000   # optional
//     test_token:          # `drill --keys --to-pkcs11`'s token (never the signer's)
//       module: /usr/lib/softhsm/libsofthsm2.so
//       token_label: ailee-drill
//       pin_file: drill-token.pin   # relative to the config's directory
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "config/config.h"

namespace ailee::config {

struct DrillTargetsConfig {
  std::optional<int64_t> rto_s;
  std::optional<int64_t> rpo_s;
  std::optional<int64_t> rpo_blocks;
};

// drill.test_token: a PKCS#11 token the key drill may import into and
// clean out again. Paths absolute.
struct DrillTestTokenConfig {
  std::string module;
  std::string token_label;
  std::string pin_file;  // empty: AILEE_PKCS11_PIN or the terminal
};

struct DrillSection {
  DrillTargetsConfig targets;
  std::optional<DrillTestTokenConfig> test_token;
};

// The drill section of the file `cfg` was loaded from.
Result<DrillSection> LoadDrillSection(const NodeConfig& cfg);

// drill.targets of the file `cfg` was loaded from (unset fields: nullopt).
// kInvalidArgument naming the field when the section is malformed.
Result<DrillTargetsConfig> LoadDrillTargets(const NodeConfig& cfg);

}  // namespace ailee::config
