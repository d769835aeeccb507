// verify-state, create-checkpoint, verify-checkpoint, apply-checkpoint: the
// runbook's L2 state commands.
#include "audit/scoped_op.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "ops/state/checkpoint_create.h"
#include "ops/state/checkpoint_verify.h"
#include "state/verify.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

void SetUpVerifyState(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "verify-state",
      "Prove a data dir, checkpoint or restored backup: every block's hash chain and signature, every anchor\n"
      "commitment, and the tip's state root recomputed from scratch. Names the first bad height or key.\n"
      "Opens DIR read-only. Signatures are checked against the federation in --config when it loads.");
  auto dir = std::make_shared<std::string>();
  auto tx_sigs = std::make_shared<bool>(false);
  cmd->add_option("DIR", *dir, "node data dir or checkpoint")->required();
  cmd->add_flag("--tx-signatures", *tx_sigs, "also re-verify every transaction's own signature (slow)");
  cmd->callback([&g, dir, tx_sigs] {
    auto log = OpenAuditLogFor(g);
    if (!log.ok()) return SetResult(log.status());
    audit::ScopedAuditOp op(log->get(), "verify-state", {{"dir", *dir}, {"tx_signatures", *tx_sigs}});
    std::string why;
    state::VerifyOptions vo;
    vo.check_transaction_signatures = *tx_sigs;
    vo.federation = FederationIfConfigured(g, &why);
    ProgressLine progress(g, "verify-state");
    vo.progress = [&](const state::VerifyProgress& p) { progress.Update(p.phase, p.done, p.total); };
    auto report = state::VerifyState(*dir, vo);
    progress.Done();
    if (!report.ok()) return SetResult(op.Finish(report.status().WithContext("verify-state " + *dir)));
    op.Touch("state_root:" + crypto::HashToHex(report->state_root));
    const auto& r = *report;
    if (g.json) {
      PrintJson({{"ok", r.ok}, {"dir", *dir}, {"height", r.tip_height}, {"tip_hash", crypto::HashToHex(r.tip_block_hash)},
                 {"state_root", crypto::HashToHex(r.state_root)}, {"blocks_checked", r.blocks_checked},
                 {"transactions_checked", r.transactions_checked}, {"anchors_checked", r.anchors_checked},
                 {"entries_checked", r.entries_checked}, {"signatures_checked", vo.federation.has_value()},
                 {"problems_total", r.problems_total}, {"problems", r.problems}});
    } else {
      if (!vo.federation) PrintLine(g, "warning: signatures not checked (no usable config: " + why + ")");
      for (const auto& p : r.problems) PrintLine(g, "BAD: " + p);
      PrintLine(g, std::string(r.ok ? "OK" : "FAILED") + ": " + *dir + " height " + std::to_string(r.tip_height) +
                       ", state root " + crypto::HashToHex(r.state_root) + " (recomputed over " +
                       std::to_string(r.entries_checked) + " entries), " + std::to_string(r.blocks_checked) + " blocks, " +
                       std::to_string(r.anchors_checked) + " anchors checked");
    }
    SetResult(op.Finish(r.ok ? Status::Ok()
                             : DataLoss(*dir + ": " + std::to_string(r.problems_total) + " problem(s), first: " +
                                        (r.problems.empty() ? std::string("?") : r.problems.front()))));
  });
}

json ManifestJson(const state::CheckpointManifest& m) {
  const uint64_t bytes = state::ManifestBytes(m);
  return {{"node_id", m.node_id}, {"height", m.height}, {"block_hash", crypto::HashToHex(m.block_hash)},
          {"state_root", crypto::HashToHex(m.state_root)}, {"files", m.files.size()}, {"bytes", bytes},
          {"source", m.source}};
}

