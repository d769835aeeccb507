// node_bench: the node's throughput numbers, measured with the real binaries
// on loopback (run through bench/run-node-bench.sh; not a test).
//
//   1. transactions per second: `ailee-cli load --mode http` against a
//      running leader at a rate above what it sustains, one transaction per
//      POST /v1/tx and BENCH_HTTP_BATCH per POST /v1/txs, and `--mode bulk`
//      feeding the node's block code directly;
//   2. blocks per second a fresh follower catches up with a leader that was
//      pre-filled (bulk) with BENCH_FOLLOW_BLOCKS blocks;
//   3. seconds per GiB of a from-scratch verification (`ailee-cli
//      verify-state`: hash chain, signatures, state root recomputed over
//      every entry) of a bulk-built dataset of BENCH_DATASET bytes, and the
//      node's own from-scratch state-root recomputation (health-check --deep).
//
// Knobs (environment): BENCH_SECONDS (20), BENCH_HTTP_RATE (100000), BENCH_HTTP_BATCH (500),
// BENCH_HTTP_CONNECTIONS (2), BENCH_HTTP_PRESIGN (12000 x BENCH_SECONDS),
// BENCH_ACCOUNTS (1000), BENCH_FOLLOW_BLOCKS (2000), BENCH_FOLLOW_BLOCK_TX
// (50), BENCH_DATASET (256MiB), BENCH_DATASET_ACCOUNTS (10000;
// ailee-cli load keeps every account key in sodium_malloc memory, so about
// 20000 accounts exhaust vm.max_map_count),
// BENCH_MEMO_BYTES (2048), BENCH_PARTS (http,follow,dataset), AILEE_TEST_TMPDIR (where the data goes).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/fs.h"
#include "harness.h"

namespace ailee::it {
namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Row {
  std::string what;
  std::string value;
  std::string detail;
};

// Rows are printed as they are measured (stderr) and as a table at the end.
struct Rows {
  void push_back(Row r) {
    std::fprintf(stderr, "node_bench: %s: %s (%s)\n", r.what.c_str(), r.value.c_str(), r.detail.c_str());
    all.push_back(std::move(r));
  }
  std::vector<Row> all;
};

[[noreturn]] void Fail(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "node_bench: %s\n%s\n", what.c_str(), detail.c_str());
  std::exit(1);
}

nlohmann::json MustJson(const CommandResult& r, const std::string& what) {
  if (r.exit_code != 0) Fail(what + " failed", r.Describe());
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) Fail(what + ": output is not JSON", r.Describe());
  return j;
}

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

constexpr double kGiB = 1024.0 * 1024 * 1024;

// --presign and --connections only when they differ from the defaults, so
// BENCH_HTTP_PRESIGN=0 BENCH_HTTP_CONNECTIONS=1 with AILEE_CLI_BIN pointing at
// an older ailee-cli (without those options) measures it for an A/B.
std::vector<std::string> WithClientKnobs(std::vector<std::string> args, const std::string& presign,
                                         const std::string& connections) {
  if (presign != "0") args.insert(args.end(), {"--presign", presign});
  if (connections != "1") args.insert(args.end(), {"--connections", connections});
  return args;
}

// Each measurement's leader is its own chain, so it signs with its own copy
// of the key (its own signing fence, which bulk loads advance too).
TestNode AddLeader(Scenario& s, NodeSpec spec) {
  auto own = s.WithOwnKeyCopy(std::move(spec));
  if (!own.ok()) Fail("copy the signer key", own.status().ToString());
  return s.AddNode(std::move(own).value());
}

