#include "ops/recover/recover_node.h"

#include "audit/scoped_op.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "ops/recover/phases.h"

namespace ailee::ops {

namespace recover {

std::string Context::NodeUrl() const {
  if (!config) return "the node's listen address";
  return "http://" + config->node.listen_host + ":" + std::to_string(config->node.listen_port);
}

Result<state::Federation> Context::Federation() const {
  ASSIGN_OR_RETURN(auto keys, config::FederationKeys(*config));
  return state::Federation{std::move(keys), static_cast<int>(config->federation.threshold)};
}

Result<const federation::FederationInForce*> Context::InForce() {
  if (!in_force) {
    ASSIGN_OR_RETURN(federation::InForceOptions o, federation::InForceOptionsOf(*config));
    ASSIGN_OR_RETURN(in_force, federation::ResolveFederationInForce(o));
  }
  return &*in_force;
}

namespace {

using PhaseFn = Result<PhaseOutcome> (*)(Context&);
struct PhaseDef {
  const char* name;
  PhaseFn run;
};
constexpr PhaseDef kPhases[] = {
    {"config", RunConfig}, {"key", RunKey}, {"state", RunState}, {"start", RunStart}, {"health", RunHealth}};

// The journal of this node, once its data dir is known; refuses another node's.
Status OpenJournal(Context& c) {
  if (!c.journal.node_id.empty()) return Status::Ok();
  const std::string path = RecoverJournalPath(c.config->node.data_dir);
  ASSIGN_OR_RETURN(c.journal, ReadRecoverJournal(path));
  if (!c.journal.node_id.empty() && c.journal.node_id != c.options.node_id)
    return WithHint(FailedPrecondition("the recover-node journal " + path + " is of node '" + c.journal.node_id + "'"),
                    "this data dir belongs to another node's config: check --node and --config");
  if (c.journal.node_id.empty()) {
    c.journal.node_id = c.options.node_id;
    c.journal.started_ms = c.run_started_ms;
  }
  return Status::Ok();
}

// The journal and report a killed run was writing (fs::WriteFileAtomic's
// temporary siblings, removed only when their owner is gone).
void RemoveKilledRunsWrites(const Context& c) {
  for (const std::string& file : {RecoverJournalPath(c.config->node.data_dir), RecoverReportPath(c.config->node.data_dir)})
    fs::RemoveAbandoned(fs::Dirname(file), fs::Basename(file) + ".tmp.");
}

Status Record(Context& c, const std::string& phase, const PhaseOutcome& out) {
  nlohmann::json detail = out.detail;
  detail["outcome"] = out.outcome;
  c.journal.finished[phase] = detail;
  return WriteRecoverJournal(RecoverJournalPath(c.config->node.data_dir), c.journal);
}

// Runs one phase with its audit line; the report gets its row either way.
Result<PhaseOutcome> RunPhase(Context& c, const PhaseDef& def, RecoverNodeResult& r) {
  audit::ScopedAuditOp op(c.options.audit, std::string("recover-node.") + def.name, {{"node_id", c.options.node_id}});
  const int64_t start = Clock::Real().MonotonicNanos();
  auto out = def.run(c);
  const int64_t ms = (Clock::Real().MonotonicNanos() - start) / 1000000;
  if (!out.ok()) {
    r.phases.push_back(RecoverPhase{def.name, "failed", ms, {{"error", out.status().message()}}});
    // A failed outcome is returned as it is, recorded or not.
    static_cast<void>(op.Finish(out.status()));
    return out.status().WithContext(std::string("recover-node, phase ") + def.name);
  }
  op.SetMessage(out->outcome);
  if (out->detail.contains("state_root")) op.Touch("state_root:" + out->detail["state_root"].get<std::string>());
  if (out->detail.contains("fingerprint")) op.Touch("fingerprint:" + out->detail["fingerprint"].get<std::string>());
  RETURN_IF_ERROR(op.Finish(Status::Ok()));
  r.phases.push_back(RecoverPhase{def.name, out->outcome, ms, out->detail});
  return out;
}

void NoteSources(const std::string& phase, const nlohmann::json& d, RecoverNodeResult& r) {
  if (phase == "config" && d.contains("snapshot")) r.sources.push_back("config snapshot " + d["snapshot"].get<std::string>());
  if (phase == "key" && d.contains("backup")) r.sources.push_back("key backup " + d["backup"].get<std::string>());
  if (phase == "state" && d.contains("source")) r.sources.push_back("state: " + d["source"].get<std::string>());
}

void MeasureRpo(const Context& c, const nlohmann::json& state, RecoverNodeResult& r) {
  r.recovered_height = state.value("height", uint64_t{0});
  if (!c.network_tip) return;
  r.rpo_blocks = *c.network_tip > r.recovered_height ? *c.network_tip - r.recovered_height : 0;
  const int64_t behind_ms = c.network_tip_time_ms - state.value("timestamp_ms", c.network_tip_time_ms);
  r.rpo_seconds = behind_ms > 0 ? static_cast<double>(behind_ms) / 1000.0 : 0.0;
}

Status RunPhases(Context& c, RecoverNodeResult& r) {
  for (const PhaseDef& def : kPhases) {
    const std::string phase = def.name;
    if (phase == "state" && !c.journal.Finished("state")) RETURN_IF_ERROR(EnsureNodeStopped(c));
    if (phase == "state" && !c.network_tip) AskNetworkTip(c);  // the config came back only now
    ASSIGN_OR_RETURN(PhaseOutcome out, RunPhase(c, def, r));
    NoteSources(phase, out.detail, r);
    if (phase == "config") {
      RETURN_IF_ERROR(OpenJournal(c));  // the data dir is known from here on
      RemoveKilledRunsWrites(c);
    }
    if (phase == "state") MeasureRpo(c, out.detail, r);
    if (!out.stop) RETURN_IF_ERROR(Record(c, phase, out));
    if (out.stop) {
      r.next = "start the node (`" + StartCommand(c) + "`, or rerun with --start), then rerun recover-node: it "
               "continues with the wait for catch-up and the deep health check";
      return Status::Ok();
    }
  }
  r.complete = true;
  return Status::Ok();
}

}  // namespace
}  // namespace recover

nlohmann::ordered_json RecoverNodeResult::ToJson() const {
  nlohmann::ordered_json plan_json = nlohmann::ordered_json::array();
  for (const auto& s : plan)
    plan_json.push_back({{"phase", s.phase}, {"action", s.action}, {"source", s.source}, {"bytes", s.bytes},
                         {"expected_ms", s.expected_ms}, {"replaces", s.replaces},
                         {"finished_before", s.finished_before}});
  nlohmann::ordered_json phase_json = nlohmann::ordered_json::array();
  for (const auto& p : phases)
    phase_json.push_back({{"phase", p.phase}, {"outcome", p.outcome}, {"duration_ms", p.duration_ms}, {"detail", p.detail}});
  nlohmann::ordered_json j = {{"node_id", node_id}, {"dry_run", dry_run}, {"plan", plan_json}};
  if (dry_run) return j;
  j["phases"] = phase_json;
  j["complete"] = complete;
  j["next"] = next;
  j["rto_ms"] = rto_ms;
  j["rto_serving_ms"] = rto_serving_ms ? nlohmann::ordered_json(*rto_serving_ms) : nlohmann::ordered_json();
  j["rto_proven_ms"] = rto_proven_ms ? nlohmann::ordered_json(*rto_proven_ms) : nlohmann::ordered_json();
  j["network_tip"] = network_tip ? nlohmann::ordered_json(*network_tip) : nlohmann::ordered_json();
  j["recovered_height"] = recovered_height;
  j["rpo_blocks"] = rpo_blocks ? nlohmann::ordered_json(*rpo_blocks) : nlohmann::ordered_json();
  j["rpo_seconds"] = rpo_seconds ? nlohmann::ordered_json(*rpo_seconds) : nlohmann::ordered_json();
  j["sources"] = sources;
  j["node_url"] = node_url;
  j["node_pid"] = node_pid;
  j["report"] = report_path;
  return j;
}

Result<RecoverNodeResult> RecoverNode(repo::Repository& repo, const RecoverNodeOptions& options) {
  if (options.node_id.empty()) return InvalidArgument("recover-node: the node id is required (--node, or node.id of the config)");
  recover::Context c(repo, options);
  c.run_started_ms = Clock::Real().NowMillis();
  RecoverNodeResult r;
  r.node_id = options.node_id;
  r.dry_run = options.dry_run;
  // What can be known before anything changes: a config still on this host,
  // and with it the data dir, its journal and the peers.
  if (auto cfg = LoadConfigForRecovery(options.config_path); cfg.ok()) {
    c.config = std::move(*cfg);
    RETURN_IF_ERROR(recover::OpenJournal(c));
  }
  r.plan = {recover::PlanConfig(c), recover::PlanKey(c), recover::PlanState(c), recover::PlanStart(c),
            recover::PlanHealth(c)};
  if (options.dry_run) {
    r.network_tip = c.network_tip;
    return r;
  }

  audit::ScopedAuditOp whole(options.audit, "recover-node", {{"node_id", options.node_id}, {"config", options.config_path}});
  if (c.config && !c.journal.Finished("state")) RETURN_IF_ERROR(whole.Finish(recover::EnsureNodeStopped(c)));
  if (options.confirm) RETURN_IF_ERROR(whole.Finish(options.confirm(r.plan)));
  Status st = recover::RunPhases(c, r);
  if (!st.ok()) return whole.Finish(st);
  r.network_tip = c.network_tip;
  r.node_url = c.NodeUrl();
  r.node_pid = c.node_pid;
  r.rto_ms = Clock::Real().NowMillis() - c.journal.started_ms;
  if (c.serving_at_ms) r.rto_serving_ms = *c.serving_at_ms - c.journal.started_ms;
  if (c.proven_at_ms) r.rto_proven_ms = *c.proven_at_ms - c.journal.started_ms;
  const std::string journal = RecoverJournalPath(c.config->node.data_dir);
  r.report_path = RecoverReportPath(c.config->node.data_dir);
  whole.Touch("report:" + r.report_path);
  whole.SetMessage(r.complete ? "recovered to height " + std::to_string(r.recovered_height) + ", RTO " +
                                    std::to_string(r.rto_ms) + " ms, RPO " +
                                    (r.rpo_blocks ? std::to_string(*r.rpo_blocks) + " blocks" : std::string("unknown"))
                              : "stopped: " + r.next);
  RETURN_IF_ERROR(whole.Finish(fs::WriteFileAtomic(r.report_path, r.ToJson().dump(2) + "\n", 0600)));
  // Finished: the next run is a new recovery (refused while the node runs).
  if (r.complete) RETURN_IF_ERROR(fs::RemoveAll(journal));
  return r;
}

}  // namespace ailee::ops
