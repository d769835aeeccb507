#include "loadgen/loadgen.h"

#include <algorithm>
#include <future>
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

class Generator {
 public:
  Generator(const LoadOptions& o, crypto::PrivateKey signer)
      : o_(o), signer_(std::move(signer)), rng_(o.seed * 7919 + 17) {
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

  // A transfer between two funded accounts; advances the sender's nonce.
  state::Transaction Transfer() {
    std::uniform_int_distribution<uint64_t> pick(0, accounts_.size() - 1);
    uint64_t from = pick(rng_), to = pick(rng_);
    if (to == from) to = (to + 1) % accounts_.size();
    auto& a = accounts_[from];
    uint64_t amount = 1 + rng_() % 1000;
    auto tx = SignedTransfer(a.key, accounts_[to].key.public_key, amount, a.nonce,
                                  MakeMemo(rng_, o_.memo_bytes));
    a.nonce++;
    return tx;
  }

  // Parallel signing for bulk blocks: transfers are planned sequentially
  // (nonces), signed on all cores.
  std::vector<state::Transaction> TransferBatch(size_t n) {
    struct Plan { uint64_t from, to, amount, nonce; std::string memo; };
    std::vector<Plan> plans;
    plans.reserve(n);
    std::uniform_int_distribution<uint64_t> pick(0, accounts_.size() - 1);
    for (size_t i = 0; i < n; ++i) {
      uint64_t from = pick(rng_), to = pick(rng_);
      if (to == from) to = (to + 1) % accounts_.size();
      plans.push_back({from, to, 1 + rng_() % 1000, accounts_[from].nonce++, MakeMemo(rng_, o_.memo_bytes)});
    }
    std::vector<state::Transaction> txs(n);
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::future<void>> parts;
    for (unsigned t = 0; t < threads; ++t) {
      parts.push_back(std::async(std::launch::async, [&, t] {
        for (size_t i = t; i < n; i += threads) {
          const auto& p = plans[i];
          txs[i] = SignedTransfer(accounts_[p.from].key, accounts_[p.to].key.public_key, p.amount, p.nonce,
                                       std::move(plans[i].memo));
        }
      }));
    }
    for (auto& f : parts) f.get();
    return txs;
  }

 private:
  const LoadOptions& o_;
  crypto::PrivateKey signer_;
  std::mt19937_64 rng_;
  std::vector<LoadAccount> accounts_;
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

Result<LoadReport> RunHttp(const LoadOptions& o, Generator& gen) {
  LoadReport report;
  const int64_t t0 = Clock::Real().MonotonicNanos();
  std::string url = o.node_url.empty() ? "http://" + o.config.node.listen : o.node_url;
  node::NodeClient client(url);
  ASSIGN_OR_RETURN(auto status, client.GetJson("/v1/status"));
  ASSIGN_OR_RETURN(auto signer_info, client.GetJson("/v1/signers/" + gen.signer_id()));
  uint64_t signer_nonce = signer_info["nonce"].get<uint64_t>();

  auto submit = [&](const state::Transaction& tx) -> Status {
    report.submitted++;
    auto r = client.PostJson("/v1/tx", state::TransactionToJson(tx));
    if (r.ok()) {
      report.accepted++;
      return Status::Ok();
    }
    report.rejected++;
    return r.status();
  };
  // A batch: counts each transfer's result; returns the senders of refused
  // ones (their nonces are re-read), or an error for the whole request.
  auto submit_batch = [&](const std::vector<state::Transaction>& txs) -> Result<std::set<std::string>> {
    nlohmann::json body = nlohmann::json::array();
    for (const auto& tx : txs) body.push_back(state::TransactionToJson(tx));
    report.submitted += txs.size();
    ASSIGN_OR_RETURN(auto r, client.PostJson("/v1/txs", body));
    const auto& results = r["results"];
    if (!results.is_array() || results.size() != txs.size()) {
      return DataLoss(url + " answered POST /v1/txs without one result per transaction");
    }
    std::set<std::string> refused;
    for (size_t i = 0; i < txs.size(); ++i) {
      if (results[i].contains("tx_id")) {
        report.accepted++;
      } else {
        report.rejected++;
        refused.insert(txs[i].from);
      }
    }
    return refused;
  };
  auto wait_for_block = [&](uint64_t height) -> Status {
    for (int i = 0; i < 600; ++i) {
      ASSIGN_OR_RETURN(auto s, client.GetJson("/v1/status"));
      if (s["height"].get<uint64_t>() > height) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Unavailable("node at " + url + " produced no block for 12 s");
  };

  // Fund accounts that do not exist yet, then wait until the peg-ins land.
  for (uint64_t i = 0; i < gen.accounts().size(); ++i) {
    auto& a = gen.accounts()[i];
    auto acct = client.GetJson("/v1/accounts/" + state::AccountIdHex(a.key.public_key));
    if (acct.ok()) {
      a.nonce = (*acct)["nonce"].get<uint64_t>();
      continue;
    }
    if (acct.status().code() != StatusCode::kNotFound) return acct.status();
    ASSIGN_OR_RETURN(auto tx, gen.PegIn(i, signer_nonce));
    RETURN_IF_ERROR(submit(tx).WithContext("funding account " + std::to_string(i)));
    signer_nonce++;
    report.funded_accounts++;
  }
  if (report.funded_accounts > 0) RETURN_IF_ERROR(wait_for_block(status["height"].get<uint64_t>()));
  ASSIGN_OR_RETURN(status, client.GetJson("/v1/status"));
  uint64_t start_height = status["height"].get<uint64_t>();
  report.accepted = 0;  // the rate and the limits count transfers, not funding
  report.submitted = 0;
  const int64_t t_transfers = Clock::Real().MonotonicNanos();

  const double per_tx = o.rate > 0 ? 1.0 / o.rate : 0;
  double next_at = 0;
  while (!ShouldStop(o, report, Seconds(t_transfers))) {
    double now = Seconds(t_transfers);
    if (now < next_at) {
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(next_at - now, 0.05)));
      continue;
    }
    const size_t n = std::max<size_t>(o.http_batch, 1);
    next_at = std::max(next_at + per_tx * static_cast<double>(n), now - 1.0);  // allow catching up for at most 1 s
    std::set<std::string> refused;
    if (o.http_batch > 0) {
      ASSIGN_OR_RETURN(refused, submit_batch(gen.TransferBatch(o.http_batch)));
    } else {
      state::Transaction tx = gen.Transfer();
      Status st = submit(tx);
      if (st.code() == StatusCode::kUnavailable) return st;
      if (!st.ok()) refused.insert(tx.from);
    }
    if (!refused.empty()) {
      // Mempool full or nonce out of step: let the next block land and
      // re-read those senders' nonces.
      ASSIGN_OR_RETURN(auto now_status, client.GetJson("/v1/status"));
      RETURN_IF_ERROR(wait_for_block(now_status["height"].get<uint64_t>()));
      for (auto& a : gen.accounts()) {
        if (!refused.count(a.key.public_key)) continue;
        auto acct = client.GetJson("/v1/accounts/" + state::AccountIdHex(a.key.public_key));
        if (acct.ok()) a.nonce = (*acct)["nonce"].get<uint64_t>();
      }
    }
    if (o.progress && report.submitted % 1000 < n) o.progress(report.accepted, 0, 0, Seconds(t_transfers));
  }
  ASSIGN_OR_RETURN(status, client.GetJson("/v1/status"));
  report.final_height = status["height"].get<uint64_t>();
  report.blocks = report.final_height - start_height;
  report.seconds = Seconds(t_transfers);
  (void)t0;
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
