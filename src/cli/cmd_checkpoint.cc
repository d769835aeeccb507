// verify-state, create-checkpoint, verify-checkpoint, apply-checkpoint: the
// runbook's L2 state commands.
#include "audit/scoped_op.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "config/node_access.h"
#include "ops/state/checkpoint_create.h"
#include "ops/state/checkpoint_verify.h"
#include "state/verify.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

// A report's lines, the BAD ones first, after a warning when signatures were
// not checked (`why_unsigned` says why; "" when they were).
std::vector<std::string> ReportLines(const std::string& why_unsigned, bool signatures_checked,
                                     const std::vector<std::string>& problems, std::string last) {
  std::vector<std::string> lines;
  if (!signatures_checked) lines.push_back("warning: signatures not checked (no usable config: " + why_unsigned + ")");
  for (const auto& p : problems) lines.push_back("BAD: " + p);
  lines.push_back(std::move(last));
  return lines;
}

void SetUpVerifyState(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "verify-state",
      "Prove a data dir, checkpoint or restored backup: every block's hash chain and signature, every anchor\n"
      "commitment, and the tip's state root recomputed from scratch. Names the first bad height or key.\n"
      "Opens DIR read-only. Signatures are checked against the federation in --config when it loads.");
  auto dir = std::make_shared<std::string>();
  auto tx_sigs = std::make_shared<bool>(false);
  cmd->add_option("DIR", *dir, "node data dir or checkpoint")->required();
  cmd->add_flag("--tx-signatures", *tx_sigs, "also re-verify every transaction's own signature (slow)");
  cmd->callback([&s, dir, tx_sigs] {
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, "verify-state", {{"dir", *dir}, {"tx_signatures", *tx_sigs}});
    std::string why;
    state::VerifyOptions vo;
    vo.check_transaction_signatures = *tx_sigs;
    vo.federation = s.FederationIfConfigured(&why);
    ProgressLine progress(s.global(), "verify-state");
    vo.progress = [&](const state::VerifyProgress& p) { progress.Update(p.phase, p.done, p.total); };
    auto report = state::VerifyState(*dir, vo);
    progress.Done();
    if (!report.ok()) return EndCommand(s, report.status().WithContext("verify-state " + *dir), op);
    const state::VerifyReport& r = *report;
    op.Touch("state_root:" + crypto::HashToHex(r.state_root));
    Status verdict = r.ok ? Status::Ok()
                          : DataLoss(*dir + ": " + std::to_string(r.problems_total) + " problem(s), first: " +
                                     (r.problems.empty() ? std::string("?") : r.problems.front()));
    EndWithVerdict(
        s, verdict, op,
        [&] {
          return json{{"ok", r.ok}, {"dir", *dir}, {"height", r.tip_height}, {"tip_hash", crypto::HashToHex(r.tip_block_hash)},
                      {"state_root", crypto::HashToHex(r.state_root)}, {"blocks_checked", r.blocks_checked},
                      {"transactions_checked", r.transactions_checked}, {"anchors_checked", r.anchors_checked},
                      {"entries_checked", r.entries_checked}, {"signatures_checked", vo.federation.has_value()},
                      {"problems_total", r.problems_total}, {"problems", r.problems}};
        },
        [&] {
          return Lines(ReportLines(why, vo.federation.has_value(), r.problems,
                                   std::string(r.ok ? "OK" : "FAILED") + ": " + *dir + " height " + std::to_string(r.tip_height) +
                                       ", state root " + crypto::HashToHex(r.state_root) + " (recomputed over " +
                                       std::to_string(r.entries_checked) + " entries), " + std::to_string(r.blocks_checked) +
                                       " blocks, " + std::to_string(r.anchors_checked) + " anchors checked"));
        });
  });
}

json ManifestJson(const state::CheckpointManifest& m) {
  const uint64_t bytes = state::ManifestBytes(m);
  return {{"node_id", m.node_id}, {"height", m.height}, {"block_hash", crypto::HashToHex(m.block_hash)},
          {"state_root", crypto::HashToHex(m.state_root)}, {"files", m.files.size()}, {"bytes", bytes},
          {"source", m.source}};
}

json WithFields(json j, const json& more) {
  j.update(more);
  return j;
}

// Where a checkpoint comes from: the flags, else the config (whose error,
// when it does not load, says why nothing is known).
ops::StateSourceOptions SourceFor(Session& s, const std::string& url, const std::string& data_dir, bool offline) {
  const Result<config::NodeConfig>& cfg = s.config();
  ops::StateSourceOptions src;
  src.offline = offline;
  src.node_url = !url.empty() ? url : cfg.ok() ? config::NodeUrl(*cfg) : "";
  src.data_dir = !data_dir.empty() ? data_dir : cfg.ok() ? cfg->node.data_dir : "";
  if (cfg.ok()) src.node_id = cfg->node.id;
  if (!cfg.ok()) src.why_nothing_known = cfg.status();
  src.read_admin_token = [&cfg]() -> Result<std::string> {
    if (!cfg.ok()) return cfg.status().WithContext("the admin token comes from the config");
    return config::ReadAdminToken(*cfg);
  };
  return src;
}