void SetUpCreateCheckpoint(CLI::App& app, GlobalOptions& g) {
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
  cmd->callback([&g, output, url, data_dir, offline] {
    auto log = OpenAuditLogFor(g);
    if (!log.ok()) return SetResult(log.status());
    audit::ScopedAuditOp op(log->get(), "create-checkpoint", {{"output", *output}, {"offline", *offline}});
    auto cfg = LoadConfigFor(g);
    ops::CheckpointOutputOptions o;
    o.output = *output;
    o.source.offline = *offline;
    o.source.node_url = !url->empty() ? *url : cfg.ok() ? NodeUrl(*cfg) : "";
    o.source.data_dir = !data_dir->empty() ? *data_dir : cfg.ok() ? cfg->node.data_dir : "";
    if (cfg.ok()) o.source.node_id = cfg->node.id;
    if (!cfg.ok()) o.source.why_nothing_known = cfg.status();
    o.source.read_admin_token = [&cfg]() -> Result<std::string> {
      if (!cfg.ok()) return cfg.status().WithContext("the admin token comes from the config");
      return ReadAdminToken(*cfg);
    };
    ProgressLine progress(g, "create-checkpoint");
    o.progress = [&](const std::string& phase, uint64_t d, uint64_t t) { progress.Update(phase, d, t); };
    auto m = ops::CreateCheckpointAtOutput(o);
    progress.Done();
    if (!m.ok()) return SetResult(op.Finish(m.status()));
    op.Touch("state_root:" + crypto::HashToHex(m->state_root));
    json j = ManifestJson(*m);
    j["path"] = *output;
    if (g.json) PrintJson(j);
    PrintLine(g, "checkpoint " + *output + ": height " + std::to_string(m->height) + ", state root " +
                     crypto::HashToHex(m->state_root) + ", " + std::to_string(m->files.size()) + " files, " +
                     HumanBytes(j["bytes"].get<uint64_t>()) + " (" + m->source + ")");
    SetResult(op.Finish(Status::Ok()));
  });
}

void SetUpVerifyCheckpoint(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "verify-checkpoint",
      "Verify a checkpoint: every file against its manifest, the database opens read-only, blocks and anchors\n"
      "verify, and the state root recomputed from scratch equals the manifest's and the tip block's.");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "checkpoint directory, or a checkpoint URL (s3://bucket/prefix): downloaded to a\n"
                               "scratch dir beside the node's data dir (else in $TMPDIR), verified, removed")
      ->required();
  cmd->callback([&g, dir] {
    auto log = OpenAuditLogFor(g);
    if (!log.ok()) return SetResult(log.status());
    audit::ScopedAuditOp op(log->get(), "verify-checkpoint", {{"checkpoint", *dir}});
    std::string why;
    auto federation = FederationIfConfigured(g, &why);
    ProgressLine progress(g, "verify-checkpoint");
    auto show = [&](const std::string& p, uint64_t d, uint64_t t) { progress.Update(p, d, t); };
    ops::CheckpointVerifyOptions o;
    o.location = *dir;
    if (auto cfg = LoadConfigFor(g); cfg.ok()) o.download_beside = cfg->node.data_dir;
    o.federation = federation;
    o.progress = show;
    auto r = ops::VerifyCheckpointAt(o);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    op.Touch("state_root:" + crypto::HashToHex(r->recomputed_state_root));
    if (g.json) {
      json j = ManifestJson(r->manifest);
      j["ok"] = r->ok;
      j["dir"] = *dir;
      j["recomputed_state_root"] = crypto::HashToHex(r->recomputed_state_root);
      j["bytes_checked"] = r->bytes_checked;
      j["entries_checked"] = r->entries_checked;
      j["signatures_checked"] = federation.has_value();
      j["problems"] = r->problems;
      PrintJson(j);
    } else {
      if (!federation) PrintLine(g, "warning: signatures not checked (no usable config: " + why + ")");
      for (const auto& p : r->problems) PrintLine(g, "BAD: " + p);
      PrintLine(g, std::string(r->ok ? "OK" : "FAILED") + ": checkpoint " + *dir + " height " + std::to_string(r->manifest.height) +
                       ", " + std::to_string(r->files_checked) + " files (" + HumanBytes(r->bytes_checked) +
                       ") match the manifest, state root recomputed " + crypto::HashToHex(r->recomputed_state_root));
    }
    SetResult(op.Finish(r->ok ? Status::Ok()
                              : DataLoss("checkpoint " + *dir + " failed verification: " + r->problems.front())));
  });
}

}  // namespace

void SetUpVerifyStateCommand(CLI::App& app, Session& s) { SetUpVerifyState(app, s.global()); }
void SetUpCreateCheckpointCommand(CLI::App& app, Session& s) { SetUpCreateCheckpoint(app, s.global()); }
void SetUpVerifyCheckpointCommand(CLI::App& app, Session& s) { SetUpVerifyCheckpoint(app, s.global()); }

}  // namespace ailee::cli
