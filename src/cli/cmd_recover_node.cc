// ailee-cli recover-node: one command for a lost node (docs/recovery.md).
// Parses the flags, reads the secrets it may need (never from argv), asks
// for confirmation on a terminal, and runs ops::RecoverNode.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/fs.h"
#include "base/hint.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/repo_session.h"
#include "cli/secrets_passphrase.h"
#include "keys/secret_input.h"
#include "ops/recover/recover_node.h"

namespace ailee::cli {

namespace {

struct RecoverArgs {
  RepoArgs repo;
  std::string node_id, secrets_passphrase_file, key_backup, key_passphrase_file, peer_admin_token_file;
  std::vector<std::string> key_shares;
  std::string node_binary = "ailee-node";
  int64_t wait_s = 300;
  bool start = false, dry_run = false, yes = false, prove_in_background = false;
};

std::string StepLine(const ops::RecoverStep& s) {
  std::string line = "  " + s.phase + ": " + (s.finished_before ? "[finished in an earlier run] " : "") + s.action;
  if (!s.source.empty()) line += "\n      source: " + s.source;
  if (s.bytes) line += "\n      size: " + HumanBytes(s.bytes);
  if (s.expected_ms) line += "\n      expected time: about " + HumanSeconds(s.expected_ms);
  if (!s.replaces.empty()) line += "\n      replaces: " + s.replaces;
  return line;
}

std::string PlanText(const std::vector<ops::RecoverStep>& plan) {
  std::vector<std::string> lines;
  for (const auto& s : plan) lines.push_back(StepLine(s));
  return Lines(lines);
}

// A real run changes this host: asked on a terminal, refused without one.
Status Confirm(const RecoverArgs& a, const std::vector<ops::RecoverStep>& plan) {
  if (a.yes) return Status::Ok();
  if (!isatty(STDIN_FILENO))
    return WithHint(FailedPrecondition("recover-node changes this node and no terminal is there to confirm it"),
                    "review `ailee-cli recover-node --dry-run`, then rerun with --yes");
  std::cerr << "recover-node " << a.node_id << " will:\n" << PlanText(plan) << "\nProceed? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return Status::Ok();
  return FailedPrecondition("recover-node: not confirmed; nothing was changed");
}

std::string ReportText(const ops::RecoverNodeResult& r) {
  if (r.dry_run) return "recover-node " + r.node_id + " would (dry run, nothing changed):\n" + PlanText(r.plan);
  std::vector<std::string> lines = {"recover-node " + r.node_id + ":"};
  for (const auto& p : r.phases)
    lines.push_back("  " + p.phase + ": " + p.outcome + " (" + HumanSeconds(p.duration_ms) + ")");
  if (!r.complete) {
    lines.push_back("not complete: " + r.next);
    return Lines(lines);
  }
  lines.push_back("recovered to height " + std::to_string(r.recovered_height) + "; RTO " + HumanSeconds(r.rto_ms));
  if (r.rto_serving_ms)
    lines.push_back("RTO to serving (proof running): " + HumanSeconds(*r.rto_serving_ms) +
                    (r.rto_proven_ms ? "; to proven: " + HumanSeconds(*r.rto_proven_ms) : std::string()));
  if (r.rpo_blocks) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", *r.rpo_seconds);
    lines.push_back("RPO " + std::to_string(*r.rpo_blocks) + " blocks, " + seconds +
                    " s against the network's tip at height " + std::to_string(*r.network_tip));
  }
  else
    lines.push_back("RPO unknown: no peer answered with the network's tip");
  for (const auto& s : r.sources) lines.push_back("source: " + s);
  lines.push_back("node " + r.node_url + " caught up and healthy; report " + r.report_path);
  return Lines(lines);
}

Result<ops::RecoverNodeResult> Recover(Session& session, const RecoverArgs& a, RepoSession& s) {
  const GlobalOptions& g = session.global();
  ops::RecoverNodeOptions o;
  o.node_id = a.node_id;
  o.config_path = g.config_path;
  // Needed only when the config must come back from a snapshot.
  std::optional<crypto::SecureBytes> secrets;
  if (!a.dry_run && !ops::LoadConfigForRecovery(g.config_path).ok()) {
    ASSIGN_OR_RETURN(secrets, SecretsPassphrase(a.secrets_passphrase_file, false));
  }
  o.secrets_passphrase = secrets ? &*secrets : nullptr;
  o.key_backup = a.key_backup;
  o.key_passphrase.share_files = a.key_shares;
  o.key_passphrase.secret.file = a.key_passphrase_file;
  o.key_passphrase.secret.env = keys::kPassphraseEnv;
  o.key_passphrase.secret.prompt = "Key backup passphrase: ";
  o.peer_admin_token_file = a.peer_admin_token_file;
  o.start = a.start;
  o.prove_in_background = a.prove_in_background;
  o.node_binary = a.node_binary;
  o.sync_wait_ms = a.wait_s * 1000;
  o.dry_run = a.dry_run;
  o.audit = s.audit();
  o.confirm = [&](const std::vector<ops::RecoverStep>& plan) { return Confirm(a, plan); };
  o.progress = [&](const std::string& phase, const std::string& what) {
    if (!g.quiet) std::cerr << "recover-node: " << phase << ": " << what << "\n";
  };
  return ops::RecoverNode(s.repo(), o);
}

}  // namespace