void SetUpCreateCheckpoint(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "create-checkpoint",
      "Create a consistent checkpoint of the node's state at a block boundary, with a manifest.\n"
      "Asks the running node through its admin API; if no node answers, opens the stopped data dir directly.");
  auto output = std::make_shared<std::string>();
  auto url = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  auto offline = std::make_shared<bool>(false);
  cmd->add_option("--output,-o", *output,
                  "checkpoint directory to create (must not exist), or an object-store URL (s3://bucket/prefix):\n"
                  "the checkpoint is then made beside the data dir, uploaded file by file with the manifest last,\n"
                  "and removed locally")
      ->required();
  cmd->add_option("--url", *url, "node API URL (default: from the config)");
  cmd->add_option("--data-dir", *data_dir, "data dir for an offline checkpoint (default: from the config)");
  cmd->add_flag("--offline", *offline, "do not ask a running node; open the data dir (node must be stopped)");
  cmd->callback([&s, output, url, data_dir, offline] {
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, "create-checkpoint", {{"output", *output}, {"offline", *offline}});
    ops::CheckpointOutputOptions o;
    o.output = *output;
    o.source = SourceFor(s, *url, *data_dir, *offline);
    ProgressLine progress(s.global(), "create-checkpoint");
    o.progress = [&](const std::string& phase, uint64_t d, uint64_t t) { progress.Update(phase, d, t); };
    auto m = ops::CreateCheckpointAtOutput(o);
    progress.Done();
    if (m.ok()) op.Touch("state_root:" + crypto::HashToHex(m->state_root));
    EndCommand(
        s, m, op, [&](const state::CheckpointManifest& mf) { return WithFields(ManifestJson(mf), {{"path", *output}}); },
        [&](const state::CheckpointManifest& mf) {
          return "checkpoint " + *output + ": height " + std::to_string(mf.height) + ", state root " +
                 crypto::HashToHex(mf.state_root) + ", " + std::to_string(mf.files.size()) + " files, " +
                 HumanBytes(state::ManifestBytes(mf)) + " (" + mf.source + ")";
        });
  });
}

void SetUpVerifyCheckpoint(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "verify-checkpoint",
      "Verify a checkpoint: every file against its manifest, the database opens read-only, blocks and anchors\n"
      "verify, and the state root recomputed from scratch equals the manifest's and the tip block's.");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "checkpoint directory, or a checkpoint URL (s3://bucket/prefix): downloaded to a\n"
                               "scratch dir beside the node's data dir (else in $TMPDIR), verified, removed")
      ->required();
  cmd->callback([&s, dir] {
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, "verify-checkpoint", {{"checkpoint", *dir}});
    std::string why;
    ops::CheckpointVerifyOptions o;
    o.location = *dir;
    o.federation = s.FederationIfConfigured(&why);
    if (const config::NodeConfig* cfg = s.config_if_loaded()) o.download_beside = cfg->node.data_dir;
    ProgressLine progress(s.global(), "verify-checkpoint");
    o.progress = [&](const std::string& p, uint64_t d, uint64_t t) { progress.Update(p, d, t); };
    auto r = ops::VerifyCheckpointAt(o);
    progress.Done();
    if (!r.ok()) return EndCommand(s, r.status(), op);
    op.Touch("state_root:" + crypto::HashToHex(r->recomputed_state_root));
    Status verdict = r->ok ? Status::Ok() : DataLoss("checkpoint " + *dir + " failed verification: " + r->problems.front());
    EndWithVerdict(
        s, verdict, op,
        [&] {
          return WithFields(ManifestJson(r->manifest), json{{"ok", r->ok}, {"dir", *dir},
                                                       {"recomputed_state_root", crypto::HashToHex(r->recomputed_state_root)},
                                                       {"bytes_checked", r->bytes_checked}, {"entries_checked", r->entries_checked},
                                                       {"signatures_checked", o.federation.has_value()}, {"problems", r->problems}});
        },
        [&] {
          return Lines(ReportLines(why, o.federation.has_value(), r->problems,
                                   std::string(r->ok ? "OK" : "FAILED") + ": checkpoint " + *dir + " height " +
                                       std::to_string(r->manifest.height) + ", " + std::to_string(r->files_checked) + " files (" +
                                       HumanBytes(r->bytes_checked) + ") match the manifest, state root recomputed " +
                                       crypto::HashToHex(r->recomputed_state_root)));
        });
  });
}

}  // namespace

void SetUpVerifyStateCommand(CLI::App& app, Session& s) { SetUpVerifyState(app, s); }
void SetUpCreateCheckpointCommand(CLI::App& app, Session& s) { SetUpCreateCheckpoint(app, s); }
void SetUpVerifyCheckpointCommand(CLI::App& app, Session& s) { SetUpVerifyCheckpoint(app, s); }

}  // namespace ailee::cli
