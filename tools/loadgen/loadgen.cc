#include "loadgen/loadgen.h"

#include <algorithm>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/hex.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "loadgen/bulk_fence.h"
#include "node/client.h"
#include "state/state_db.h"
#include "state/transaction.h"

namespace ailee::loadgen {
namespace {

constexpr uint64_t kFundingAmount = 1'000'000'000'000ull;

struct LoadAccount {
  crypto::Ed25519PlainKey key;
  uint64_t nonce = 0;
  uint64_t balance = 0;
  bool funded = false;
};

crypto::Ed25519PlainKey AccountKey(uint64_t seed, uint64_t index) {
  auto h = crypto::Sha256("ailee-load/" + std::to_string(seed) + "/" + std::to_string(index));
  return crypto::Ed25519PlainFromSeed(crypto::HashToString(h));
}

state::Transaction SignedTransfer(const crypto::Ed25519PlainKey& from, std::string_view to, uint64_t amount,
                                  uint64_t nonce, std::string memo) {
  state::Transaction tx;
  tx.type = state::TxType::kTransfer;
  tx.from = from.public_key;
  tx.to = std::string(to);
  tx.amount = amount;
  tx.nonce = nonce;
  tx.memo = std::move(memo);
  tx.signature = crypto::Ed25519SignPlain(from, state::SigningBytes(tx));
  return tx;
}

// A memo that looks like application data: words from a small vocabulary
// mixed with random tokens, so it compresses about 2:1 like real payloads.
std::string MakeMemo(std::mt19937_64& rng, size_t n) {
  static const char* kWords[] = {"invoice", "payment", "order", "refund", "settle", "fee", "batch", "channel"};
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string memo;
  memo.reserve(n + 16);
  while (memo.size() < n) {
    if (rng() % 2) {
      memo += kWords[rng() % 8];
    } else {
      for (int i = 0; i < 8; ++i) memo.push_back(kAlphabet[rng() % 36]);
    }
    memo.push_back(' ');
  }
  memo.resize(n);
  return memo;
}

std::string BtcTxid(uint64_t seed, uint64_t index) {
  return crypto::HashToString(crypto::Sha256("ailee-load-btc/" + std::to_string(seed) + "/" + std::to_string(index)));
}

// A transfer to sign: planned sequentially (nonces), signed on any thread.
struct Plan {
  uint64_t from, to, amount, nonce;
  std::string memo;
};

// Plans transfers whose senders are the accounts of one lane (index % lanes
// == lane; receivers are any account). Lanes submit concurrently and a
// sender's nonces must arrive in order, so each sender belongs to one lane
// and only that lane's planner advances its nonce.
class Planner {
 public:
  Planner(std::vector<LoadAccount>& accounts, uint64_t rng_seed, size_t memo_bytes, size_t lane = 0, size_t lanes = 1)
      : accounts_(accounts), rng_(rng_seed), memo_bytes_(memo_bytes), lane_(lane), lanes_(lanes) {}

  std::vector<Plan> Next(size_t n) {
    std::vector<Plan> plans;
    plans.reserve(n);
    const uint64_t count = accounts_.size();
    std::uniform_int_distribution<uint64_t> pick_sender(0, (count - 1 - lane_) / lanes_);
    std::uniform_int_distribution<uint64_t> pick(0, count - 1);
    for (size_t i = 0; i < n; ++i) {
      uint64_t from = lane_ + lanes_ * pick_sender(rng_), to = pick(rng_);
      if (to == from) to = (to + 1) % count;
      plans.push_back({from, to, 1 + rng_() % 1000, accounts_[from].nonce++, MakeMemo(rng_, memo_bytes_)});
    }
    return plans;
  }

 private:
  std::vector<LoadAccount>& accounts_;
  std::mt19937_64 rng_;
  const size_t memo_bytes_;
  const size_t lane_, lanes_;
};

// Signs `plans` on `threads` threads (the keys are only read).
std::vector<state::Transaction> SignAll(const std::vector<LoadAccount>& accounts, std::vector<Plan> plans,
                                        unsigned threads) {
  const size_t n = plans.size();
  std::vector<state::Transaction> txs(n);
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(n, 1))));
  auto sign_part = [&](unsigned t) {
    for (size_t i = t; i < n; i += threads) {
      const auto& p = plans[i];
      txs[i] = SignedTransfer(accounts[p.from].key, accounts[p.to].key.public_key, p.amount, p.nonce,
                              std::move(plans[i].memo));
    }
  };
  if (threads == 1) {
    sign_part(0);
    return txs;
  }
  std::vector<std::future<void>> parts;
  for (unsigned t = 0; t < threads; ++t) parts.push_back(std::async(std::launch::async, sign_part, t));
  for (auto& f : parts) f.get();
  return txs;
}

