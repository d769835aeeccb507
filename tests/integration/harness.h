// Integration-test harness: real ailee-node and ailee-cli processes on
// loopback, each test in its own temporary directory.
//
// Typical use (see crash_recovery_test.cc):
//
//   it::Scenario s("crash");                       // temp dir + federation key
//   it::TestNode node = s.AddNode(it::NodeSpec::Leader("node-1"));  // config, port
//   ASSERT_OK(node.Start());                       // spawns, waits for /v1/health
//   it::CommandResult r = s.Cli(node, {"load", "--accounts", "100", "--duration", "2"});
//   EXPECT_EQ(r.exit_code, 0) << r;
//   EXPECT_EQ(node.Terminate(), 0);                // SIGTERM, exit code
//
// Process ownership: every spawned process belongs to a Process object that
// kills (SIGKILL) and reaps it when destroyed, so a failing ASSERT never
// leaves a node running. Children also get PR_SET_PDEATHSIG(SIGKILL): if the
// test binary itself dies, its nodes die with it. PDEATHSIG follows the
// spawning *thread*, so spawn from a thread that outlives the child (the test
// body's thread).
//
// Time: every wait takes a timeout; nothing here blocks without one.
//
// Thread safety: none; use the objects from one thread.
//
// Environment: AILEE_NODE_BIN/AILEE_CLI_BIN override the binaries;
// AILEE_KEEP_TEST_DIRS=1 keeps the temporary directories (node
// logs, configs, data dirs) for inspection; AILEE_TEST_TMPDIR picks their
// parent (default $TMPDIR or /tmp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "node/client.h"

namespace ailee::it {

using Millis = std::chrono::milliseconds;

// Absolute paths of the binaries under test: from the build tree, or
// AILEE_NODE_BIN / AILEE_CLI_BIN when set (e.g. to test installed binaries).
std::string NodeBinary();
std::string CliBinary();

// A fresh directory removed (recursively) on destruction unless
// AILEE_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& rel) const;

 private:
  std::string path_;
};

// Writes `data` to `path` (creating parent dirs) with `mode`.
Status WriteFile(const std::string& path, const std::string& data, unsigned mode = 0644);
// The last `max_bytes` of a file ("" if unreadable): for failure messages.
std::string FileTail(const std::string& path, size_t max_bytes = 4000);

// A loopback TCP port that was free a moment ago (bind 127.0.0.1:0, close).
// Another process may take it before we use it; TestNode::Start retries.
int PickFreePort();

// ---------------------------------------------------------------- processes

// How a process ended. exit_code is the exit status, or 128+signal when
// killed by a signal (shell convention), or -1 when it could not be run.
struct CommandResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string Describe() const;  // exit code and both streams, for EXPECT messages
};
std::ostream& operator<<(std::ostream& os, const CommandResult& r);

// Runs `argv` to completion (argv[0] is a path), capturing stdout and stderr.
// After `timeout` the process is killed and timed_out is set.
CommandResult Run(const std::vector<std::string>& argv, Millis timeout);

// A child process whose stdout and stderr go to a log file. Owns the child:
// the destructor SIGKILLs and reaps it if it is still running.
class Process {
 public:
  // argv[0] is a path. The log file is appended to.
  static Result<Process> Spawn(const std::vector<std::string>& argv, const std::string& log_path);
  Process() = default;
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not been reaped (polls waitpid without blocking).
  bool Running();
  // SIGSTOP returns once every thread of the child has stopped.
  void Signal(int sig);
  // Waits up to `timeout` for the child to exit; its exit code (see
  // CommandResult) or nullopt if it is still running.
  std::optional<int> Wait(Millis timeout);
  // SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code
  // (143-style codes mean the signal, not a clean exit).
  int Stop(Millis timeout);
  // SIGKILL and reap; returns the exit code (137 normally).
  int Kill();
  // Exit code once reaped, else nullopt.
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// ------------------------------------------------------ federation and config

// A federation signer key written as PEM files (private key mode 0600).
struct SignerKey {
  std::string id;
  std::string key_file;  // PKCS#8 PEM, 0600
  std::string pub_file;  // SubjectPublicKeyInfo PEM
  crypto::PrivateKey key;
};
// Generates an Ed25519 key and writes <dir>/<id>.key and <dir>/<id>.pub.
Result<SignerKey> MakeSignerKey(const std::string& dir, const std::string& id);

// What a test node's config.yaml says. Paths are relative to the node's own
// directory (<scenario>/<id>/), as docs/config.md allows.
struct NodeSpec {
  std::string id = "node-1";
  int64_t block_interval_ms = 200;
  int64_t commitment_interval = 10;
  int64_t mempool_capacity = 0;  // node.mempool_capacity when > 0 (else the default)
  bool leader = true;         // writes the signer section
  std::string follow;         // leader URL: makes this node a follower (leader must be false)
  std::string extra_yaml;     // appended verbatim (top-level keys)
  // The signer's key file in the config when not empty (e.g. a copy of the
  // scenario's key: another machine holding the same key, with its own fence).
  std::string signer_key_file;
  std::vector<std::string> node_args;  // extra ailee-node flags (--allow-lone-start)
  std::string log_file;       // logging.log_file when not empty (relative: to the node's dir)
  int federation_threshold = 1;  // federation.threshold (the genesis federation's)

