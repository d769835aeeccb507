#include "node/http_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "base/clock.h"
#include "base/hex.h"
#include "node/checkpoint_target.h"
#include "node/emergency_api.h"
#include "node/http_reply.h"
#include "node/node.h"
#include "node/tx_batch_api.h"

namespace ailee::node {
namespace {

using nlohmann::json;

json SyncJson(const SyncReport& r) {
  json j = {{"state", r.state}};
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.fork) {
    j["fork"] = {{"height", r.fork->height},
                 {"this_node_hash", crypto::HashToHex(r.fork->ours)},
                 {"other_hash", crypto::HashToHex(r.fork->theirs)},
                 {"other", r.fork->peer}};
  }
  return j;
}

json TipJson(Node& node) {
  auto tip = node.db().Tip();
  json j = {{"node_id", node.config().node.id},
            {"height", tip.height},
            {"tip_hash", crypto::HashToHex(tip.block_hash)},
            {"state_root", crypto::HashToHex(tip.state_root)},
            {"timestamp_ms", tip.timestamp_ms}};
  return j;
}

// /v1/status "proof": the background proof of a restored state.
json ProofJson(const BackgroundProof& proof) {
  const ProofProgress p = proof.Snapshot();
  json j = {{"state", p.state},
            {"height", proof.marker().height},
            {"source", proof.marker().source},
            {"phase", p.phase},
            {"done", p.done},
            {"total", p.total},
            {"started_at", FormatUtc(p.started_at_ms / 1000)}};
  if (p.finished_at_ms > 0) j["seconds"] = static_cast<double>(p.finished_at_ms - p.started_at_ms) / 1000.0;
  if (!p.problem.empty()) j["problem"] = p.problem;
  return j;
}

// While the restored state is unproven only these answer (what an operator
// and recover-node watch); everything else would serve or act on it.
bool AnswersWhileGated(const std::string& path) {
  return path == "/v1/status" || path == "/v1/health" || path == "/metrics";
}

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// The archiver's report after a seal (node/archive_progress.h).
void ReportArchiveProgress(Node& node, const json& body, httplib::Response& res) {
  const auto id = body.find("node_id");
  if (id != body.end() && (!id->is_string() || id->get<std::string>() != node.config().node.id)) {
    return ReplyError(res, InvalidArgument("node_id: this is node " + node.config().node.id +
                                           ", the report is of another node's archive"));
  }
  const auto height = body.find("archived_height");
  const auto sealed = body.find("sealed_at_ms");
  if (height == body.end() || !height->is_number_unsigned() || (sealed != body.end() && !sealed->is_number_integer())) {
    return ReplyError(res, InvalidArgument("expected {\"archived_height\": N, \"sealed_at_ms\": T}"));
  }
  Status st = node.archive_progress().Report(height->get<uint64_t>(), sealed == body.end() ? 0 : sealed->get<int64_t>(),
                                             node.db().Tip().height, Clock::Real().NowMillis());
  if (!st.ok()) return ReplyError(res, st);
  Reply(res, {{"archived_height", height->get<uint64_t>()}});
}

std::string Metrics(Node& node) {
  auto stats = node.db().GetStats();
  auto& c = node.counters();
  std::ostringstream m;
  auto gauge = [&](const char* name, const char* help, const char* type, auto value) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
  };
  gauge("ailee_block_height", "Height of the chain tip.", "gauge", stats.height);
  gauge("ailee_transactions_total", "Transactions included in blocks.", "counter", stats.total_transactions);
  gauge("ailee_tx_accepted_total", "Transactions accepted into the mempool.", "counter", c.tx_accepted.load());
  gauge("ailee_tx_rejected_total", "Transactions rejected at submission or block building.", "counter", c.tx_rejected.load());
  gauge("ailee_blocks_produced_total", "Blocks produced by this node.", "counter", c.blocks_produced.load());
  gauge("ailee_blocks_applied_total", "Blocks applied from the leader.", "counter", c.blocks_applied.load());
  gauge("ailee_block_time_seconds", "Time spent building or applying the last block.", "gauge",
        static_cast<double>(c.last_block_ms.load()) / 1000.0);
  gauge("ailee_database_size_bytes", "Live RocksDB data (SST and WAL).", "gauge", stats.live_data_bytes);
  gauge("ailee_accounts_estimate", "Estimated number of accounts.", "gauge", stats.accounts_estimate);
  gauge("ailee_mempool_transactions", "Transactions waiting for a block.", "gauge", node.mempool().size());
  gauge("ailee_tx_signature_verifications_total",
        "Transaction signatures verified (admission; a follower: applying blocks).", "counter",
        state::SignatureVerificationsSoFar());
  if (node.is_follower()) {
    uint64_t leader = c.leader_height.load();
    gauge("ailee_sync_lag_blocks", "Blocks this follower is behind its leader.", "gauge",
          leader > stats.height ? leader - stats.height : 0);
  }
  for (const auto& g : EmergencyGauges(node)) gauge(g.name, g.help, "gauge", g.value);
  // Served by every node (zeros without a background proof), so that an
  // alert on them never sees a missing series.
  const ProofProgress p = node.proof() ? node.proof()->Snapshot() : ProofProgress{};
  const int64_t end_ms = p.finished_at_ms > 0 ? p.finished_at_ms : Clock::Real().NowMillis();
  gauge("ailee_node_proof_pending", "1 while a restored state's background proof has not passed, else 0.", "gauge",
        node.gated() ? 1 : 0);
  gauge("ailee_node_proof_done", "Items the background proof has checked in its current phase.", "gauge", p.done);
  gauge("ailee_node_proof_planned", "Items in the background proof's current phase (0: unknown).", "gauge", p.total);
  gauge("ailee_node_proof_seconds", "Seconds the background proof has run, or took.", "gauge",
        node.proof() ? static_cast<double>(end_ms - p.started_at_ms) / 1000.0 : 0.0);
  // Unknown until the archiver's first report since the node started.
  if (auto archive = node.archive_progress().Get()) {
    gauge("ailee_node_archive_height", "Height of the last block the block archiver reported archived.", "gauge",
          archive->archived_height);
    gauge("ailee_node_archive_lag_blocks", "Blocks the chain tip is ahead of the archiver's last report.", "gauge",
          stats.height > archive->archived_height ? stats.height - archive->archived_height : 0);
    const int64_t age_ms = Clock::Real().NowMillis() - archive->received_at_ms;
    gauge("ailee_node_archive_report_age_seconds", "Seconds since the block archiver last reported.", "gauge",
          static_cast<double>(age_ms > 0 ? age_ms : 0) / 1000.0);
  }
  return m.str();
}

}  // namespace

