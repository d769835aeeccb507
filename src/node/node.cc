#include "node/node.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hex.h"
#include "crypto/random.h"
#include "node/client.h"
#include "node/http_api.h"
#include "keys/secret_input.h"

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
    crypto::SecureBytes pin;
    if (!p.pin_file.empty()) {
      ASSIGN_OR_RETURN(pin, keys::ReadSecretFile(p.pin_file));
    } else if (const char* env = std::getenv(keys::kPinEnv)) {
      pin = crypto::SecureBytes(std::string_view(env));
    } else {
      return InvalidArgument("signer.pkcs11.pin_file: a PIN is needed (or set $" + std::string(keys::kPinEnv) + ")");
    }
    keys::Pkcs11SignerOptions o{p.module, p.token_label, keys::Pkcs11KeyRef{p.key_label, ""}};
    ASSIGN_OR_RETURN(auto signer, keys::Pkcs11Signer::Open(o, pin));
    return std::unique_ptr<keys::Signer>(std::move(signer));
  }
  ASSIGN_OR_RETURN(auto signer, keys::FileSigner::Open(cfg.signer->key_file));
  return std::unique_ptr<keys::Signer>(std::move(signer));
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
    const auto* member = federation_.Find(cfg.signer->id);
    if (!member || member->FingerprintHex() != signer_->public_key().FingerprintHex()) {
      return InvalidArgument("signer: the key at " + signer_->Describe() + " (fingerprint " +
                             signer_->public_key().FingerprintHex() + ") is not federation signer " + cfg.signer->id + "'s key");
    }
  }
  RETURN_IF_ERROR(fs::MakeDirs(cfg.node.data_dir));
  ASSIGN_OR_RETURN(db_, state::StateDb::Open(cfg.node.data_dir, state::OpenOptions{}));
  ASSIGN_OR_RETURN(admin_token_, LoadOrCreateAdminToken(cfg.node.admin_token_file));
  mempool_ = std::make_unique<Mempool>(*db_, federation_, options_.mempool_capacity);
  return Status::Ok();
}

Status Node::Start() {
  http_ = std::make_unique<httplib::Server>();
  http_->set_tcp_nodelay(true);
  InstallHttpApi(*http_, *this);
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
  if (http_) http_->stop();
}

void Node::Wait() {
  if (worker_.joinable()) worker_.join();
  if (http_thread_.joinable()) http_thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopped_ && stopping_) {
    stopped_ = true;
    db_.reset();  // closes RocksDB: flushes nothing new, WAL is already synced
    spdlog::info("node {} stopped", options_.config.node.id);
  }
}

bool Node::SleepFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

std::string Node::SyncState() const {
  if (!is_follower()) return "leader";
  uint64_t leader = counters_.leader_height.load();
  if (counters_.last_sync_ok_unix_ms.load() == 0) return "connecting";
  uint64_t height = db_->Tip().height;
  return height >= leader ? "synced" : "catching_up";
}

void Node::LeaderLoop() {
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
    int64_t t0 = Clock::Real().MonotonicNanos();
    auto txs = mempool_->Take(options_.max_block_txs);
    int64_t ts = std::max(now, db_->Tip().timestamp_ms);
    state::SignFn sign = [this](std::string_view m) { return signer_->Sign(m); };
    auto produced = db_->ProduceBlock(std::move(txs), sign, cfg.signer->id, ts,
                                      static_cast<uint64_t>(cfg.node.commitment_interval), federation_);
    mempool_->OnBlockCommitted();
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

void Node::FollowerLoop() {
  const auto& cfg = options_.config;
  NodeClient leader(follow_url_, "", 10000);
  int64_t backoff = 100;
  const uint64_t interval = static_cast<uint64_t>(cfg.node.commitment_interval);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    uint64_t from = db_->Tip().height + 1;
    auto batch = leader.GetJson("/v1/blocks?from=" + std::to_string(from) + "&limit=200");
    if (!batch.ok()) {
      spdlog::warn("follower: {}", batch.status().message());
      if (!SleepFor(backoff)) break;
      backoff = std::min<int64_t>(backoff * 2, 5000);
      continue;
    }
    backoff = 100;
    counters_.leader_height = (*batch)["tip"].get<uint64_t>();
    counters_.last_sync_ok_unix_ms = Clock::Real().NowMillis();
    const auto& blocks = (*batch)["blocks"];
    Status failed;
    for (const auto& b : blocks) {
      auto raw = HexDecode(b["encoded"].get<std::string>());
      if (!raw) { failed = DataLoss("leader sent a block that is not hex"); break; }
      auto block = state::DecodeBlock(*raw);
      if (!block.ok()) { failed = block.status(); break; }
      int64_t t0 = Clock::Real().MonotonicNanos();
      Status st = db_->ApplyBlock(*block, federation_, interval);
      if (!st.ok()) { failed = st.WithContext("applying block " + std::to_string(block->header.height)); break; }
      counters_.blocks_applied++;
      counters_.last_block_ms = (Clock::Real().MonotonicNanos() - t0) / 1000000;
    }
    if (!failed.ok()) {
      spdlog::error("follower: {}", failed.ToString());
      if (!SleepFor(1000)) break;
      continue;
    }
    if (blocks.empty() && !SleepFor(std::max<int64_t>(cfg.node.block_interval_ms / 2, 20))) break;
  }
}

}  // namespace ailee::node
