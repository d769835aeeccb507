// federation propose|sign|apply|show: a change of the federation (its
// signers and threshold) built against the epoch in force, approved offline
// by the signers who must, committed by the leader, and every epoch listed
// (docs/emergency.md; the jobs: ops/federation/).
#include <iostream>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/signer_flags.h"
#include "config/node_access.h"
#include "crypto/hash.h"
#include "ops/emergency/emergency.h"
#include "ops/federation/apply.h"
#include "ops/federation/node_view.h"
#include "ops/federation/propose.h"
#include "ops/federation/sign.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

std::string IdList(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out.empty() ? "none" : out;
}

Status ParseAdds(const std::vector<std::string>& adds, std::map<std::string, std::string>* out) {
  for (const auto& a : adds) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
      return InvalidArgument("--add " + a + ": expected ID=PUBKEY.pem");
    if (!out->emplace(a.substr(0, eq), a.substr(eq + 1)).second)
      return InvalidArgument("--add " + a.substr(0, eq) + " given twice");
  }
  return Status::Ok();
}

void SetUpPropose(CLI::App& group, Session& s) {
  struct Args {
    ops::federation::ProposeOptions o;
    std::vector<std::string> adds;
    std::string url;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = group.add_subcommand(
      "propose",
      "Write a federation change against the epoch in force on the node and for its chain (the hash of\n"
      "its block 1), for the signers to approve.\n"
      "Normal: approved by the outgoing federation's threshold. --break-glass (the old keys cannot be\n"
      "trusted): approved by the incoming federation's threshold, with a --reason.");
  cmd->add_option("--out", a->o.out, "proposal file to create (must not exist)")->required();
  cmd->add_option("--add", a->adds, "a new signer ID=PUBKEY.pem (repeatable)");
  cmd->add_option("--remove", a->o.remove, "a signer to remove, by id (repeatable)");
  cmd->add_option("--threshold", a->o.threshold, "the incoming federation's threshold")->required();
  cmd->add_flag("--break-glass", a->o.break_glass, "emergency: approved by the incoming signers (needs --reason)");
  cmd->add_option("--reason", a->o.reason, "why (recorded in the chain and the audit log)");
  cmd->add_option("--operator", a->o.operator_id, "who proposes (default: the login name)");
  cmd->add_option("--url", a->url, "node API URL (default: from the config's node.listen)");
  cmd->callback([&s, a] {
    if (a->o.operator_id.empty()) a->o.operator_id = ops::DefaultOperator();
    a->o.node_url = NodeUrlFor(s, a->url);
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, "federation.propose",
                            {{"out", a->o.out}, {"add", a->adds}, {"remove", a->o.remove}, {"threshold", a->o.threshold},
                             {"break_glass", a->o.break_glass}, {"reason", a->o.reason}, {"operator", a->o.operator_id}});
    Status parsed = ParseAdds(a->adds, &a->o.add);
    if (!parsed.ok()) return EndCommand(s, parsed, op);
    // The genesis members' keys: the config's federation section (checked
    // against the node's genesis fingerprint by the job).
    auto cfg = s.RequireConfig();
    if (!cfg.ok()) return EndCommand(s, cfg.status().WithContext("the genesis federation comes from the config"), op);
    auto genesis = FederationOf(**cfg);
    if (!genesis.ok()) return EndCommand(s, genesis.status(), op);
    a->o.genesis = std::move(*genesis);
    auto r = ops::federation::Propose(a->o);
    EndCommand(
        s, r, op,
        [&](const ops::federation::ProposeResult& p) {
          return json{{"ok", true}, {"path", a->o.out}, {"outgoing_epoch", p.proposal.outgoing_epoch},
                      {"status", ops::federation::ProposalStatusJson(p.status)},
                      {"change", state::FederationChangeToJson(p.proposal.change)}};
        },
        [&](const ops::federation::ProposeResult& p) {
          return Lines({"wrote " + a->o.out + ": " + ops::federation::DescribeProposal(p.proposal, p.status),
                        "next: `ailee-cli federation sign " + a->o.out + " --id ID` by " +
                            std::to_string(p.status.approvals_needed) + " of " + IdList(p.status.approvers) +
                            ", then `ailee-cli federation apply " + a->o.out + "`"});
        });
  });
}

