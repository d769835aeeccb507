// Load generator: drives a node with signed transactions over many accounts,
// to build realistic datasets for tests, demos and benchmarks.
//
// Two modes:
//  - http: submits transactions to a running leader over its API at a target
//    rate (what clients do), one per request or, with http_batch, that many
//    per POST /v1/txs, over http_connections connections at once (each
//    with its own senders, so a sender's nonces arrive in order); `presign`
//    transfers are signed and serialized before the clock starts, so the
//    generator's own signing does not compete with the node it measures;
//  - bulk: opens a stopped node's data dir and feeds the node's own block
//    code (StateDb::ProduceBlock) directly, many transactions per block. The
//    result is a normal node data dir that verify-state accepts. It signs
//    through the signer key's fence like a leader (bulk_fence.h): refused
//    while a leader on that key runs or when the data dir is below the
//    fence; afterwards the fence is at the new tip.
// Accounts are derived deterministically from (seed, index), so a second run
// with the same seed continues with the same accounts (nonces are read back).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "config/config.h"

namespace ailee::loadgen {

struct LoadOptions {
  enum class Mode { kHttp, kBulk };
  Mode mode = Mode::kHttp;
  config::NodeConfig config;     // federation, signer key (funds accounts by peg-in), data dir, intervals
  std::string node_url;          // http mode; default http://<listen>
  uint64_t accounts = 1000;
  double rate = 500;             // http: transactions per second
  size_t http_batch = 0;         // http: transfers per POST /v1/txs (0: one per POST /v1/tx)
  size_t http_connections = 1;   // http: requests in flight at once (each its own connection and senders)
  uint64_t presign = 0;          // http: transfers signed and serialized before the clock starts
  double duration_s = 10;        // stop after this long (0 = no limit)
  uint64_t max_transactions = 0; // stop after this many (0 = no limit)
  uint64_t target_bytes = 0;     // bulk: stop when the database reaches this size (0 = no limit)
  size_t memo_bytes = 128;       // printable, partly compressible memo per transfer
  size_t block_transactions = 4000;  // bulk: transactions per block
  uint64_t seed = 1;
  std::function<void(uint64_t txs, uint64_t height, uint64_t bytes, double seconds)> progress;
};

struct LoadReport {
  uint64_t submitted = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t resent = 0;           // http: of the rejected, refused for a full mempool and sent again after a block
  uint64_t funded_accounts = 0;
  uint64_t blocks = 0;
  uint64_t in_blocks = 0;        // http: transactions the node put in blocks during the run (any sender)
  uint64_t final_height = 0;
  uint64_t database_bytes = 0;
  double seconds = 0;
  double tx_per_second() const { return seconds > 0 ? static_cast<double>(accepted) / seconds : 0; }
};

Result<LoadReport> RunLoad(const LoadOptions& options);

}  // namespace ailee::loadgen