unsigned Cores() { return std::max(1u, std::thread::hardware_concurrency()); }

class Generator {
 public:
  Generator(const LoadOptions& o, crypto::PrivateKey signer)
      : o_(o), signer_(std::move(signer)) {
    accounts_.reserve(o.accounts);
    for (uint64_t i = 0; i < o.accounts; ++i) accounts_.push_back({AccountKey(o.seed, i)});
  }

  std::vector<LoadAccount>& accounts() { return accounts_; }
  const std::string& signer_id() const { return o_.config.signer->id; }
  const crypto::PrivateKey& signer() const { return signer_; }

  Result<state::Transaction> PegIn(uint64_t account, uint64_t signer_nonce) {
    return state::MakePegIn(signer_, signer_id(), accounts_[account].key.public_key, kFundingAmount,
                            BtcTxid(o_.seed, account + (signer_nonce << 32)), signer_nonce);
  }

  // A planner for lane `lane` of `lanes` (its own random stream).
  Planner LanePlanner(size_t lane, size_t lanes) {
    return Planner(accounts_, o_.seed * 7919 + 17 + lane, o_.memo_bytes, lane, lanes);
  }

  // Parallel signing for bulk blocks: transfers are planned sequentially
  // (nonces), signed on all cores.
  std::vector<state::Transaction> TransferBatch(size_t n) { return SignAll(accounts_, bulk_.Next(n), Cores()); }

 private:
  const LoadOptions& o_;
  crypto::PrivateKey signer_;
  std::vector<LoadAccount> accounts_;
  Planner bulk_ = LanePlanner(0, 1);
};

bool ShouldStop(const LoadOptions& o, const LoadReport& r, double elapsed) {
  if (o.duration_s > 0 && elapsed >= o.duration_s) return true;
  if (o.max_transactions > 0 && r.accepted >= o.max_transactions) return true;
  if (o.target_bytes > 0 && r.database_bytes >= o.target_bytes) return true;
  return false;
}

double Seconds(int64_t since_ns) { return static_cast<double>(Clock::Real().MonotonicNanos() - since_ns) / 1e9; }

Result<LoadReport> RunBulk(const LoadOptions& o, Generator& gen) {
  LoadReport report;
  const int64_t t0 = Clock::Real().MonotonicNanos();
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(o.config.node.data_dir, state::OpenOptions{}));
  ASSIGN_OR_RETURN(auto keys, config::FederationKeys(o.config));
  state::Federation federation{std::move(keys), static_cast<int>(o.config.federation.threshold)};
  // Held (locked) for the whole load, like a running leader holds it.
  ASSIGN_OR_RETURN(auto fence, OpenFenceForBulkLoad(o.config, *db, federation));
  const state::StateDb::BeforeCommitFn before_commit = FenceBeforeCommit(*fence);
  const state::SignFn sign = [&gen](std::string_view m) { return gen.signer().Sign(m); };
  const auto interval = static_cast<uint64_t>(o.config.node.commitment_interval);

  auto produce = [&](std::vector<state::Transaction> txs) -> Status {
    int64_t ts = std::max(Clock::Real().NowMillis(), db->Tip().timestamp_ms + 1);
    size_t n = txs.size();
    ASSIGN_OR_RETURN(auto produced, db->ProduceBlock(std::move(txs), fence->Guard(db->Tip().height + 1, sign),
                                                     gen.signer_id(), ts, interval, federation, before_commit));
    report.blocks++;
    report.submitted += n;
    report.rejected += produced.rejected.size();
    report.accepted += n - produced.rejected.size();
    if (!produced.rejected.empty()) {
      return Internal("bulk block " + std::to_string(produced.block.header.height) + " rejected a generated transaction: " +
                      produced.rejected.front().reason.message());
    }
    return Status::Ok();
  };

  // Resume: read nonces of existing accounts; fund the others by peg-in.
  uint64_t signer_nonce = db->SignerNonce(gen.signer_id());
  std::vector<state::Transaction> funding;
  for (uint64_t i = 0; i < gen.accounts().size(); ++i) {
    auto& a = gen.accounts()[i];
    auto acct = db->GetAccount(state::AccountIdHex(a.key.public_key));
    if (acct.ok()) {
      a.nonce = acct->nonce;
      a.funded = true;
      continue;
    }
    ASSIGN_OR_RETURN(auto tx, gen.PegIn(i, signer_nonce++));
    funding.push_back(std::move(tx));
    report.funded_accounts++;
    if (funding.size() >= o.block_transactions) RETURN_IF_ERROR(produce(std::exchange(funding, {})));
  }
  if (!funding.empty()) RETURN_IF_ERROR(produce(std::move(funding)));

  // Sign the next block on the worker threads while this one is applied.
  auto next = std::async(std::launch::async, [&] { return gen.TransferBatch(o.block_transactions); });
  for (;;) {
    auto txs = next.get();
    report.database_bytes = db->GetStats().live_data_bytes;
    if (ShouldStop(o, report, Seconds(t0))) break;
    next = std::async(std::launch::async, [&] { return gen.TransferBatch(o.block_transactions); });
    Status st = produce(std::move(txs));
    if (!st.ok()) {
      next.wait();
      return st;
    }
    if (o.progress) o.progress(report.accepted, db->Tip().height, report.database_bytes, Seconds(t0));
  }
  report.final_height = db->Tip().height;
  report.database_bytes = db->GetStats().live_data_bytes;
  report.seconds = Seconds(t0);
  return report;
}