void InstallHttpApi(httplib::Server& server, Node& node) {
  server.set_pre_routing_handler([&node](const httplib::Request& req, httplib::Response& res) {
    if (!node.gated() || AnswersWhileGated(req.path)) return httplib::Server::HandlerResponse::Unhandled;
    // httplib runs this handler before it reads a request's body, and leaves
    // the body unread: on a kept connection its bytes would start the next
    // request (an empty 400, which NodeClient reports as an invalid request,
    // e.g. a transaction to drop). Closing the connection discards them.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) res.set_header("Connection", "close");
    ReplyError(res, Unavailable("proof running: the restored state (height " +
                                std::to_string(node.proof()->marker().height) + ") is being proven in the "
                                "background; " + req.path + " is not served until the proof passes (its progress: "
                                "GET /v1/status, \"proof\")"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Health: the node answers, its tip block's header carries the state root
  // the node reports, and with ?deep=1 the root recomputed from scratch over
  // the whole state agrees too (O(state size)). 503 when a check fails.
  server.Get("/v1/health", [&node](const httplib::Request& req, httplib::Response& res) {
    json j = TipJson(node);
    j["role"] = node.is_follower() ? "follower" : "leader";
    auto tip = node.db().Tip();
    std::vector<std::string> problems;
    if (tip.height > 0) {
      auto block = node.db().GetBlock(tip.height);
      if (!block.ok()) {
        problems.push_back("tip block " + std::to_string(tip.height) + " unreadable: " + block.status().message());
      } else if (block->header.state_root != tip.state_root) {
        problems.push_back("tip block's state root " + crypto::HashToHex(block->header.state_root) +
                           " differs from the node's " + crypto::HashToHex(tip.state_root));
      }
    }
    const SyncReport sync = node.Sync();
    j["sync"] = SyncJson(sync);
    if (sync.fork) problems.push_back(sync.reason);
    if (node.proof()) j["proof"] = ProofJson(*node.proof());
    if (node.gated()) problems.push_back(sync.reason);
    // Deliberate, so not a failed check (200), but never silent: health-check warns.
    j["emergency"] = EmergencyJson(node);
    if (req.has_param("deep") && !node.gated()) {  // the background proof recomputes it already
      auto check = node.db().RecomputeStateRoot();
      if (!check.ok()) {
        problems.push_back("state root recomputation failed: " + check.status().message());
      } else {
        j["recomputed_state_root"] = crypto::HashToHex(check->recomputed_root);
        j["entries"] = check->entries;
        if (!check->ok()) problems.push_back("state root recomputed from scratch (" + crypto::HashToHex(check->recomputed_root) +
                                             ") does not match the tip (" + crypto::HashToHex(check->header_root) + ")");
      }
    }
    j["ok"] = problems.empty();
    j["problems"] = problems;
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      j["error"] = all;  // what a client shows for the 503
    }
    Reply(res, j, problems.empty() ? 200 : 503);
  });

  server.Get("/v1/status", [&node](const httplib::Request&, httplib::Response& res) {
    json j = TipJson(node);
    j["role"] = node.is_follower() ? "follower" : "leader";
    j["mempool"] = node.mempool().size();
    j["transactions"] = node.db().GetStats().total_transactions;
    if (auto anchor = node.db().LastAnchor()) {
      j["last_anchor"] = state::AnchorToJson(*anchor);
    } else {
      j["last_anchor"] = nullptr;
    }
    json sync = SyncJson(node.Sync());
    if (node.is_follower()) {
      uint64_t leader = node.counters().leader_height.load();
      uint64_t height = j["height"].get<uint64_t>();
      sync["leader"] = node.follow_url();
      sync["leader_height"] = leader;
      sync["lag_blocks"] = leader > height ? leader - height : 0;
      sync["last_contact_ms"] = node.counters().last_sync_ok_unix_ms.load();
    }
    j["sync"] = sync;
    j["emergency"] = EmergencyJson(node);
    j["federation"] = FederationStatusJson(node);
    if (node.proof()) j["proof"] = ProofJson(*node.proof());
    Reply(res, j);
  });

  server.Post("/v1/tx", [&node](const httplib::Request& req, httplib::Response& res) {
    auto tx = state::ParseTransactionJson(req.body);
    // A frozen follower says so for a peg before sending it to the leader.
    if (Status refused = EmergencyRefusal(node, tx.ok() ? &*tx : nullptr); !refused.ok()) {
      node.counters().tx_rejected++;
      return ReplyError(res, refused);
    }
    if (node.is_follower()) {
      ReplyError(res, Unavailable("this node is a follower; submit transactions to its leader " + node.follow_url()));
      return;
    }
    if (!tx.ok()) {
      node.counters().tx_rejected++;
      ReplyError(res, tx.status());
      return;
    }
    auto id = node.mempool().Submit(std::move(tx).value());
    if (!id.ok()) {
      node.counters().tx_rejected++;
      ReplyError(res, id.status());
      return;
    }
    node.counters().tx_accepted++;
    Reply(res, {{"tx_id", crypto::HashToHex(*id)}, {"status", "pending"}});
  });

  InstallTxBatchApi(server, node);

  server.Get(R"(/v1/blocks/(\d+))", [&node](const httplib::Request& req, httplib::Response& res) {
    uint64_t h = 0;
    if (!ParseU64(req.matches[1], &h)) return ReplyError(res, InvalidArgument("height: not a number"));
    auto block = node.db().GetBlock(h);
    if (!block.ok()) return ReplyError(res, block.status());
    json j = state::BlockToJson(*block);
    j["encoded"] = HexEncode(state::EncodeBlock(*block));
    Reply(res, j);
  });

  server.Get("/v1/blocks", [&node](const httplib::Request& req, httplib::Response& res) {
    uint64_t from = 1, limit = 100;
    if (req.has_param("from") && !ParseU64(req.get_param_value("from"), &from))
      return ReplyError(res, InvalidArgument("from: expected a block height"));
    if (req.has_param("limit") && !ParseU64(req.get_param_value("limit"), &limit))
      return ReplyError(res, InvalidArgument("limit: expected a number"));
    limit = std::clamp<uint64_t>(limit, 1, 1000);
    // A page also ends at max_bytes of encoded blocks (always one block at
    // least): 200 blocks of a few MB each made one answer of hundreds of MB
    // that no follower or archiver could fetch within its timeout.
    uint64_t max_bytes = kBlocksPageBytes;
    if (req.has_param("max_bytes") && !ParseU64(req.get_param_value("max_bytes"), &max_bytes))
      return ReplyError(res, InvalidArgument("max_bytes: expected a number"));
    max_bytes = std::clamp<uint64_t>(max_bytes, 1, kBlocksPageBytes);
    uint64_t tip = node.db().Tip().height;
    json blocks = json::array();
    uint64_t bytes = 0;
    for (uint64_t h = std::max<uint64_t>(from, 1); h <= tip && blocks.size() < limit && bytes < max_bytes; ++h) {
      auto block = node.db().GetBlock(h);
      if (!block.ok()) return ReplyError(res, block.status());
      std::string encoded = HexEncode(state::EncodeBlock(*block));
      bytes += encoded.size();
      blocks.push_back({{"height", h}, {"encoded", std::move(encoded)}});
    }
    Reply(res, {{"tip", tip}, {"blocks", blocks}});
  });

  server.Get(R"(/v1/accounts/([0-9a-fA-F]+))", [&node](const httplib::Request& req, httplib::Response& res) {
    std::string id = req.matches[1];
    auto parsed = state::ParseAccountId(id);
    if (!parsed.ok()) return ReplyError(res, parsed.status());
    auto acct = node.db().GetAccount(state::AccountIdHex(*parsed));
    if (!acct.ok()) return ReplyError(res, acct.status());
    Reply(res, {{"id", state::AccountIdHex(*parsed)}, {"balance", acct->balance}, {"nonce", acct->nonce},
                {"last_height", acct->last_height}});
  });

  server.Get(R"(/v1/signers/([A-Za-z0-9_.-]+))", [&node](const httplib::Request& req, httplib::Response& res) {
    std::string id = req.matches[1];
    auto history = node.db().Federations(node.federation());
    if (!history.ok()) return ReplyError(res, history.status());
    const crypto::PublicKey* key = history->At(node.db().Tip().height + 1).Find(id);
    if (!key) return ReplyError(res, NotFound("signer " + id + " is not in the federation's current epoch"));
    Reply(res, {{"id", id}, {"nonce", node.db().SignerNonce(id)}, {"fingerprint", key->FingerprintHex()}});
  });

  server.Get("/v1/federation", [&node](const httplib::Request&, httplib::Response& res) {
    auto history = node.db().Federations(node.federation());
    if (!history.ok()) return ReplyError(res, history.status());
    json j = state::FederationHistoryToJson(*history);
    j["next_height"] = node.db().Tip().height + 1;
    Reply(res, j);
  });

  server.Post("/v1/admin/federation-change", [&node](const httplib::Request& req, httplib::Response& res) {
    if (!RequireAdmin(req, res, node)) return;
    auto body = JsonBody(req, res, "federation change (ailee-cli federation propose)");
    if (!body) return;
    auto change = state::FederationChangeFromJson(*body);
    if (!change.ok()) return ReplyError(res, change.status());
    if (node.is_follower()) {
      return ReplyError(res, FailedPrecondition("this node is a follower; apply the change at its leader " +
                                                node.follow_url()));
    }
    // Refused now with the reason when it cannot go into the next block
    // (the leader checks again, with the real height, when it does).
    change->activation_height = node.db().Tip().height + 2;
    state::Transaction tx = state::MakeFederationChangeTx(*change);
    Status check = node.db().CheckTransaction(tx, node.federation());
    Result<uint64_t> height = check.ok() ? node.CommitControlRecord(std::move(tx)) : Result<uint64_t>(check);
    node.AuditFederationChange(*change, height);
    if (!height.ok()) return ReplyError(res, height.status());
    auto history = node.db().Federations(node.federation());
    if (!history.ok()) return ReplyError(res, history.status());
    Reply(res, {{"height", *height},
                {"activation_height", *height + 1},
                {"epoch", history->EpochAt(*height + 1).number}});
  });

  server.Get("/metrics", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(Metrics(node), "text/plain; version=0.0.4");
  });

  server.Post("/v1/admin/archive-progress", [&node](const httplib::Request& req, httplib::Response& res) {
    if (!RequireAdmin(req, res, node)) return;
    if (auto body = JsonBody(req, res, "{\"archived_height\": N, \"sealed_at_ms\": T}")) {
      ReportArchiveProgress(node, *body, res);
    }
  });

  server.Post("/v1/admin/checkpoint", [&node](const httplib::Request& req, httplib::Response& res) {
    if (!RequireAdmin(req, res, node)) return;
    auto parsed = JsonBody(req, res, "{\"path\": \"/abs/dir\"}");
    if (!parsed) return;
    const json& body = *parsed;
    if (!body.contains("path") || !body["path"].is_string() || body["path"].get<std::string>().empty() ||
        body["path"].get<std::string>()[0] != '/') {
      return ReplyError(res, InvalidArgument("path: expected an absolute directory path that does not exist"));
    }
    if (Status target = CheckCheckpointTarget(body["path"].get<std::string>()); !target.ok()) {
      return ReplyError(res, target);
    }
    auto info = node.db().CreateCheckpoint(body["path"].get<std::string>());
    if (!info.ok()) return ReplyError(res, info.status());
    Reply(res, {{"path", info->dir},
                {"height", info->height},
                {"block_hash", crypto::HashToHex(info->block_hash)},
                {"state_root", crypto::HashToHex(info->state_root)},
                {"node_id", node.config().node.id}});
  });

  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Reply(res, {{"error", what}, {"code", "internal"}}, 500);
  });
}

}  // namespace ailee::node
