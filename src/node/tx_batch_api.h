// POST /v1/txs: many signed transactions in one request, for clients (and
// `ailee-cli load --batch`) whose per-request cost would otherwise dominate.
//
// Body: a JSON array of transactions, each exactly as POST /v1/tx takes one,
// at most kMaxTxBatchCount of them and kMaxTxBatchBytes of body (413 with the
// bound otherwise; 400 for a body that is not a non-empty JSON array; 503 on
// a follower or a halted leader, as for /v1/tx). Each transaction is judged
// on its own, in order, as if posted alone one after the other (so one sender's
// nonces n, n+1 may share a batch): a refused one does not stop the others.
// Answer 200: {"accepted": A, "rejected": R, "results": [...]}, one result per
// transaction in the body's order: {"tx_id": hex, "status": "pending"} or
// {"error": reason, "code": StatusCodeName, "http_status": what /v1/tx would
// have answered}. Signatures are verified on all cores before the batch takes
// the mempool's lock once.
#pragma once

#include <cstddef>

namespace httplib { class Server; }

namespace ailee::node {

inline constexpr size_t kMaxTxBatchCount = 1000;
inline constexpr size_t kMaxTxBatchBytes = 8u << 20;

class Node;
void InstallTxBatchApi(httplib::Server& server, Node& node);

}  // namespace ailee::node