// One request's transactions and its body, serialized ahead of time.
struct Request {
  std::vector<state::Transaction> txs;
  std::string body;
};

Request MakeRequest(std::vector<state::Transaction> txs, bool batch) {
  Request r;
  if (batch) {
    nlohmann::json body = nlohmann::json::array();
    for (const auto& tx : txs) body.push_back(state::TransactionToJson(tx));
    r.body = body.dump();
  } else {
    r.body = state::TransactionToJson(txs.front()).dump();
  }
  r.txs = std::move(txs);
  return r;
}

// What the lanes share: the report (under mu) and the stop decision.
struct Shared {
  Shared(const LoadOptions& options, std::string node_url, int64_t started)
      : o(options), url(std::move(node_url)), t_transfers(started) {}

  const LoadOptions& o;
  const std::string url;
  const int64_t t_transfers;
  std::mutex mu;
  LoadReport report;
  bool failed = false;
  Status error;

  bool Stop() {
    std::lock_guard<std::mutex> l(mu);
    return failed || ShouldStop(o, report, Seconds(t_transfers));
  }
  void Fail(Status st) {
    std::lock_guard<std::mutex> l(mu);
    if (!failed) error = std::move(st);
    failed = true;
  }
};

Status WaitForBlock(node::NodeClient& client, const std::string& url, uint64_t height) {
  for (int i = 0; i < 600; ++i) {
    ASSIGN_OR_RETURN(auto s, client.GetJson("/v1/status"));
    if (s["height"].get<uint64_t>() > height) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("node at " + url + " produced no block for 12 s");
}

Status WaitForNextBlock(node::NodeClient& client, const std::string& url) {
  ASSIGN_OR_RETURN(auto now_status, client.GetJson("/v1/status"));
  return WaitForBlock(client, url, now_status["height"].get<uint64_t>());
}

// One connection submitting its own senders' transfers: first the requests
// signed before the clock started, then ones it signs as it goes. A refusal
// for a full mempool is retried (same bytes) after the next block; any other
// refusal re-reads the sender's nonce and drops that sender's later
// pre-signed transfers (their nonces no longer follow).
class Lane {
 public:
  Lane(Shared& shared, Generator& gen, Planner planner, std::deque<Request> presigned, size_t lanes, bool reports_progress)
      : sh_(shared), gen_(gen), planner_(std::move(planner)), client_(shared.url), ready_(std::move(presigned)),
        rate_(shared.o.rate / static_cast<double>(lanes)), reports_progress_(reports_progress) {}

  void Run() {
    Status st = Loop();
    if (!st.ok()) sh_.Fail(std::move(st));
  }

 private:
  bool batch() const { return sh_.o.http_batch > 0; }

  Status Loop() {
    const size_t n = std::max<size_t>(sh_.o.http_batch, 1);
    const double per_tx = rate_ > 0 ? 1.0 / rate_ : 0;
    double next_at = 0;
    while (!sh_.Stop()) {
      double now = Seconds(sh_.t_transfers);
      if (now < next_at) {
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(next_at - now, 0.05)));
        continue;
      }
      next_at = std::max(next_at + per_tx * static_cast<double>(n), now - 1.0);  // allow catching up for at most 1 s
      Request req;
      if (!ready_.empty()) {
        req = std::move(ready_.front());
        ready_.pop_front();
      } else {
        req = MakeRequest(SignAll(gen_.accounts(), planner_.Next(n), 1), batch());
      }
      RETURN_IF_ERROR(batch() ? SubmitBatch(std::move(req)) : SubmitOne(std::move(req)));
      if (sh_.o.progress && reports_progress_) {
        std::lock_guard<std::mutex> l(sh_.mu);
        if (sh_.report.submitted % 1000 < n) sh_.o.progress(sh_.report.accepted, 0, 0, Seconds(sh_.t_transfers));
      }
    }
    return Status::Ok();
  }

  void Count(uint64_t submitted, uint64_t accepted, uint64_t rejected, uint64_t resent) {
    std::lock_guard<std::mutex> l(sh_.mu);
    sh_.report.submitted += submitted;
    sh_.report.accepted += accepted;
    sh_.report.rejected += rejected;
    sh_.report.resent += resent;
  }

  Status SubmitOne(Request req) {
    auto r = client_.PostJsonText("/v1/tx", req.body);
    if (r.ok()) {
      Count(1, 1, 0, 0);
      return Status::Ok();
    }
    if (r.status().code() == StatusCode::kResourceExhausted) {
      Count(1, 0, 1, 1);
      RETURN_IF_ERROR(WaitForNextBlock(client_, sh_.url));
      ready_.push_front(std::move(req));
      return Status::Ok();
    }
    Count(1, 0, 1, 0);
    if (r.status().code() == StatusCode::kUnavailable) return r.status();
    return Resync({req.txs.front().from});
  }

  Status SubmitBatch(Request req) {
    ASSIGN_OR_RETURN(auto r, client_.PostJsonText("/v1/txs", req.body));
    const auto& results = r["results"];
    if (!results.is_array() || results.size() != req.txs.size()) {
      return DataLoss(sh_.url + " answered POST /v1/txs without one result per transaction");
    }
    std::set<std::string> refused;
    std::vector<state::Transaction> retry;
    uint64_t accepted = 0;
    const std::string full(StatusCodeName(StatusCode::kResourceExhausted));
    for (size_t i = 0; i < req.txs.size(); ++i) {
      if (results[i].contains("tx_id")) {
        ++accepted;
      } else if (results[i].value("code", "") == full) {
        retry.push_back(std::move(req.txs[i]));
      } else {
        refused.insert(req.txs[i].from);
      }
    }
    if (!refused.empty()) {
      // A retry behind a refused transaction of the same sender would fail too.
      std::erase_if(retry, [&](const state::Transaction& tx) { return refused.count(tx.from) > 0; });
    }
    Count(req.txs.size(), accepted, req.txs.size() - accepted, retry.size());
    if (!refused.empty()) {
      RETURN_IF_ERROR(Resync(refused));
    } else if (!retry.empty()) {
      RETURN_IF_ERROR(WaitForNextBlock(client_, sh_.url));
    }
    if (!retry.empty()) ready_.push_front(MakeRequest(std::move(retry), true));
    return Status::Ok();
  }

  // Lets the next block land, re-reads the nonces of `senders` and drops
  // their pre-signed transfers (the others' still follow in order).
  Status Resync(const std::set<std::string>& senders) {
    RETURN_IF_ERROR(WaitForNextBlock(client_, sh_.url));
    for (auto& a : gen_.accounts()) {
      if (!senders.count(a.key.public_key)) continue;
      auto acct = client_.GetJson("/v1/accounts/" + state::AccountIdHex(a.key.public_key));
      if (acct.ok()) a.nonce = (*acct)["nonce"].get<uint64_t>();
    }
    std::deque<Request> kept;
    for (auto& req : ready_) {
      const size_t before = req.txs.size();
      std::erase_if(req.txs, [&](const state::Transaction& tx) { return senders.count(tx.from) > 0; });
      if (req.txs.empty()) continue;
      kept.push_back(req.txs.size() == before ? std::move(req) : MakeRequest(std::move(req.txs), batch()));
    }
    ready_ = std::move(kept);
    return Status::Ok();
  }

  Shared& sh_;
  Generator& gen_;
  Planner planner_;
  node::NodeClient client_;
  std::deque<Request> ready_;
  const double rate_;
  const bool reports_progress_;
};

