#include "node/node.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "node/client.h"
#include "node/emergency_api.h"
#include "node/http_api.h"
#include "node/http_reply.h"
#include "node/tx_batch_api.h"
#include "node/leader_gate.h"
#include "node/signer_epoch.h"
#include "keys/secret_input.h"
#include "state/proof_pending.h"

namespace ailee::node {

Node::Node(NodeOptions options) : options_(std::move(options)) {
  follow_url_ = options_.follow_url.empty() ? options_.config.follow : options_.follow_url;
}

Node::~Node() {
  Stop();
  Wait();
}

Result<std::unique_ptr<Node>> Node::Create(NodeOptions options) {
  std::unique_ptr<Node> node(new Node(std::move(options)));
  RETURN_IF_ERROR(node->Init());
  return node;
}

namespace {

// The largest body any endpoint takes: a POST /v1/txs batch at its bound.
constexpr size_t kMaxRequestBodyBytes = kMaxTxBatchBytes;

// The admin token authorizes checkpoint creation. It lives in a 0600 file
// that only the node's user (and root) can read; created once, reused after.
Result<std::string> LoadOrCreateAdminToken(const std::string& path) {
  if (fs::Exists(path)) {
    ASSIGN_OR_RETURN(std::string token, fs::ReadFile(path));
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.size() < 32) return InvalidArgument("admin token file " + path + " holds a token shorter than 32 characters");
    return token;
  }
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(path)));
  std::string token = HexEncode(crypto::RandomBytes(32));
  Status st = fs::WriteFileExclusive(path, token + "\n", 0600);
  if (st.code() == StatusCode::kAlreadyExists) return LoadOrCreateAdminToken(path);
  RETURN_IF_ERROR(st);
  return token;
}

// The block-signing key: a PKCS#11 token (PIN from signer.pkcs11.pin_file or
// $AILEE_PKCS11_PIN) or a PEM file. Either way only Sign() is used.
Result<std::unique_ptr<keys::Signer>> OpenSigner(const config::NodeConfig& cfg) {
  if (cfg.signer->pkcs11) {
    const auto& p = *cfg.signer->pkcs11;
    // The same rule as test-signer, `keys restore` and recover-node (the
    // file's first line): a PIN file ending in a newline that passed
    // test-signer must not fail the node's login.
    keys::SecretSource src;
    src.file = p.pin_file;
    src.env = keys::kPinEnv;
    src.allow_tty = false;
    auto read = keys::ReadSecret(src);
    if (!read.ok() && read.status().code() == StatusCode::kNotFound && p.pin_file.empty())
      return InvalidArgument("signer.pkcs11.pin_file: a PIN is needed (or set $" + std::string(keys::kPinEnv) + ")");
    if (!read.ok()) return read.status().WithContext("reading the PKCS#11 user PIN (signer.pkcs11.pin_file)");
    crypto::SecureBytes pin = std::move(*read);
    keys::Pkcs11SignerOptions o{p.module, p.token_label, keys::Pkcs11KeyRef{p.key_label, ""}};
    ASSIGN_OR_RETURN(auto signer, keys::Pkcs11Signer::Open(o, pin));
    return std::unique_ptr<keys::Signer>(std::move(signer));
  }
  ASSIGN_OR_RETURN(auto signer, keys::FileSigner::Open(cfg.signer->key_file));
  return std::unique_ptr<keys::Signer>(std::move(signer));
}

// Outside the data dir, with the key (docs/keys.md "The signing fence").
std::string FencePath(const config::NodeConfig& cfg) {
  if (cfg.signer->pkcs11) {
    const auto& p = *cfg.signer->pkcs11;
    return keys::FencePathForPkcs11(cfg.config_dir, p.token_label, p.key_label, p.fence_file);
  }
  return keys::FencePathForKeyFile(cfg.signer->key_file);
}

}  // namespace

