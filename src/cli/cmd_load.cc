// load: the load generator (datasets for tests, demos and benchmarks).
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/context.h"
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

void SetUpLoad(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "load",
      "Generate signed transactions over many accounts. --mode http drives a running leader at --rate tx/s;\n"
      "--mode bulk feeds a stopped node's data dir through the node's own block code (fast dataset building).\n"
      "Accounts are funded by peg-ins signed with the config's signer key.");
  struct Args {
    std::string mode = "http", url, target_size;
    uint64_t accounts = 1000, max_tx = 0, seed = 1;
    double rate = 500, duration = 10;
    size_t memo = 128, block_txs = 4000;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--mode", a->mode, "http or bulk")->check(CLI::IsMember({"http", "bulk"}))->capture_default_str();
  cmd->add_option("--url", a->url, "node API URL for http mode (default: from the config)");
  cmd->add_option("--accounts", a->accounts, "number of accounts")->capture_default_str();
  cmd->add_option("--rate", a->rate, "http: target transactions per second")->capture_default_str();
  cmd->add_option("--duration", a->duration, "stop after this many seconds (0 = no limit)")->capture_default_str();
  cmd->add_option("--max-tx", a->max_tx, "stop after this many transactions (0 = no limit)");
  cmd->add_option("--target-size", a->target_size, "bulk: stop when the database reaches this size (e.g. 2GiB)");
  cmd->add_option("--memo-bytes", a->memo, "memo size per transfer")->capture_default_str();
  cmd->add_option("--block-tx", a->block_txs, "bulk: transactions per block")->capture_default_str();
  cmd->add_option("--seed", a->seed, "account seed (same seed = same accounts)")->capture_default_str();
  cmd->callback([&g, a] {
    auto cfg = LoadConfigFor(g);
    if (!cfg.ok()) return SetResult(cfg.status());
    auto target = ParseSize(a->target_size);
    if (!target.ok()) return SetResult(target.status());
    loadgen::LoadOptions o;
    o.mode = a->mode == "bulk" ? loadgen::LoadOptions::Mode::kBulk : loadgen::LoadOptions::Mode::kHttp;
    o.config = *cfg;
    o.node_url = a->url.empty() ? NodeUrl(*cfg) : a->url;
    o.accounts = a->accounts;
    o.rate = a->rate;
    o.duration_s = a->duration;
    o.max_transactions = a->max_tx;
    o.target_bytes = *target;
    o.memo_bytes = a->memo;
    o.block_transactions = a->block_txs;
    o.seed = a->seed;
    ProgressLine progress(g, "load");
    o.progress = [&](uint64_t txs, uint64_t, uint64_t bytes, double) { progress.Update("database", bytes, *target); (void)txs; };
    auto r = loadgen::RunLoad(o);
    progress.Done();
    if (!r.ok()) return SetResult(r.status());
    nlohmann::json j = {{"mode", a->mode}, {"submitted", r->submitted}, {"accepted", r->accepted}, {"rejected", r->rejected},
                        {"funded_accounts", r->funded_accounts}, {"blocks", r->blocks}, {"height", r->final_height},
                        {"database_bytes", r->database_bytes}, {"seconds", r->seconds}, {"tx_per_second", r->tx_per_second()}};
    if (g.json) PrintJson(j);
    PrintLine(g, "load (" + a->mode + "): " + std::to_string(r->accepted) + " transactions accepted (" +
                     std::to_string(r->rejected) + " rejected) in " + std::to_string(r->seconds) + " s = " +
                     std::to_string(static_cast<uint64_t>(r->tx_per_second())) + " tx/s; height " +
                     std::to_string(r->final_height) + (r->database_bytes ? ", database " + HumanBytes(r->database_bytes) : ""));
    SetResult(Status::Ok());
  });
}

}  // namespace

void SetUpLoadCommand(CLI::App& app, Session& s) { SetUpLoad(app, s.global()); }

}  // namespace ailee::cli