Result<LoadReport> RunHttp(const LoadOptions& o, Generator& gen) {
  std::string url = o.node_url.empty() ? "http://" + o.config.node.listen : o.node_url;
  node::NodeClient client(url);
  ASSIGN_OR_RETURN(auto status, client.GetJson("/v1/status"));
  ASSIGN_OR_RETURN(auto signer_info, client.GetJson("/v1/signers/" + gen.signer_id()));
  uint64_t signer_nonce = signer_info["nonce"].get<uint64_t>();

  // Fund accounts that do not exist yet, then wait until the peg-ins land.
  uint64_t funded = 0;
  for (uint64_t i = 0; i < gen.accounts().size(); ++i) {
    auto& a = gen.accounts()[i];
    auto acct = client.GetJson("/v1/accounts/" + state::AccountIdHex(a.key.public_key));
    if (acct.ok()) {
      a.nonce = (*acct)["nonce"].get<uint64_t>();
      continue;
    }
    if (acct.status().code() != StatusCode::kNotFound) return acct.status();
    ASSIGN_OR_RETURN(auto tx, gen.PegIn(i, signer_nonce));
    RETURN_IF_ERROR(client.PostJson("/v1/tx", state::TransactionToJson(tx)).status()
                        .WithContext("funding account " + std::to_string(i)));
    signer_nonce++;
    funded++;
  }
  ASSIGN_OR_RETURN(status, client.GetJson("/v1/status"));
  if (funded > 0) {
    // The last peg-in is in the second block after the height seen now at
    // the latest: the next one may have been taken from the mempool before
    // it arrived. Transfers from an account not yet funded would be refused.
    RETURN_IF_ERROR(WaitForBlock(client, url, status["height"].get<uint64_t>() + 1));
    ASSIGN_OR_RETURN(status, client.GetJson("/v1/status"));
  }
  const uint64_t start_height = status["height"].get<uint64_t>();
  const uint64_t start_transactions = status.value("transactions", uint64_t{0});

  // Sign (on all cores) and serialize the pre-signed requests before the
  // clock starts: the generator shares the machine with the node.
  const size_t lanes = static_cast<size_t>(std::clamp<uint64_t>(o.http_connections, 1, gen.accounts().size()));
  const size_t per_request = std::max<size_t>(o.http_batch, 1);
  const size_t requests_per_lane = (o.presign + per_request * lanes - 1) / (per_request * lanes);
  std::vector<Planner> planners;
  std::vector<std::deque<Request>> presigned(lanes);
  for (size_t k = 0; k < lanes; ++k) planners.push_back(gen.LanePlanner(k, lanes));
  for (size_t k = 0; k < lanes; ++k) {
    std::vector<Plan> plans = planners[k].Next(requests_per_lane * per_request);
    std::vector<state::Transaction> txs = SignAll(gen.accounts(), std::move(plans), Cores());
    for (size_t r = 0; r < requests_per_lane; ++r) {
      std::vector<state::Transaction> part(std::make_move_iterator(txs.begin() + r * per_request),
                                           std::make_move_iterator(txs.begin() + (r + 1) * per_request));
      presigned[k].push_back(MakeRequest(std::move(part), o.http_batch > 0));
    }
  }

  Shared shared(o, url, Clock::Real().MonotonicNanos());
  shared.report.funded_accounts = funded;
  std::vector<std::unique_ptr<Lane>> running;
  for (size_t k = 0; k < lanes; ++k) {
    running.push_back(std::make_unique<Lane>(shared, gen, std::move(planners[k]), std::move(presigned[k]), lanes, k == 0));
  }
  std::vector<std::thread> threads;
  for (size_t k = 1; k < lanes; ++k) threads.emplace_back([&, k] { running[k]->Run(); });
  running.front()->Run();
  for (auto& t : threads) t.join();
  LoadReport report = shared.report;
  report.seconds = Seconds(shared.t_transfers);
  if (shared.failed) return shared.error;
  ASSIGN_OR_RETURN(status, client.GetJson("/v1/status"));
  report.final_height = status["height"].get<uint64_t>();
  report.blocks = report.final_height - start_height;
  report.in_blocks = status.value("transactions", uint64_t{0}) - start_transactions;
  return report;
}

}  // namespace

Result<LoadReport> RunLoad(const LoadOptions& options) {
  if (options.accounts < 2) return InvalidArgument("accounts: need at least 2");
  if (options.memo_bytes > state::kMaxMemoBytes)
    return InvalidArgument("memo-bytes: at most " + std::to_string(state::kMaxMemoBytes));
  if (!options.config.signer) return InvalidArgument("signer: the load generator funds accounts with the config's signer key");
  ASSIGN_OR_RETURN(crypto::PrivateKey signer, config::LoadSignerKey(options.config));
  Generator gen(options, std::move(signer));
  return options.mode == LoadOptions::Mode::kBulk ? RunBulk(options, gen) : RunHttp(options, gen);
}

}  // namespace ailee::loadgen
