// `ailee-cli drill --config`: rehearses the recovery of this node's config
// from its newest config snapshot without touching the live config.
//
//  1. restore: the snapshot (ops/config/restore.h) is restored below a fresh
//     scratch directory (0700, owner-tagged: base/scratch.h), secrets
//     decrypted with the secrets passphrase;
//  2. validate: the restored config is validated as validate-config does
//     (config::AnalyzeConfig), every absolute path it names that the
//     snapshot holds rebased to the restored copy, so a file the snapshot
//     lacks is checked where the config says (a drill on another host finds
//     it missing);
//  3. shred: every restored file is overwritten and unlinked, the scratch
//     directory removed (on every way out; a killed drill's by the next).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "crypto/secure.h"
#include "ops/config/snapshot.h"
#include "ops/drill/steps.h"
#include "repo/repository.h"

namespace ailee::ops {

inline constexpr const char* kConfigDrillScratchPrefix = "ailee-config-drill-";

struct ConfigDrillOptions {
  ConfigSnapshotScope scope;                           // whose newest config snapshot
  const crypto::SecureBytes* secrets_passphrase = nullptr;
  std::string scratch_parent;
  DrillHooks hooks;
};

// Phases restore, validate, shred; checks restore, config-valid, shred (or cancelled).
struct ConfigDrillReport : DrillOutcome {
  std::string snapshot_id;
  std::string config_path;            // the config file as the snapshot names it
  size_t files = 0;                   // restored
  size_t secrets = 0;                 // restored (decrypted)
  std::vector<std::string> problems;  // the restored config's
  int64_t rto_ms = 0;                 // restore + validate
  std::string scratch;                // removed
};

Result<ConfigDrillReport> RunConfigDrill(repo::Repository& repo, const ConfigDrillOptions& options);

nlohmann::ordered_json ConfigDrillReportJson(const ConfigDrillReport& r);

}  // namespace ailee::ops
