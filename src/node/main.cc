// ailee-node: the AILEE-Core L2 node.
//   ailee-node [--config FILE] [--follow URL] [--allow-lone-start] [--recreate-fence]
//              [--background-proof-pace N]
// Exits 0 after SIGTERM/SIGINT, 2 on an invalid config, 3 when the background
// proof of a restored state fails (node/background_proof.h), 1 on other failures.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "crypto/secure.h"
#include "node/background_proof.h"
#include "node/node.h"
#include "node/reopenable_file_sink.h"

namespace {

// Returns the log file's sink (null without a log_file) for SIGHUP to reopen.
std::shared_ptr<ailee::node::ReopenableFileSink> SetUpLogging(const ailee::config::NodeConfig& cfg) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  std::shared_ptr<ailee::node::ReopenableFileSink> file;
  if (!cfg.logging.log_file.empty()) {
    file = std::make_shared<ailee::node::ReopenableFileSink>(cfg.logging.log_file);
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("ailee-node", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(cfg.logging.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  ailee::crypto::DisableCoreDumps();  // the process holds the signer key
  CLI::App app{"ailee-node: AILEE-Core L2 node (sequencer, or follower with --follow)"};
  std::string config_path = "/etc/ailee/config.yaml";
  std::string follow;
  app.add_option("--config", config_path, "node configuration (YAML)")->envname("AILEE_CONFIG")->capture_default_str();
  app.add_option("--follow", follow, "follow this leader (http://host:port) instead of producing blocks");
  bool allow_lone_start = false, recreate_fence = false;
  app.add_flag("--allow-lone-start", allow_lone_start,
               "lead without learning the network's tip from the peers (a lone first start); audited, and never "
               "below the signing fence");
  app.add_flag("--recreate-fence", recreate_fence,
               "write the signing fence at the data dir's tip (after the fence was lost and the tip recovered from "
               "the peers or the archive; never lowers a fence), audit it and exit");
  int64_t proof_pace = 0;
  app.add_option("--background-proof-pace", proof_pace,
                 "a restored state proven in the background (restore --prove-in-background): at most this many "
                 "blocks per second, to leave the disk and cores to serving (0: as fast as it can)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals and SIGHUP (reopen the log, after logrotate) in
  // every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto cfg = ailee::config::LoadConfig(config_path);
  if (!cfg.ok()) {
    std::cerr << "ailee-node: invalid configuration " << config_path << ":\n" << cfg.status().message() << std::endl;
    return cfg.status().code() == ailee::StatusCode::kNotFound ? 1 : 2;
  }
  // The sink throws when the file cannot be opened (wrong user, read-only
  // or missing directory, a FIFO nobody reads): uncaught, that was an abort
  // (exit 134, the C++ runtime's "terminate called") instead of a message.
  std::shared_ptr<ailee::node::ReopenableFileSink> log_file;
  try {
    log_file = SetUpLogging(*cfg);
  } catch (const spdlog::spdlog_ex& e) {
    std::cerr << "ailee-node: cannot open the log file " << cfg->logging.log_file << " (logging.log_file in " << config_path
              << "): " << e.what() << "\nhint: the node appends to that file: its directory must exist and be writable by "
              << "the user the node runs as (ailee under systemd: docs/operations.md, \"Permission model\")" << std::endl;
    return 1;
  }
  ailee::node::NodeOptions options{*cfg, follow};
  options.allow_lone_start = allow_lone_start;
  options.proof_max_blocks_per_second = proof_pace;
  auto node = ailee::node::Node::Create(std::move(options));
  if (!node.ok()) {
    spdlog::error("cannot start: {}", node.status().ToString());
    if (ailee::node::IsFailedProof(node.status())) {  // the restored state's database does not open
      std::cerr << "ailee-node: stopped: " << node.status().ToString() << std::endl;
      return 3;
    }
    return node.status().code() == ailee::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (recreate_fence) {
    auto st = (*node)->RecreateFenceAtTip();
    if (!st.ok()) spdlog::error("cannot re-create the signing fence: {}", st.ToString());
    return st.ok() ? 0 : 1;
  }
  if (auto st = (*node)->Start(); !st.ok()) {
    spdlog::error("cannot start: {}", st.ToString());
    return 1;
  }
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      if (!log_file) continue;
      auto st = log_file->Reopen();
      if (st.ok()) spdlog::info("received SIGHUP, reopened the log file");
      else spdlog::error("received SIGHUP: {}", st.ToString());
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    (*node)->Stop();
  });
  (*node)->Wait();
  // If Stop came from elsewhere, release the signal waiter.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  const ailee::Status why = (*node)->exit_status();
  if (!why.ok()) {
    std::cerr << "ailee-node: stopped: " << why.ToString() << std::endl;
    return why.code() == ailee::StatusCode::kDataLoss ? 3 : 1;
  }
  return 0;
}