int Main() {
  const std::string seconds = Env("BENCH_SECONDS", "20");
  const std::string rate = Env("BENCH_HTTP_RATE", "100000");
  const std::string batch = Env("BENCH_HTTP_BATCH", "500");
  const std::string connections = Env("BENCH_HTTP_CONNECTIONS", "2");
  // Signed before each HTTP run's clock starts (the rest as they are sent):
  // enough for 12,000 tx/s by default, so the generator's signing does not
  // take the node's cores.
  const std::string presign = Env("BENCH_HTTP_PRESIGN", std::to_string(12000 * std::stoull(Env("BENCH_SECONDS", "20"))));
  const std::string accounts = Env("BENCH_ACCOUNTS", "1000");
  const uint64_t follow_blocks = std::stoull(Env("BENCH_FOLLOW_BLOCKS", "2000"));
  const uint64_t follow_block_tx = std::stoull(Env("BENCH_FOLLOW_BLOCK_TX", "50"));
  const std::string dataset = Env("BENCH_DATASET", "256MiB");
  const std::string dataset_accounts = Env("BENCH_DATASET_ACCOUNTS", "10000");
  const std::string memo = Env("BENCH_MEMO_BYTES", "2048");
  // Which measurements to run (a comma-separated subset), e.g. "http" alone
  // for a quick A/B of the intake path.
  const std::string parts = "," + Env("BENCH_PARTS", "http,follow,dataset") + ",";
  auto wanted = [&](const char* part) { return parts.find("," + std::string(part) + ",") != std::string::npos; };
  const Millis long_op(3600 * 1000);
  Rows rows;
  Scenario s("bench");
  std::fprintf(stderr, "node_bench: working in %s\n", s.dir().path().c_str());

  // 1a. HTTP: one client connection submitting signed transfers as fast as
  // the node accepts them (rate set above capacity).
  if (wanted("http")) {
    TestNode node = AddLeader(s, NodeSpec::Leader("tps", 200, 100));
    if (auto st = node.Start(); !st.ok()) Fail("start node", st.ToString());
    std::fprintf(stderr, "node_bench: http load for %s s...\n", seconds.c_str());
    auto j = MustJson(s.Cli(node, WithClientKnobs({"-q", "--json", "load", "--mode", "http", "--accounts", accounts,
                                                   "--rate", rate, "--duration", seconds, "--memo-bytes", "128"},
                                                  presign, "1"),
                            long_op),
                      "http load");
    // Everything accepted must land in blocks: wait for the mempool to drain.
    WaitUntil([&] {
      auto st = node.StatusJson();
      return st.ok() && (*st)["mempool"].get<uint64_t>() == 0;
    }, Millis(30000));
    auto st = node.StatusJson();
    rows.push_back({"HTTP submit (1 client, ailee-cli load --mode http)",
                    Fmt("%.0f tx/s", j["tx_per_second"].get<double>()),
                    std::to_string(j["accepted"].get<uint64_t>()) + " accepted, " +
                        std::to_string(j["rejected"].get<uint64_t>()) + " rejected in " +
                        Fmt("%.1f s", j["seconds"].get<double>()) + "; " +
                        (st.ok() ? std::to_string((*st)["transactions"].get<uint64_t>()) : std::string("?")) +
                        " txs in blocks"});

    // 1b. HTTP batched: BENCH_HTTP_BATCH transfers per POST /v1/txs on
    // BENCH_HTTP_CONNECTIONS connections at once, against the same node.
    std::fprintf(stderr, "node_bench: batched http load (%s per request) for %s s...\n", batch.c_str(), seconds.c_str());
    auto jb = MustJson(s.Cli(node, WithClientKnobs({"-q", "--json", "load", "--mode", "http", "--batch", batch,
                                                    "--accounts", accounts, "--rate", rate, "--duration", seconds,
                                                    "--memo-bytes", "128", "--seed", "2"},
                                                   presign, connections),
                             long_op),
                       "batched http load");
    WaitUntil([&] {
      auto now = node.StatusJson();
      return now.ok() && (*now)["mempool"].get<uint64_t>() == 0;
    }, Millis(30000));
    rows.push_back({"HTTP submit batched (load --mode http --batch " + batch + " --connections " + connections + ")",
                    Fmt("%.0f tx/s", jb["tx_per_second"].get<double>()),
                    std::to_string(jb["accepted"].get<uint64_t>()) + " accepted, " +
                        std::to_string(jb["rejected"].get<uint64_t>()) + " rejected in " +
                        Fmt("%.1f s", jb["seconds"].get<double>()) +
                        (jb.contains("in_blocks")
                             ? "; " + Fmt("%.0f tx/s", jb["in_blocks"].get<double>() / jb["seconds"].get<double>()) +
                                   " into blocks meanwhile"
                             : std::string())});
    if (node.Terminate() != 0) Fail("node did not stop cleanly", FileTail(node.log_path()));

    // 1c. Bulk: the node's block code without HTTP, same data dir.
    std::fprintf(stderr, "node_bench: bulk load for %s s...\n", seconds.c_str());
    auto b = MustJson(s.Cli(node, {"-q", "--json", "load", "--mode", "bulk", "--accounts", accounts, "--duration",
                                   seconds, "--memo-bytes", "128"}, long_op),
                      "bulk load");
    rows.push_back({"Block application (ailee-cli load --mode bulk)", Fmt("%.0f tx/s", b["tx_per_second"].get<double>()),
                    std::to_string(b["accepted"].get<uint64_t>()) + " txs in " + std::to_string(b["blocks"].get<uint64_t>()) +
                        " blocks, " + Fmt("%.1f s", b["seconds"].get<double>())});
  }

  // 2. Follower catch-up from empty.
  if (wanted("follow")) {
    // A leader that does not produce during the measurement.
    TestNode leader = AddLeader(s, NodeSpec::Leader("leader", 600000, 100));
    if (auto st = leader.Start(); !st.ok()) Fail("start leader", st.ToString());
    leader.Terminate();  // writes the config and picks the port; bulk needs the dir unlocked
    std::fprintf(stderr, "node_bench: pre-filling the leader with %llu blocks...\n",
                 static_cast<unsigned long long>(follow_blocks));
    MustJson(s.Cli(leader, {"-q", "--json", "load", "--mode", "bulk", "--accounts", accounts, "--block-tx",
                            std::to_string(follow_block_tx), "--max-tx", std::to_string(follow_blocks * follow_block_tx),
                            "--duration", "0", "--memo-bytes", "128"}, long_op),
             "leader pre-fill");
    if (auto st = leader.Start(); !st.ok()) Fail("restart leader", st.ToString());
    auto ls = leader.StatusJson();
    if (!ls.ok()) Fail("leader status", ls.status().ToString());
    const uint64_t tip = (*ls)["height"].get<uint64_t>();
    const uint64_t txs = (*ls)["transactions"].get<uint64_t>();

    TestNode follower = s.AddNode(NodeSpec::Follower("follower", leader.url(), 1000, 100));
    const double t0 = Now();
    if (auto st = follower.Start(); !st.ok()) Fail("start follower", st.ToString());
    if (auto st = follower.WaitForHeight(tip, Millis(1800 * 1000)); !st.ok()) Fail("follower catch-up", st.ToString());
    const double dt = Now() - t0;
    auto fs_ = follower.StatusJson();
    if (!fs_.ok() || (*fs_)["state_root"] != (*ls)["state_root"]) Fail("follower state root differs", FileTail(follower.log_path()));
    rows.push_back({"Follower catch-up from empty", Fmt("%.0f blocks/s", static_cast<double>(tip) / dt),
                    std::to_string(tip) + " blocks (" + std::to_string(txs) + " txs, " + Fmt("%.0f tx/s", static_cast<double>(txs) / dt) +
                        ") in " + Fmt("%.1f s", dt) + ", incl. process start; state roots equal"});
    follower.Terminate();
    leader.Terminate();
  }

  // 3. From-scratch verification of a bulk-built dataset.
  if (wanted("dataset")) {
    TestNode node = AddLeader(s, NodeSpec::Leader("dataset", 600000, 100));
    if (auto st = node.Start(); !st.ok()) Fail("start node", st.ToString());
    node.Terminate();
    std::fprintf(stderr, "node_bench: building a %s dataset (bulk, %s accounts, %s-byte memos)...\n", dataset.c_str(),
                 dataset_accounts.c_str(), memo.c_str());
    auto b = MustJson(s.Cli(node, {"-q", "--json", "load", "--mode", "bulk", "--accounts", dataset_accounts,
                                   "--target-size", dataset, "--memo-bytes", memo, "--duration", "0"}, long_op),
                      "dataset build");
    auto size = fs::TreeSize(node.data_dir());
    const double bytes = size.ok() ? static_cast<double>(*size) : 0;
    rows.push_back({"Dataset build (bulk)", Fmt("%.1f MiB/s", bytes / 1048576.0 / b["seconds"].get<double>()),
                    Fmt("%.0f MiB", bytes / 1048576.0) + " data dir, " + std::to_string(b["accepted"].get<uint64_t>()) +
                        " txs, height " + std::to_string(b["height"].get<uint64_t>()) + ", " +
                        Fmt("%.1f s", b["seconds"].get<double>())});

    std::fprintf(stderr, "node_bench: verify-state...\n");
    double t0 = Now();
    auto v = MustJson(s.Cli(node, {"-q", "--json", "verify-state", node.data_dir()}, long_op), "verify-state");
    double dt = Now() - t0;
    const double entries = static_cast<double>(v["entries_checked"].get<uint64_t>());
    rows.push_back({"verify-state from scratch (chain + signatures + state root)", Fmt("%.1f s/GiB", dt / (bytes / kGiB)),
                    Fmt("%.1f s", dt) + " for " + Fmt("%.0f MiB", bytes / 1048576.0) + "; " +
                        std::to_string(v["blocks_checked"].get<uint64_t>()) + " blocks, " +
                        std::to_string(v["transactions_checked"].get<uint64_t>()) + " txs, " +
                        Fmt("%.0f", entries) + " state entries = " + Fmt("%.0f entries/s", entries / dt)});

    // The state root alone, recomputed by the node (streams the state once).
    if (auto st = node.Start(); !st.ok()) Fail("start node on dataset", st.ToString());
    t0 = Now();
    auto h = MustJson(s.Cli(node, {"--json", "health-check", "--deep"}, long_op), "health-check --deep");
    dt = Now() - t0;
    const double he = static_cast<double>(h["entries"].get<uint64_t>());
    rows.push_back({"State root recomputation alone (health-check --deep)", Fmt("%.0f entries/s", he / dt),
                    Fmt("%.0f", he) + " entries in " + Fmt("%.2f s", dt) + " (state is a small part of the dataset: " +
                        Fmt("%.1f s per GiB of data dir", dt / (bytes / kGiB)) + ")"});
    node.Terminate();
  }

  std::printf("\n%-60s | %-16s | %s\n", "measurement", "result", "detail");
  std::printf("%s\n", std::string(140, '-').c_str());
  for (const auto& r : rows.all) std::printf("%-60s | %-16s | %s\n", r.what.c_str(), r.value.c_str(), r.detail.c_str());
  return 0;
}

}  // namespace
}  // namespace ailee::it

int main() { return ailee::it::Main(); }