Status Node::Init() {
  const auto& cfg = options_.config;
  ASSIGN_OR_RETURN(auto keys, config::FederationKeys(cfg));
  federation_.signers = std::move(keys);
  federation_.threshold = static_cast<int>(cfg.federation.threshold);

  if (!is_follower()) {
    if (!cfg.signer) return InvalidArgument("signer: a leader needs a signer section (or run with --follow URL)");
    ASSIGN_OR_RETURN(signer_, OpenSigner(cfg));
    // Fail closed: a fence that cannot be read means the node does not sign.
    ASSIGN_OR_RETURN(fence_, keys::SigningFence::Open(FencePath(cfg)));
  }
  RETURN_IF_ERROR(fs::MakeDirs(cfg.node.data_dir));
  auto opened = state::StateDb::Open(cfg.node.data_dir, state::OpenOptions{});
  // A restored state damaged so that it does not even open has failed its
  // proof: recorded in its marker, exit 3 and what to do, as a proof that ran.
  if (!opened.ok()) return FailedProofIfPending(cfg.node.data_dir, opened.status());
  db_ = std::move(opened).value();
  // Read while the database is held: an unreadable marker means an unproven
  // state, so the node does not start on it.
  ASSIGN_OR_RETURN(auto pending, state::ReadProofPending(cfg.node.data_dir));
  if (pending) {
    if (!pending->last_failure.empty()) {
      spdlog::warn("the proof of this restored state failed before ({}, {}); proving it again",
                   pending->last_failure, FormatUtc(pending->failed_unix));
    }
    spdlog::warn("{} holds a restored state not proven yet ({}, height {}): proving it in the background; no block "
                 "is signed or applied and only status, health and metrics are served until it passes",
                 cfg.node.data_dir, pending->source, pending->height);
    proof_ = std::make_unique<BackgroundProof>(BackgroundProofOptions{
        cfg.node.data_dir, *pending, federation_, options_.proof_max_blocks_per_second});
  }
  // The chain's epochs must follow from the configured genesis federation
  // (kFailedPrecondition naming an edited federation section otherwise).
  ASSIGN_OR_RETURN(state::FederationHistory history, db_->Federations(federation_));
  if (signer_) {
    RETURN_IF_ERROR(CheckSignerKeyInChain(history, cfg.signer->id, signer_->public_key())
                        .WithContext("the key at " + signer_->Describe()));
    Status may = CheckMaySign(history, cfg.signer->id, db_->Tip().height + 1);
    if (!may.ok()) spdlog::warn("{} (checked again after catching up from the peers)", may.message());
  }
  ASSIGN_OR_RETURN(admin_token_, LoadOrCreateAdminToken(cfg.node.admin_token_file));
  mempool_ = std::make_unique<Mempool>(*db_, federation_, static_cast<size_t>(options_.config.node.mempool_capacity));
  emergency_ = std::make_unique<EmergencyControl>(*db_);
  RETURN_IF_ERROR(emergency_->Load());
  if (auto halt = emergency_->halt(); halt && !is_follower()) {
    spdlog::warn("{}: not producing blocks until `ailee-cli emergency resume`", DescribeHalt(*halt));
  }
  sync_.state = is_follower() ? "connecting" : "waiting_for_tip";
  sync_.reason = is_follower() ? "" : "asking the peers for the network's tip";
  if (!is_follower() && options_.allow_lone_start) RETURN_IF_ERROR(AuditLoneStart());
  return Status::Ok();
}

// An operator's override goes to the audit log before the node acts on it;
// the node does not act if it cannot be recorded.
Status Node::Audit(const std::string& operation, const std::string& message,
                   const std::vector<std::pair<std::string, std::string>>& fields) {
  const auto& cfg = options_.config;
  ASSIGN_OR_RETURN(auto log, audit::AuditLog::Open(cfg.logging.audit_log));
  audit::AuditEvent e;
  e.operation = operation;
  e.args = {{"node_id", cfg.node.id},
            {"data_dir", cfg.node.data_dir},
            {"tip_height", db_->Tip().height},
            {"fence", fence_->path()},
            {"fence_height", fence_->state().height},
            {"peers", cfg.peers}};
  for (const auto& [key, value] : fields) e.args[key] = value;
  e.message = message;
  auto head = log->Append(e);
  if (!head.ok()) return head.status().WithContext("recording " + operation + " in the audit log " + log->path());
  spdlog::warn("{}: recorded in the audit log {} (seq {})", operation, log->path(), head->seq);
  return Status::Ok();
}

