#include "node/tx_batch_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/parallel.h"
#include "node/emergency_api.h"
#include "node/http_reply.h"
#include "node/node.h"

namespace ailee::node {
namespace {

using nlohmann::json;

json RefusedJson(const Status& st) {
  return {{"error", st.message()}, {"code", std::string(StatusCodeName(st.code()))}, {"http_status", HttpStatusFor(st)}};
}

void ReplyTooLarge(httplib::Response& res, const std::string& what) {
  Reply(res, {{"error", what}, {"code", std::string(StatusCodeName(StatusCode::kInvalidArgument))}}, 413);
}

// The batch's transactions parsed, or the reason each one was refused before
// the mempool saw it (parse error, control record, frozen peg, halt).
struct Parsed {
  std::vector<state::Transaction> txs;
  std::vector<size_t> position;       // index in the body of txs[i]
  std::vector<Status> refused;        // per body index; ok for those in txs
};

// Converting the JSON (hex decoding) runs on `threads` threads; each index
// has its own slots.
Parsed ParseBatch(Node& node, const json& body, int threads) {
  Parsed p;
  p.refused.resize(body.size());
  std::vector<std::optional<state::Transaction>> parsed(body.size());
  (void)ParallelFor(body.size(), threads, [&](size_t i, int) {
    auto tx = state::TransactionFromJson(body[i]);
    Status refused = EmergencyRefusal(node, tx.ok() ? &*tx : nullptr);
    if (refused.ok() && !tx.ok()) refused = tx.status();
    if (refused.ok()) {
      parsed[i] = std::move(tx).value();
    } else {
      p.refused[i] = std::move(refused);
    }
    return Status::Ok();
  });
  p.txs.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    if (!parsed[i]) continue;
    p.txs.push_back(std::move(*parsed[i]));
    p.position.push_back(i);
  }
  return p;
}

void SubmitBatch(Node& node, const httplib::Request& req, httplib::Response& res) {
  if (node.is_follower()) {
    return ReplyError(res, Unavailable("this node is a follower; submit transactions to its leader " + node.follow_url()));
  }
  if (req.body.size() > kMaxTxBatchBytes) {
    return ReplyTooLarge(res, "body: " + std::to_string(req.body.size()) + " bytes, a batch carries at most " +
                                  std::to_string(kMaxTxBatchBytes) + "; split it");
  }
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_array() || body.empty()) {
    return ReplyError(res, InvalidArgument("body: expected a non-empty JSON array of transactions (as POST /v1/tx takes one)"));
  }
  if (body.size() > kMaxTxBatchCount) {
    return ReplyTooLarge(res, "body: " + std::to_string(body.size()) + " transactions, a batch carries at most " +
                                  std::to_string(kMaxTxBatchCount) + "; split it");
  }
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Parsed p = ParseBatch(node, body, threads);
  auto admitted = node.mempool().SubmitBatch(std::move(p.txs), threads);
  std::vector<std::optional<crypto::Hash256>> ids(body.size());
  for (size_t k = 0; k < admitted.size(); ++k) {
    if (admitted[k].ok()) {
      ids[p.position[k]] = *admitted[k];
    } else {
      p.refused[p.position[k]] = admitted[k].status();
    }
  }
  json results = json::array();
  uint64_t accepted = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (ids[i]) {
      results.push_back({{"tx_id", crypto::HashToHex(*ids[i])}, {"status", "pending"}});
      ++accepted;
    } else {
      results.push_back(RefusedJson(p.refused[i]));
    }
  }
  const uint64_t rejected = body.size() - accepted;
  node.counters().tx_accepted += accepted;
  node.counters().tx_rejected += rejected;
  Reply(res, {{"accepted", accepted}, {"rejected", rejected}, {"results", std::move(results)}});
}

}  // namespace

void InstallTxBatchApi(httplib::Server& server, Node& node) {
  server.Post("/v1/txs", [&node](const httplib::Request& req, httplib::Response& res) { SubmitBatch(node, req, res); });
}

}  // namespace ailee::node