void SetUpSign(CLI::App& group, Session& s) {
  struct Args {
    ops::federation::SignOptions o;
    SignerFlags key;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = group.add_subcommand(
      "sign",
      "Approve a proposed federation change with one signer's key (offline). The key must be the\n"
      "member's it claims to be (by fingerprint): outgoing members approve a normal change, incoming\n"
      "members a break-glass one. The chain the change is for (the hash of its block 1) and the change\n"
      "are shown before the key is opened.");
  cmd->add_option("change", a->o.path, "proposal file (rewritten with the approval)")->required();
  cmd->add_option("--id", a->o.signer_id, "the approving signer's id")->required();
  AddSignerFlags(cmd, &a->key, "--key-file");
  cmd->callback([&s, a] {
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, "federation.sign", {{"change", a->o.path}, {"id", a->o.signer_id}});
    // Shown before the key is opened (its PIN may be asked next), so the
    // signer sees which chain and what they approve and can stop here. A
    // file that does not read is SignProposal's error to report.
    if (!s.global().quiet && !s.global().json) {
      if (auto p = ops::federation::ReadProposal(a->o.path); p.ok()) {
        std::cerr << "approving for chain " << crypto::HashToHex(p->change.chain_id) << " (the hash of its block 1): "
                  << ops::federation::DescribeProposal(*p, ops::federation::Assess(*p)) << std::endl;
      }
    }
    auto signer = OpenSigner(a->key, a->o.signer_id, s.config_if_loaded());
    if (!signer.ok()) return EndCommand(s, signer.status(), op);
    auto r = ops::federation::SignProposal(a->o, **signer);
    if (r.ok()) op.Touch("key:" + r->fingerprint);
    EndCommand(
        s, r, op,
        [&](const ops::federation::SignResult& sr) {
          return json{{"ok", true},
                      {"path", a->o.path},
                      {"signer_id", a->o.signer_id},
                      {"fingerprint", sr.fingerprint},
                      {"chain_id", crypto::HashToHex(sr.proposal.change.chain_id)},
                      {"replaced", sr.replaced},
                      {"status", ops::federation::ProposalStatusJson(sr.status)}};
        },
        [&](const ops::federation::SignResult& sr) {
          return Lines({a->o.signer_id + " (" + sr.fingerprint + ") approved " +
                            ops::federation::DescribeProposal(sr.proposal, sr.status),
                        sr.status.ready() ? "ready: `ailee-cli federation apply " + a->o.path + "`"
                                          : "needs " + std::to_string(sr.status.approvals_needed -
                                                                      static_cast<int>(sr.status.approved_by.size())) +
                                                " more approval(s) from " + IdList(sr.status.approvers)});
        });
  });
}

void SetUpApply(CLI::App& group, Session& s) {
  struct Args {
    ops::federation::ApplyOptions o;
    std::string url;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = group.add_subcommand(
      "apply",
      "Submit an approved federation change to the leader, which commits it in its next block (also\n"
      "while halted); it takes effect at the block after. Rerun after a failure: a change already in\n"
      "the chain is reported, not applied twice.");
  cmd->add_option("change", a->o.path, "proposal file")->required();
  cmd->add_option("--url", a->url, "leader API URL (default: from the config's node.listen)");
  cmd->callback([&s, a] {
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    a->o.node_url = NodeUrlFor(s, a->url);
    audit::ScopedAuditOp op(*log, "federation.apply", {{"change", a->o.path}, {"node", a->o.node_url}});
    auto cfg = s.RequireConfig();
    if (!cfg.ok()) return EndCommand(s, cfg.status().WithContext("the admin token comes from the config"), op);
    auto token = config::ReadAdminToken(**cfg);
    if (!token.ok()) return EndCommand(s, token.status(), op);
    a->o.admin_token = *token;
    auto r = ops::federation::ApplyProposal(a->o);
    if (r.ok()) op.Touch("epoch:" + std::to_string(r->epoch));
    EndCommand(
        s, r, op,
        [&](const ops::federation::ApplyResult& ar) {
          return json{{"ok", true}, {"height", ar.height}, {"activation_height", ar.activation_height},
                      {"epoch", ar.epoch}, {"already_applied", ar.already_applied}};
        },
        [&](const ops::federation::ApplyResult& ar) {
          return std::string(ar.already_applied ? "already in the chain: " : "committed: ") + "epoch " +
                 std::to_string(ar.epoch) + " by the block at height " + std::to_string(ar.height) +
                 ", in force from height " + std::to_string(ar.activation_height);
        });
  });
}

std::string EpochLine(const ops::federation::EpochView& e) {
  std::vector<std::string> ids;
  for (const auto& [id, fingerprint] : e.signers) ids.push_back(id);
  std::string line = "epoch " + std::to_string(e.number) + " from height " + std::to_string(e.start_height) + ": " +
                     IdList(ids) + " (threshold " + std::to_string(e.threshold) + "); ";
  if (e.number == 0) return line + "genesis (the config's federation)";
  line += e.authorization + " change at height " + std::to_string(e.change_height);
  if (!e.approvals.empty()) line += ", approved by " + IdList(e.approvals);
  if (!e.operator_id.empty()) line += ", operator " + e.operator_id;
  if (!e.reason.empty()) line += ": " + e.reason;
  return line;
}

void SetUpShow(CLI::App& group, Session& s) {
  auto url = std::make_shared<std::string>();
  auto* cmd = group.add_subcommand(
      "show",
      "List the chain id and every federation epoch: from which height, its signers and threshold, how it was "
      "authorised.");
  cmd->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  cmd->callback([&s, url] {
    auto view = ops::federation::FetchFederation(NodeUrlFor(s, *url));
    EndCommand(
        s, view, {}, [](const ops::federation::FederationView& v) { return v.raw; },
        [](const ops::federation::FederationView& v) {
          std::vector<std::string> lines;
          lines.push_back("chain " + (v.chain_id.empty() ? std::string("(no block 1 yet)") : v.chain_id) +
                          " (the hash of block 1: every federation change names it)");
          for (const auto& e : v.epochs) lines.push_back(EpochLine(e));
          return Lines(lines);
        });
  });
}

}  // namespace

void SetUpFederationCommand(CLI::App& parent, Session& s) {
  auto* group = parent.add_subcommand("federation",
                                      "Change the federation (signers, threshold) through the chain, and list its epochs\n"
                                      "(docs/emergency.md).");
  group->require_subcommand(1);
  SetUpPropose(*group, s);
  SetUpSign(*group, s);
  SetUpApply(*group, s);
  SetUpShow(*group, s);
}

}  // namespace ailee::cli