void Node::AuditEmergency(const std::string& action, const EmergencyRequest& request, const Status& outcome) {
  const std::string message = "emergency " + action + " by " + request.operator_id + " (reason: " + request.reason +
                              "): " + (outcome.ok() ? "done" : outcome.ToString());
  if (outcome.ok()) spdlog::warn("{}", message);
  Status st = Audit("node.emergency." + action, message,
                    {{"operator", request.operator_id}, {"reason", request.reason},
                     {"result", outcome.ok() ? "ok" : std::string(StatusCodeName(outcome.code()))}});
  if (!st.ok()) spdlog::error("{}", st.ToString());
}

void Node::AuditFederationChange(const state::FederationChange& change, const Result<uint64_t>& outcome) {
  std::string approvals;
  for (const auto& a : change.approvals) approvals += (approvals.empty() ? "" : ",") + a.signer_id;
  const std::string authorization(state::ChangeAuthorizationName(change.authorization));
  const std::string message = "federation change (" + authorization + ") replacing epoch " +
                              std::to_string(change.outgoing_epoch) + " by " + change.operator_id + " (reason: " +
                              change.reason + "): " + (outcome.ok() ? "committed" : outcome.status().ToString());
  spdlog::warn("{}", message);
  Status st = Audit("node.federation_change", message,
                    {{"operator", change.operator_id},
                     {"reason", change.reason},
                     {"authorization", authorization},
                     {"approvals", approvals},
                     {"chain_id", crypto::HashToHex(change.chain_id)},  // a replay names the chain it came from
                     {"height", outcome.ok() ? std::to_string(*outcome) : std::string()},
                     {"result", outcome.ok() ? "ok" : std::string(StatusCodeName(outcome.status().code()))}});
  if (!st.ok()) spdlog::error("{}", st.ToString());
}

Status Node::AuditLoneStart() {
  return Audit("node.allow_lone_start",
               "leader started with --allow-lone-start: it may lead without learning the network's tip (never at or "
               "below its signing fence)");
}

Status Node::RecreateFenceAtTip() {
  if (proof_) {
    return FailedPrecondition("--recreate-fence: the data dir holds a restored state whose proof is pending (" +
                              std::string(state::kProofPendingName) + "); start the node and let the proof pass first");
  }
  if (!fence_) return InvalidArgument("--recreate-fence: this node is a follower; the fence belongs to a leader's signer");
  const state::ChainTip tip = db_->Tip();
  if (tip.height == 0) return FailedPrecondition("--recreate-fence: the data dir is empty; recover the tip first");
  ASSIGN_OR_RETURN(state::Block block, db_->GetBlock(tip.height));
  RETURN_IF_ERROR(fence_->Advance(tip.height, tip.block_hash, ""));
  return Audit("node.recreate_fence", "signing fence re-created at the data dir's tip, block " +
                                          std::to_string(tip.height) + " " + crypto::HashToHex(block.header.Hash()));
}

Status Node::Start() {
  http_ = std::make_unique<httplib::Server>();
  http_->set_tcp_nodelay(true);
  // httplib reads a whole body before any handler (the admin token check
  // included) runs, and by default of any size: an unauthenticated caller
  // could make the node buffer gigabytes. The largest legitimate body, a
  // federation change of 100 signers with their approvals, is under 400 KiB;
  // a transaction batch at its bound (tx_batch_api.h) is the largest of all.
  http_->set_payload_max_length(kMaxRequestBodyBytes);
  // httplib answers a body over that bound itself (413, no handler runs):
  // with the JSON error document every endpoint answers with.
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (res.status != 413 || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    Reply(res,
          {{"error", "request body over " + std::to_string(kMaxRequestBodyBytes) +
                         " bytes, the most any endpoint takes (a POST /v1/txs batch): send less per request"},
           {"code", std::string(StatusCodeName(StatusCode::kInvalidArgument))}},
          413);
    return httplib::Server::HandlerResponse::Handled;
  }));
  InstallHttpApi(*http_, *this);
  InstallEmergencyApi(*http_, *this);
  const auto& n = options_.config.node;
  if (n.listen_port == 0) {
    port_ = http_->bind_to_any_port(n.listen_host);
  } else {
    port_ = http_->bind_to_port(n.listen_host, n.listen_port) ? n.listen_port : -1;
  }
  if (port_ <= 0) {
    return Unavailable("cannot listen on " + n.listen + " (address in use or not permitted)");
  }
  http_thread_ = std::thread([this] { http_->listen_after_bind(); });
  if (proof_) proof_->Start(*db_, [this](const Status& outcome) { OnProofDone(outcome); });
  worker_ = std::thread([this] { is_follower() ? FollowerLoop() : LeaderLoop(); });
  spdlog::info("node {} {} on {}:{} at height {}", n.id, is_follower() ? "following " + follow_url_ : "leading",
               n.listen_host, port_, db_->Tip().height);
  return Status::Ok();
}

