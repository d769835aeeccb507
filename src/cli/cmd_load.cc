// load: the load generator (datasets for tests, demos and benchmarks).
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "config/node_access.h"
#include "loadgen/loadgen.h"

namespace ailee::cli {
namespace {

Result<uint64_t> ParseSize(const std::string& s) {
  if (s.empty()) return uint64_t{0};
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    return InvalidArgument("--target-size: expected a size like 2GiB, found '" + s + "'");
  }
  std::string unit = s.substr(pos);
  double mult = 1;
  if (unit == "K" || unit == "KiB") mult = 1024.0;
  else if (unit == "M" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") return InvalidArgument("--target-size: unknown unit '" + unit + "' (use B, KiB, MiB, GiB)");
  return static_cast<uint64_t>(v * mult);
}

struct LoadArgs {
  std::string mode = "http", url, target_size;
  uint64_t accounts = 1000, max_tx = 0, seed = 1, presign = 0;
  double rate = 500, duration = 10;
  size_t memo = 128, block_txs = 4000, batch = 0, connections = 1;
};

loadgen::LoadOptions OptionsFrom(const LoadArgs& a, const config::NodeConfig& cfg, uint64_t target_bytes) {
  loadgen::LoadOptions o;
  o.mode = a.mode == "bulk" ? loadgen::LoadOptions::Mode::kBulk : loadgen::LoadOptions::Mode::kHttp;
  o.config = cfg;
  o.node_url = a.url.empty() ? config::NodeUrl(cfg) : a.url;
  o.accounts = a.accounts;
  o.rate = a.rate;
  o.http_batch = a.batch;
  o.http_connections = a.connections;
  o.presign = a.presign;
  o.duration_s = a.duration;
  o.max_transactions = a.max_tx;
  o.target_bytes = target_bytes;
  o.memo_bytes = a.memo;
  o.block_transactions = a.block_txs;
  o.seed = a.seed;
  return o;
}

void SetUpLoad(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand(
      "load",
      "Generate signed transactions over many accounts. --mode http drives a running leader at --rate tx/s;\n"
      "--mode bulk feeds a stopped node's data dir through the node's own block code (fast dataset building).\n"
      "Accounts are funded by peg-ins signed with the config's signer key.");
  auto a = std::make_shared<LoadArgs>();
  cmd->add_option("--mode", a->mode, "http or bulk")->check(CLI::IsMember({"http", "bulk"}))->capture_default_str();
  cmd->add_option("--url", a->url, "node API URL for http mode (default: from the config)");
  cmd->add_option("--accounts", a->accounts, "number of accounts")->capture_default_str();
  cmd->add_option("--rate", a->rate, "http: target transactions per second")->capture_default_str();
  cmd->add_option("--batch", a->batch, "http: transfers per POST /v1/txs request (0 = one per POST /v1/tx)")
      ->check(CLI::Range(size_t{0}, size_t{1000}))
      ->capture_default_str();
  cmd->add_option("--connections", a->connections,
                  "http: requests in flight at once, each on its own connection with its own senders")
      ->check(CLI::Range(size_t{1}, size_t{64}))
      ->capture_default_str();
  cmd->add_option("--presign", a->presign,
                  "http: transfers to sign before the clock starts (the rest are signed as they are sent)")
      ->capture_default_str();
  cmd->add_option("--duration", a->duration, "stop after this many seconds (0 = no limit)")->capture_default_str();
  cmd->add_option("--max-tx", a->max_tx, "stop after this many transactions (0 = no limit)");
  cmd->add_option("--target-size", a->target_size, "bulk: stop when the database reaches this size (e.g. 2GiB)");
  cmd->add_option("--memo-bytes", a->memo, "memo size per transfer")->capture_default_str();
  cmd->add_option("--block-tx", a->block_txs, "bulk: transactions per block")->capture_default_str();
  cmd->add_option("--seed", a->seed, "account seed (same seed = same accounts)")->capture_default_str();
  cmd->callback([&s, a] {
    auto cfg = s.RequireConfig();
    if (!cfg.ok()) return EndCommand(s, cfg.status());
    auto target = ParseSize(a->target_size);
    if (!target.ok()) return EndCommand(s, target.status());
    loadgen::LoadOptions o = OptionsFrom(*a, **cfg, *target);
    ProgressLine progress(s.global(), "load");
    o.progress = [&](uint64_t, uint64_t, uint64_t bytes, double) { progress.Update("database", bytes, *target); };
    auto r = loadgen::RunLoad(o);
    progress.Done();
    EndCommand(
        s, r, {},
        [&](const loadgen::LoadReport& l) {
          return nlohmann::json{{"mode", a->mode}, {"submitted", l.submitted}, {"accepted", l.accepted}, {"rejected", l.rejected}, {"resent", l.resent},
                                {"funded_accounts", l.funded_accounts}, {"blocks", l.blocks}, {"in_blocks", l.in_blocks}, {"height", l.final_height},
                                {"database_bytes", l.database_bytes}, {"seconds", l.seconds}, {"tx_per_second", l.tx_per_second()}};
        },
        [&](const loadgen::LoadReport& l) {
          return "load (" + a->mode + "): " + std::to_string(l.accepted) + " transactions accepted (" +
                 std::to_string(l.rejected) + " rejected, " + std::to_string(l.resent) + " of them resent) in " + std::to_string(l.seconds) + " s = " +
                 std::to_string(static_cast<uint64_t>(l.tx_per_second())) + " tx/s; height " + std::to_string(l.final_height) +
                 (l.database_bytes ? ", database " + HumanBytes(l.database_bytes) : "");
        });
  });
}

}  // namespace

void SetUpLoadCommand(CLI::App& app, Session& s) { SetUpLoad(app, s); }

}  // namespace ailee::cli