  // A leader (sequencer with the federation key) and a follower of `leader_url`.
  static NodeSpec Leader(std::string id, int64_t block_interval_ms = 200, int64_t commitment_interval = 10);
  static NodeSpec Follower(std::string id, std::string leader_url, int64_t block_interval_ms = 200,
                           int64_t commitment_interval = 10);
};

// The YAML for `spec`, listening on 127.0.0.1:<port>.
std::string RenderConfig(const NodeSpec& spec, int port, const std::vector<SignerKey>& federation,
                         const SignerKey* signer);

// ------------------------------------------------------------------- nodes

// One ailee-node: its directory, config, data dir, log, and (when started)
// its process. Start/Terminate/Kill may be repeated: a restart reuses the
// data dir and the port.
class TestNode {
 public:
  TestNode(std::string dir, NodeSpec spec, std::vector<SignerKey> federation, std::optional<SignerKey> signer);
  TestNode(TestNode&&) noexcept = default;
  TestNode& operator=(TestNode&&) noexcept = default;

  const NodeSpec& spec() const { return spec_; }
  const std::string& dir() const { return dir_; }          // <scenario>/<id>
  std::string config_path() const;                          // <dir>/config.yaml
  std::string data_dir() const;                             // <dir>/data
  std::string log_path() const;                             // <dir>/node.log (all runs, appended)
  std::string admin_token_path() const;                     // <data_dir>/admin.token
  std::string AdminToken() const;                           // its first line ("" before the first start)
  int port() const { return port_; }
  std::string url() const;                                  // http://127.0.0.1:<port>

  // Spawns ailee-node and waits up to `timeout` for /v1/health to answer
  // (200, or 503 from a node that runs but reports a problem).
  // If the port was taken meanwhile, picks another one and retries.
  Status Start(Millis timeout = Millis(15000));
  // SIGTERM; waits up to `timeout`; the exit code (0 = clean shutdown).
  int Terminate(Millis timeout = Millis(15000));
  // SIGKILL; the exit code (137).
  int Kill();
  bool Running();
  Process& process() { return process_; }
  // A new spec (peers, flags) for the next Start; the port and data dir stay.
  Status Reconfigure(NodeSpec spec);

  // A fresh client (short timeouts suit tests).
  node::NodeClient Client(int timeout_ms = 5000) const;
  // GET /v1/status.
  Result<nlohmann::json> StatusJson() const;
  // Current height from /v1/status.
  Result<uint64_t> Height() const;
  // Polls until the height reaches `height` (>=).
  Status WaitForHeight(uint64_t height, Millis timeout) const;
  // Every block the node holds, by height (hex of the encoded block): to
  // compare two nodes' chains block by block.
  Result<std::map<uint64_t, std::string>> BlocksByHeight() const;
  // The chain's id, the hash of block 1's header (what a federation change
  // must name); waits up to 5 s for block 1.
  Result<crypto::Hash256> ChainId() const;

 private:
  Status WriteConfig();

  std::string dir_;
  NodeSpec spec_;
  std::vector<SignerKey> federation_;
  std::optional<SignerKey> signer_;
  int port_ = 0;
  Process process_;
};

// A test's world: a temporary directory, a one-signer federation, nodes,
// and helpers to run ailee-cli against them.
class Scenario {
 public:
  explicit Scenario(const std::string& tag);

  const TempDir& dir() const { return dir_; }
  const SignerKey& signer() const { return signer_; }

  // Creates <dir>/<spec.id>/ with its config. A leader gets the signer key;
  // a follower (spec.leader = false) gets none.
  TestNode AddNode(NodeSpec spec);
  // `spec` signing with its own copy of the federation key, <dir>/<id>.key:
  // another machine holding the key, with its own signing fence. For worlds
  // of independent chains (several bulk-loaded leaders): one key file would
  // fence them all at the highest chain's tip.
  Result<NodeSpec> WithOwnKeyCopy(NodeSpec spec) const;

  // ailee-cli --config <node's config> args...
  CommandResult Cli(const TestNode& node, const std::vector<std::string>& args, Millis timeout = Millis(60000)) const;
  // ailee-cli args... (no --config).
  CommandResult CliRaw(const std::vector<std::string>& args, Millis timeout = Millis(60000)) const;
  // Starts ailee-cli in the background (e.g. `load`), output to `log_path`.
  Result<Process> CliBackground(const TestNode& node, const std::vector<std::string>& args,
                                const std::string& log_path) const;

  // Funds a new account by a peg-in signed with the federation key, submitted
  // to `leader`, and waits until the account exists. Returns the account key.
  Result<crypto::Ed25519KeyPair> FundAccount(const TestNode& leader, uint64_t amount, Millis timeout = Millis(10000));
  // The same for the account of `public_key` (32 raw bytes).
  Status PegIn(const TestNode& leader, const std::string& public_key, uint64_t amount, Millis timeout = Millis(10000));

 private:
  TempDir dir_;
  SignerKey signer_;
  uint64_t btc_counter_ = 0;
};

// Polls `pred` every `every` until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& pred, Millis timeout, Millis every = Millis(50));

}  // namespace ailee::it
