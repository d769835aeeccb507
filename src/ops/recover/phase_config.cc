// Phase 1 of recover-node: the node's config (phase_key.cc restores its signer key).
#include "base/fs.h"
#include "base/hint.h"
#include "ops/config/restore.h"
#include "ops/config/snapshot.h"
#include "ops/recover/phases.h"

namespace ailee::ops::recover {

namespace {

// Kept when the file is there and valid (but for a missing key file):
// recovering a node whose host survived must not replace a config the
// operator may have fixed since.
bool ConfigUsable(const std::string& path) { return LoadConfigForRecovery(path).ok(); }

Result<repo::Snapshot> LatestConfigSnapshot(const Context& c) {
  auto snap = FindConfigSnapshot(c.repo, "latest", ConfigSnapshotScope{c.options.node_id, ""});
  if (!snap.ok())
    return WithHint(snap.status().WithContext("recover-node: this node's config is missing or invalid"),
                    "back it up with `ailee-cli backup config` on a node that has it, or restore from a copy "
                    "holding one (--repo URL)");
  return snap;
}

Status CheckNodeId(const config::NodeConfig& cfg, const std::string& node_id) {
  if (cfg.node.id == node_id) return Status::Ok();
  return WithHint(FailedPrecondition("the config " + cfg.config_path + " is of node '" + cfg.node.id +
                                     "', not of '" + node_id + "'"),
                  "pass --node " + cfg.node.id + ", or --config naming node " + node_id + "'s config");
}

}  // namespace

RecoverStep PlanConfig(Context& c) {
  RecoverStep s{"config", "", "", 0, 0, "", c.journal.Finished("config")};
  if (ConfigUsable(c.options.config_path)) {
    s.action = "keep " + c.options.config_path + " (present and valid)";
    return s;
  }
  auto snap = LatestConfigSnapshot(c);
  if (!snap.ok()) {
    s.action = "cannot restore: " + std::string(MessageWithoutHint(snap.status()));
    return s;
  }
  auto manifest = ParseConfigManifest(snap->meta);
  s.action = "restore the latest config snapshot of " + c.options.node_id + " to the original paths (" +
             std::to_string(snap->files.size()) + " entries), secrets decrypted, then validate";
  s.source = "config snapshot " + snap->id_hex().substr(0, 12);
  s.bytes = snap->total_bytes;
  s.expected_ms = 2000;
  if (manifest.ok() && fs::Exists(manifest->config_path)) s.replaces = manifest->config_path + " (invalid)";
  return s;
}

Result<PhaseOutcome> RunConfig(Context& c) {
  PhaseOutcome out;
  std::string path = c.options.config_path;
  // A killed run's half-written files beside the config (archive/target.cc's
  // ".ailee-tmp-" scratch names; only those whose owner is gone).
  fs::RemoveAbandoned(fs::Dirname(path), ".ailee-tmp-");
  if (ConfigUsable(path)) {
    out.outcome = "kept";
  } else {
    ASSIGN_OR_RETURN(repo::Snapshot snap, LatestConfigSnapshot(c));
    ConfigRestoreOptions o;
    o.scope = ConfigSnapshotScope{c.options.node_id, ""};
    o.secrets_passphrase = c.options.secrets_passphrase;
    o.validator = ConfigProblemsForRecovery;  // a leader's key file comes back in phase 2
    ASSIGN_OR_RETURN(ConfigRestoreReport r, RestoreConfig(c.repo, snap.id_hex(), "/", o));
    RETURN_IF_ERROR(r.ToStatus());
    if (r.config_file.empty()) return DataLoss("config snapshot " + r.snapshot_id.substr(0, 12) + " names no config file");
    path = r.config_file;
    out.outcome = "restored";
    out.detail["snapshot"] = r.snapshot_id;
    out.detail["files_written"] = r.written;
    out.detail["secrets_written"] = r.secrets_written;
  }
  ASSIGN_OR_RETURN(config::NodeConfig cfg, LoadConfigForRecovery(path));
  RETURN_IF_ERROR(CheckNodeId(cfg, c.options.node_id));
  out.detail["config"] = cfg.config_path;
  out.detail["validated"] = true;
  c.config = std::move(cfg);
  return out;
}

}  // namespace ailee::ops::recover

namespace ailee::ops {

namespace {

// The config's problems, but for a signer key file that is missing: phase 2
// restores it. The config as far as it could be read comes along.
std::vector<config::ConfigProblem> ProblemsButMissingKey(const std::string& path, config::NodeConfig* cfg) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) return {config::ConfigProblem{"", "a readable config file", std::string(text.status().message()), ""}};
  config::ConfigAnalysis a = config::AnalyzeConfig(*text, path);
  std::vector<config::ConfigProblem> problems;
  const bool key_missing = a.config.signer && !a.config.signer->key_file.empty() && !fs::Exists(a.config.signer->key_file);
  for (auto& p : a.problems)
    if (!(p.field == "signer.key_file" && key_missing)) problems.push_back(std::move(p));
  if (cfg) *cfg = std::move(a.config);
  return problems;
}

}  // namespace

std::vector<config::ConfigProblem> ConfigProblemsForRecovery(const std::string& path) {
  return ProblemsButMissingKey(path, nullptr);
}

Result<config::NodeConfig> LoadConfigForRecovery(const std::string& path) {
  if (!fs::Exists(path)) return NotFound("config " + path + " does not exist");
  config::NodeConfig cfg;
  auto problems = ProblemsButMissingKey(path, &cfg);
  if (!problems.empty())
    return InvalidArgument("config " + path + " has " + std::to_string(problems.size()) + " problem(s):\n" +
                           config::FormatProblems(problems));
  return cfg;
}

}  // namespace ailee::ops
