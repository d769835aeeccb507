// The node's HTTP API (JSON over HTTP, loopback by default):
//   GET  /v1/health                 liveness + tip summary
//   GET  /v1/status                 height, tip hash, state root, last anchor, sync state
//   POST /v1/tx                     submit a signed transaction (400 with a reason when rejected; 403 for
//                                   control records; 409 for a peg tx while pegs are frozen)
//   POST /v1/txs                    up to kMaxTxBatchCount signed transactions as a JSON array, each judged
//                                   as /v1/tx would; 200 with one result per transaction; 413 past the
//                                   bounds (node/tx_batch_api.h)
//   GET  /v1/blocks/{height}        one block (JSON plus its wire encoding)
//   GET  /v1/blocks?from=H&limit=N[&max_bytes=B]
//                                   blocks for followers (wire encoding): at
//                                   most N (<= 1000) and, past the first, at
//                                   most B (<= kBlocksPageBytes) hex bytes
//                                   per page (a short page does not mean
//                                   the tip: the answer's "tip" says)
//   GET  /v1/accounts/{id}          balance and nonce
//   GET  /v1/signers/{id}           a current federation signer's next peg-in nonce
//   GET  /v1/federation             every federation epoch and the chain id, the hash of block 1
//                                   (state::FederationHistoryToJson)
//   GET  /metrics                   Prometheus text format
//   POST /v1/admin/checkpoint       {"path": DIR} -> consistent checkpoint; needs the admin bearer token
//   POST /v1/admin/archive-progress the block archiver's height (for /metrics); needs the admin bearer token
//   POST /v1/admin/emergency        halt/resume/freeze-pegs/unfreeze-pegs (node/emergency_api.h); admin token
//   POST /v1/admin/federation-change  a federation change (FederationChangeToJson), committed in the next
//                                   block -> {"height","activation_height","epoch"}; 400 with the reason
//                                   when refused (nothing changed; e.g. approved for another chain);
//                                   needs the admin bearer token
#pragma once

#include <cstdint>

namespace httplib { class Server; }

namespace ailee::node {

// The most hex bytes of blocks one /v1/blocks page carries past its first block.
inline constexpr uint64_t kBlocksPageBytes = 8u << 20;

class Node;
void InstallHttpApi(httplib::Server& server, Node& node);

}  // namespace ailee::node