void Node::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (proof_) proof_->Cancel();
  control_.Shutdown();
  if (http_) http_->stop();
}

void Node::Wait() {
  if (worker_.joinable()) worker_.join();
  if (http_thread_.joinable()) http_thread_.join();
  if (proof_) proof_->Join();  // it reads db_
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopped_ && stopping_) {
    stopped_ = true;
    db_.reset();  // closes RocksDB: flushes nothing new, WAL is already synced
    spdlog::info("node {} stopped", options_.config.node.id);
  }
}

Status Node::exit_status() const {
  std::lock_guard<std::mutex> lock(sync_mu_);
  return exit_status_;
}

void Node::OnProofDone(const Status& outcome) {
  if (outcome.ok()) {
    const auto p = proof_->Snapshot();
    spdlog::info("the restored state at height {} is proven ({:.1f} s): signing and serving", proof_->marker().height,
                 static_cast<double>(p.finished_at_ms - p.started_at_ms) / 1000.0);
    { std::lock_guard<std::mutex> lock(mu_); }  // a waiter between its check and its wait sees the change
    cv_.notify_all();
    return;
  }
  // Never serve or sign an unproven state: stop, and say what to do.
  spdlog::error("stopping: {}", outcome.ToString());
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    exit_status_ = outcome;
  }
  Stop();
}

bool Node::WaitUntilProven() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stopping_ || !gated(); });
  return !stopping_;
}

bool Node::SleepFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

void Node::SetSync(std::string state, std::string reason, std::optional<ForkInfo> fork) {
  std::lock_guard<std::mutex> lock(sync_mu_);
  if (sync_.state != state || sync_.reason != reason) {
    if (fork) {
      spdlog::error("{}: {}", state, reason);
    } else if (!reason.empty()) {
      spdlog::warn("{}: {}", state, reason);
    } else {
      spdlog::info("{}", state);
    }
  }
  sync_ = SyncReport{std::move(state), std::move(reason), std::move(fork)};
}

SyncReport Node::Sync() const {
  if (gated()) {
    const ProofProgress p = proof_->Snapshot();
    const std::string what = "the restored state (height " + std::to_string(proof_->marker().height) + ")";
    if (p.state == "failed") return SyncReport{"proof_failed", what + " does not prove out: " + p.problem, {}};
    return SyncReport{"proof_running", "proof running: proving " + what + " before signing or serving (" + p.phase +
                                           " " + std::to_string(p.done) + "/" + std::to_string(p.total) + ")", {}};
  }
  SyncReport r;
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    r = sync_;
  }
  if (is_follower() && r.state != "forked") r.state = SyncState();
  return r;
}

std::string Node::SyncState() const {
  if (gated()) return Sync().state;
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    if (!is_follower() || sync_.state == "forked") return sync_.state;
  }
  uint64_t leader = counters_.leader_height.load();
  if (counters_.last_sync_ok_unix_ms.load() == 0) return "connecting";
  uint64_t height = db_->Tip().height;
  return height >= leader ? "synced" : "catching_up";
}

void Node::ApplyFencedPendingBlock() {
  const keys::FenceState& f = fence_->state();
  const state::ChainTip tip = db_->Tip();
  if (f.pending_block.empty() || f.height != tip.height + 1) return;
  auto block = state::DecodeBlock(f.pending_block);
  if (!block.ok() || block->header.Hash() != f.block_hash || block->header.prev_hash != tip.block_hash) return;
  Status st = db_->ApplyBlock(*block, federation_, static_cast<uint64_t>(options_.config.node.commitment_interval));
  if (st.ok()) {
    spdlog::info("applied block {} from the signing fence: it was signed and fenced but not committed before the last stop",
                 f.height);
  } else {
    spdlog::error("the block in the signing fence does not apply: {}", st.ToString());
  }
}