void SetUpRecoverNodeCommand(CLI::App& parent, Session& session) {
  auto a = std::make_shared<RecoverArgs>();
  CLI::App* c = parent.add_subcommand(
      "recover-node",
      "Recover this node after a loss, in five phases: its config (restored from its latest config snapshot when\n"
      "missing or invalid), its signer key and fence (from --key-backup when the key file is missing or the\n"
      "PKCS#11 token lacks the key: imported, PIN from signer.pkcs11.pin_file or AILEE_PKCS11_PIN) with\n"
      "test-signer, its state (a peer's live checkpoint with --peer-admin-token-file, or its newest state snapshot\n"
      "rolled forward with the block archive; proven before the swap; a data dir already ahead is kept), start\n"
      "(systemd unit, else --start, else the command to run) with the wait until caught up, and a deep health\n"
      "check. Resumable: a journal beside the data dir records each finished phase. Refuses while the node runs.");
  AddRepoOptions(c, a->repo);
  c->add_option("--node", a->node_id, "node id (default: node.id of the config; required when the config is lost)");
  c->add_option("--secrets-passphrase-file", a->secrets_passphrase_file,
                "file holding the config secrets passphrase (or AILEE_SECRETS_PASSPHRASE)");
  c->add_option("--key-backup", a->key_backup,
                "local key backup file or directory, used when the signer key is missing (a key file, or a PKCS#11 "
                "key not on its token: imported)");
  c->add_option("--key-passphrase-file", a->key_passphrase_file,
                "file holding the key backup passphrase (or AILEE_KEY_PASSPHRASE)");
  c->add_option("--key-shares", a->key_shares,
                "share files <id>.share.NNN (`keys backup --shares`) that recombine the key backup passphrase");
  c->add_option("--peer-admin-token-file", a->peer_admin_token_file,
                "a peer's admin token: take that peer's live checkpoint when it is the freshest source");
  c->add_flag("--start", a->start, "start ailee-node detached when no systemd unit is installed");
  c->add_flag("--prove-in-background", a->prove_in_background,
              "restore a repository snapshot without its proof: the node proves it when it starts, signing and\n"
              "serving nothing until then; reports the RTO to serving (proof running) and to proven");
  c->add_option("--node-binary", a->node_binary, "ailee-node to start with --start (default: from PATH)");
  c->add_option("--wait", a->wait_s, "seconds to wait for the node to catch up (default 300)");
  c->add_flag("--dry-run", a->dry_run, "print every step with its source, size, expected time and what it replaces");
  c->add_flag("--yes", a->yes, "do not ask for confirmation (required without a terminal)");
  c->callback([a, &session] {
    // The config may be what is lost (or lack only its key file): a --config
    // that does not load names where it is restored, and what it still says
    // (repository, audit log, node id) serves as the defaults.
    GlobalOptions& g = session.global();
    if (!session.config().ok()) {
      g.config_given = false;
      if (auto cfg = ops::LoadConfigForRecovery(g.config_path); cfg.ok()) {
        if (a->node_id.empty()) a->node_id = cfg->node.id;
        if (a->repo.repo_url.empty()) a->repo.repo_url = cfg->backup.repository;
        if (a->repo.passphrase_file.empty()) a->repo.passphrase_file = cfg->backup.passphrase_file;
        if (g.audit_log.empty()) g.audit_log = cfg->logging.audit_log;
      }
    }
    if (a->node_id.empty()) {
      if (const auto* cfg = session.config_if_loaded()) a->node_id = cfg->node.id;
    }
    if (a->node_id.empty())
      return EndCommand(session, WithHint(InvalidArgument("recover-node: which node? The config did not load"),
                                          "pass --node ID and --repo URL (the repository or a copy of it)"));
    auto s = RepoSession::Open(session, a->repo);
    if (!s.ok()) return EndCommand(session, s.status());
    auto r = Recover(session, *a, *s);
    EndCommand(session, r, AuditRecord(), [](const ops::RecoverNodeResult& x) { return x.ToJson(); }, ReportText);
  });
}

}  // namespace ailee::cli
