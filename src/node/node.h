// Node: an AILEE-Core L2 node process. A leader (sequencer) collects
// transactions in its mempool and produces a signed block every
// block_interval_ms; a follower pulls blocks from its leader, verifies each
// one (signature, tx root, re-execution, state root) and applies it.
//
// Lifecycle: Create() opens the state database (one process per data dir),
// Start() binds the HTTP listener and starts the worker thread, Stop() (from
// any thread, idempotent, also on SIGTERM) finishes the block in progress,
// stops serving and closes the database. Every block is committed with one
// synced RocksDB write, so kill -9 at any moment loses at most the block
// being written.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "config/config.h"
#include "keys/signer.h"
#include "node/mempool.h"
#include "state/state_db.h"

namespace httplib { class Server; }

namespace ailee::node {

struct NodeOptions {
  config::NodeConfig config;
  std::string follow_url;           // overrides config.follow when non-empty
  size_t mempool_capacity = 200000;
  size_t max_block_txs = 20000;
};

// Live counters for /v1/status and /metrics.
struct NodeCounters {
  std::atomic<uint64_t> tx_accepted{0};
  std::atomic<uint64_t> tx_rejected{0};
  std::atomic<uint64_t> blocks_produced{0};
  std::atomic<uint64_t> blocks_applied{0};
  std::atomic<int64_t> last_block_ms{0};        // time spent building/applying the last block
  std::atomic<uint64_t> leader_height{0};       // follower: last height seen at the leader
  std::atomic<int64_t> last_sync_ok_unix_ms{0};
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> Create(NodeOptions options);
  ~Node();

  // Binds the listener (port 0 picks a free one) and starts the worker.
  Status Start();
  // Idempotent; safe from a signal-handling thread.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();

  int port() const { return port_; }
  bool is_follower() const { return !follow_url_.empty(); }
  const std::string& follow_url() const { return follow_url_; }
  const config::NodeConfig& config() const { return options_.config; }
  state::StateDb& db() { return *db_; }
  Mempool& mempool() { return *mempool_; }
  const state::Federation& federation() const { return federation_; }
  NodeCounters& counters() { return counters_; }
  const std::string& admin_token() const { return admin_token_; }
  // "leader", or for a follower "connecting" (no pull has succeeded yet),
  // "catching_up" or "synced" (its tip against the leader's last height).
  // Checkpoints need no lock here: StateDb serializes them with block
  // production and application itself.
  std::string SyncState() const;

 private:
  explicit Node(NodeOptions options);
  Status Init();
  void LeaderLoop();
  void FollowerLoop();
  // Sleeps up to `ms`; returns false when stopping.
  bool SleepFor(int64_t ms);

  NodeOptions options_;
  std::string follow_url_;
  state::Federation federation_;
  std::unique_ptr<state::StateDb> db_;
  std::unique_ptr<keys::Signer> signer_;  // a PEM file or a PKCS#11 token
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<httplib::Server> http_;
  std::string admin_token_;
  NodeCounters counters_;
  int port_ = 0;

  std::thread worker_;
  std::thread http_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace ailee::node