std::optional<ForkInfo> Node::FenceFork() const {
  const keys::FenceState& f = fence_->state();
  if (f.height == 0 || db_->Tip().height < f.height) return std::nullopt;
  auto ours = db_->GetBlock(f.height);
  if (!ours.ok() || ours->header.Hash() == f.block_hash) return std::nullopt;
  return ForkInfo{f.height, ours->header.Hash(), f.block_hash, "the signing fence " + fence_->path()};
}

bool Node::EstablishTip() {
  const auto& cfg = options_.config;
  const uint64_t interval = static_cast<uint64_t>(cfg.node.commitment_interval);
  std::vector<NodeClient> peers;
  for (const auto& url : cfg.peers) peers.emplace_back(url, "", 3000);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
    }
    ApplyFencedPendingBlock();
    LeaderGateFacts facts{peers.size(), 0, 0, 0, fence_->state().height, options_.allow_lone_start};
    NodeClient* best = nullptr;
    std::vector<std::string> silent;
    for (auto& p : peers) {
      auto st = p.GetJson("/v1/status");
      if (!st.ok() || !st->contains("height") || !(*st)["height"].is_number_unsigned()) {
        silent.push_back(st.ok() ? p.url() + " answered without a height" : st.status().message());
        continue;
      }
      // A peers list that names this node (a config copied from a follower,
      // or the node's own URL) must not count as the network vouching for
      // our tip: it would let a leader whose fence is lost lead from an old
      // data dir.
      if (st->value("node_id", "") == cfg.node.id) {
        silent.push_back(p.url() + " is this node itself (same node_id " + cfg.node.id + "), not a peer");
        continue;
      }
      facts.peers_answered++;
      const uint64_t h = (*st)["height"].get<uint64_t>();
      if (!best || h > facts.best_peer_height) best = &p, facts.best_peer_height = h;
    }
    std::optional<ForkInfo> fork;
    uint64_t applied = 0;
    std::string pull_error;  // shown in the status: a peer that lies about its height stalls us visibly
    if (best && facts.best_peer_height > db_->Tip().height) {
      auto pulled = PullOnce(*best, *db_, federation_, interval);
      if (pulled.ok()) {
        applied = pulled->applied;
        counters_.blocks_applied += applied;
        fork = pulled->fork;
      } else {
        spdlog::warn("catching up from {}: {}", best->url(), pulled.status().ToString());
        pull_error = "fetching blocks from " + best->url() + " fails: " + pulled.status().message();
      }
    }
    if (!fork) fork = FenceFork();
    for (auto& p : peers) {
      if (fork) break;
      auto cmp = CompareAt(p, *db_, db_->Tip().height);
      if (cmp.ok()) fork = *cmp;
    }
    if (fork) {
      SetSync("forked", fork->Describe() + "; not producing", fork);
      return false;
    }
    facts.tip_height = db_->Tip().height;
    LeaderGateDecision d = DecideLeaderStart(facts);
    if (d.produce) return true;
    if (!silent.empty() && d.state == "waiting_for_tip") d.reason += " [" + silent.front() + "]";
    if (!pull_error.empty() && d.state == "catching_up") d.reason += "; " + pull_error;
    SetSync(d.state, d.reason);
    if ((d.state != "catching_up" || applied == 0) && !SleepFor(1000)) return false;
  }
}

