// The five phases of recover-node (recover_node.h), each planned (for the
// dry run and the confirmation) and run on one shared context. Internal to
// ops/recover.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "ops/federation/in_force.h"
#include "ops/recover/journal.h"
#include "ops/recover/recover_node.h"
#include "state/federation.h"

namespace ailee::ops::recover {

struct Context {
  Context(repo::Repository& r, const RecoverNodeOptions& o) : repo(r), options(o) {}
  repo::Repository& repo;
  const RecoverNodeOptions& options;
  std::optional<config::NodeConfig> config;  // loaded (or restored) by the config phase
  RecoverJournal journal;
  std::optional<uint64_t> network_tip;       // the highest peer's height, asked once
  int64_t network_tip_time_ms = 0;
  int node_pid = 0;
  int64_t run_started_ms = 0;  // this run's start: a new journal's start (the RTO counts from it)
  std::optional<crypto::SecureBytes> pkcs11_pin;  // read once (the plan or the key phase)
  std::optional<federation::FederationInForce> in_force;  // resolved once (the plan or the key phase)
  // Unix ms when the node answered with its background proof running, and
  // when the proof passed (prove_in_background only).
  std::optional<int64_t> serving_at_ms, proven_at_ms;

  std::string NodeUrl() const;  // the config's listen address as http://host:port
  // The GENESIS federation (the config's): what state proofs take.
  Result<state::Federation> Federation() const;
  // The federation in force at the network's tip, proven from the data dir
  // or the config's nodes (ops/federation/in_force.h): what the key is
  // checked against. Resolved on first use.
  Result<const federation::FederationInForce*> InForce();
  void Progress(const std::string& phase, const std::string& what) const {
    if (options.progress) options.progress(phase, what);
  }
};

// What a phase did: its outcome and detail (recorded in the journal and the report).
struct PhaseOutcome {
  std::string outcome;
  nlohmann::json detail = nlohmann::json::object();
  bool stop = false;  // the run ends after this phase (start: nobody started the node)
};

// The config file the node's latest config snapshot would restore; plans it.
RecoverStep PlanConfig(Context& c);
Result<PhaseOutcome> RunConfig(Context& c);

// Reads the PKCS#11 PIN when it can without a terminal (kept for the run).
RecoverStep PlanKey(Context& c);
Result<PhaseOutcome> RunKey(Context& c);

// Asks the config's peers (and leader) for the network's tip: c.network_tip
// and its time; unset when none answers.
void AskNetworkTip(Context& c);
// Asks for the network's tip too (a config is there to name the peers).
RecoverStep PlanState(Context& c);
Result<PhaseOutcome> RunState(Context& c);
// Refuses (kFailedPrecondition with the fix) while the node runs or a
// process holds its data dir.
Status EnsureNodeStopped(const Context& c);

RecoverStep PlanStart(const Context& c);
Result<PhaseOutcome> RunStart(Context& c);

RecoverStep PlanHealth(const Context& c);
Result<PhaseOutcome> RunHealth(Context& c);

// The exact command that starts the node by hand.
std::string StartCommand(const Context& c);

}  // namespace ailee::ops::recover