void Node::LeaderLoop() {
  if (!WaitUntilProven() || !EstablishTip()) return;
  SetSync("leader", "");
  const auto& cfg = options_.config;
  const int64_t interval = cfg.node.block_interval_ms;
  int64_t next = Clock::Real().NowMillis() + interval;
  for (;;) {
    int64_t wait = next - Clock::Real().NowMillis();
    if (wait > 0 && !SleepFor(wait)) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    next += interval;
    int64_t now = Clock::Real().NowMillis();
    if (next < now) next = now + interval;  // fell behind: do not burst
    if (!SignerMaySignNext()) continue;
    // From the halt check below until the block is committed: a halt waits.
    std::unique_lock<std::mutex> producing(production_mu_);
    int64_t t0 = Clock::Real().MonotonicNanos();
    const uint64_t height = db_->Tip().height + 1;
    // Control records (federation changes, peg freezes) head the block: a
    // freeze applies to the block's own peg txs. While halted they are all
    // it carries, and with none there is no block.
    ControlQueue::Taken control = control_.Take();
    std::vector<state::Transaction> txs = std::move(control.txs);
    for (auto& tx : txs) {
      if (tx.federation_change) tx.federation_change->activation_height = height + 1;
    }
    Mempool::Taken pending;  // its signatures were verified at intake
    if (emergency_->halt()) {
      if (txs.empty()) continue;
    } else {
      pending = mempool_->Take(options_.max_block_txs);
      txs.reserve(txs.size() + pending.txs.size());  // up to max_block_txs: no regrowth
      for (auto& tx : pending.txs) txs.push_back(std::move(tx));
    }
    int64_t ts = std::max(now, db_->Tip().timestamp_ms);
    auto sign = fence_->Guard(height, [this](std::string_view m) { return signer_->Sign(m); });
    // Fenced before it is committed, so before anyone can fetch it.
    auto fence = [this](const state::Block& b) {
      return fence_->Advance(b.header.height, b.header.Hash(), state::EncodeBlock(b));
    };
    auto produced = db_->ProduceBlock(std::move(txs), sign, cfg.signer->id, ts,
                                      static_cast<uint64_t>(cfg.node.commitment_interval), federation_, fence,
                                      &pending.verified);
    mempool_->OnBlockCommitted();
    control_.Resolve(control, produced);
    if (!produced.ok()) {
      spdlog::error("block production failed: {}", produced.status().ToString());
      continue;
    }
    counters_.blocks_produced++;
    counters_.tx_rejected += produced->rejected.size();
    counters_.last_block_ms = (Clock::Real().MonotonicNanos() - t0) / 1000000;
    for (const auto& r : produced->rejected) {
      spdlog::warn("block {}: dropped tx {}: {}", produced->block.header.height, crypto::HashToHex(r.tx_id),
                   r.reason.message());
    }
  }
}

Status Node::HaltProduction(const EmergencyRequest& request, int64_t now_ms) {
  std::lock_guard<std::mutex> producing(production_mu_);
  return emergency_->Halt(request, now_ms);
}

bool Node::SignerMaySignNext() {
  auto history = db_->Federations(federation_);
  Status may = history.ok() ? CheckMaySign(*history, options_.config.signer->id, db_->Tip().height + 1)
                            : history.status();
  if (!may.ok()) {
    SetSync("not_a_signer", may.message());
    return false;
  }
  if (Sync().state == "not_a_signer") SetSync("leader", "");
  return true;
}

Result<uint64_t> Node::CommitControlRecord(state::Transaction tx, std::optional<std::chrono::milliseconds> wait) {
  if (is_follower()) {
    return FailedPrecondition("this node is a follower; send control records to its leader " + follow_url_);
  }
  // A few blocks' time: the leader takes the queue at its next block.
  const int64_t blocks_ms = std::max<int64_t>(10000, 20 * options_.config.node.block_interval_ms);
  return control_.SubmitAndWait(std::move(tx), wait.value_or(std::chrono::milliseconds(blocks_ms)));
}

void Node::FollowerLoop() {
  const auto& cfg = options_.config;
  NodeClient leader(follow_url_, "", 10000);
  int64_t backoff = 100;
  const uint64_t interval = static_cast<uint64_t>(cfg.node.commitment_interval);
  if (!WaitUntilProven()) return;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    auto pulled = PullOnce(leader, *db_, federation_, interval);
    if (!pulled.ok()) {
      if (pulled.status().code() == StatusCode::kUnavailable) {
        spdlog::warn("follower: {}", pulled.status().message());
        if (!SleepFor(backoff)) break;
        backoff = std::min<int64_t>(backoff * 2, 5000);
      } else {
        spdlog::error("follower: {}", pulled.status().ToString());
        if (!SleepFor(1000)) break;
      }
      continue;
    }
    backoff = 100;
    counters_.leader_height = pulled->peer_tip;
    counters_.last_sync_ok_unix_ms = Clock::Real().NowMillis();
    counters_.blocks_applied += pulled->applied;
    if (pulled->applied > 0) counters_.last_block_ms = pulled->last_block_ms;
    if (pulled->fork) {
      // Applying more would build on a chain the leader does not have.
      SetSync("forked", pulled->fork->Describe() + "; stopped applying blocks", pulled->fork);
      while (SleepFor(60000)) {
      }
      break;
    }
    if (pulled->applied == 0 && !SleepFor(std::max<int64_t>(cfg.node.block_interval_ms / 2, 20))) break;
  }
}

}  // namespace ailee::node
