// recover-node killed (SIGKILL) at random moments of a follower's recovery,
// then rerun until it completes: the follower ends at the leader's state
// root, a state phase that finished is never redone over what came after it,
// and no scratch tree is left beside the data dir. The delays are seeded
// (the seed is printed; AILEE_TEST_SEED=N repeats a run) and spread over the
// measured duration of one uninterrupted recovery.
#include <chrono>
#include <random>
#include <regex>
#include <thread>

#include "recover_world.h"

namespace ailee::it {
namespace {

constexpr int kKills = 6;

uint64_t Seed() {
  if (const char* s = std::getenv("AILEE_TEST_SEED")) return std::stoull(s);
  return std::random_device{}();
}

// The state phase the journal records as finished (null when none).
nlohmann::json JournaledState(const std::string& journal) {
  const std::string text = ReadText(journal);
  if (text.empty()) return nullptr;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("phases") || !j["phases"].contains("state")) return nullptr;
  return j["phases"]["state"]["detail"];
}

// Names base/scratch.h gives (an owner tag "<pid>s<start>") and the fixed
// ones recover-node uses, left in the data dir's parent.
std::vector<std::string> ScratchLeft(const std::string& dir) {
  static const std::regex owner_tag(R"(\d+s\d+)");
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (std::regex_search(name, owner_tag) || name.find(".peer-checkpoint") != std::string::npos ||
        name.find(".tmp") != std::string::npos)
      left.push_back(name);
  }
  return left;
}

TEST(RecoverNodeKill, KilledAtRandomMomentsThenRerunCompletesWithoutRedoingTheState) {
  const uint64_t seed = Seed();
  std::cout << "recover-node kill test seed: " << seed << " (AILEE_TEST_SEED=" << seed << " repeats it)\n";
  SCOPED_TRACE("AILEE_TEST_SEED=" + std::to_string(seed));
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  w.BackUpAndKillFollower();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string journal = f.data_dir() + ".recover-journal.json";
  const std::vector<std::string> args = w.FollowerRecoverArgs();
  auto lose_host = [&] {
    for (int pid : NodesWithConfig(f.config_path())) StopSpawned(pid);
    stdfs::remove_all(f.dir());
  };

  // One uninterrupted recovery: how long a run takes here, now.
  lose_host();
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult whole = w.Recover(f, args);
  const auto measured = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0);
  ASSERT_EQ(whole.exit_code, 0) << whole;
  std::cout << "one recovery took " << measured.count() << " ms\n";

  std::mt19937_64 rng(seed);
  lose_host();
  nlohmann::json state_before = nullptr;  // what the journal said after the last kill
  int killed = 0;
  for (int i = 0; i < kKills; ++i) {
    // Kill i lands in the i-th sixth of the measured run.
    const double at = (i + std::uniform_real_distribution<double>(0.0, 1.0)(rng)) / kKills;
    const Millis delay(static_cast<int64_t>(at * static_cast<double>(measured.count())));
    std::vector<std::string> a = {"--audit-log", w.audit, "recover-node", "--node", "follower", "--passphrase-file",
                                  w.pass_file, "--node-binary", NodeBinary(), "--wait", "60"};
    a.insert(a.end(), args.begin(), args.end());
    const std::string log = w.s.dir().Join("kill-" + std::to_string(i) + ".log");
    ASSIGN_OR_FAIL(Process cli, w.s.CliBackground(f, a, log));
    const std::optional<int> exit_code = cli.Wait(delay);
    if (!exit_code) {
      cli.Kill();
      ++killed;
    }
    std::cout << "run " << i << ": " << (exit_code ? "ended" : "killed") << " after " << delay.count() << " ms\n";
    nlohmann::json state_now = JournaledState(journal);
    // Killed after it had finished (the journal removed, the report written).
    const bool ended = exit_code || (state_now.is_null() && ReadText(f.data_dir() + ".recover-report.json")
                                                                 .find("\"complete\": true") != std::string::npos);
    // A state once journaled stays what it was: a rerun never restores over it.
    if (!state_before.is_null()) {
      EXPECT_FALSE(state_now.is_null()) << "run " << i << ": " << FileTail(log);
      if (!state_now.is_null()) {
        EXPECT_EQ(state_now["state_root"], state_before["state_root"]) << "run " << i;
        EXPECT_EQ(state_now["height"], state_before["height"]) << "run " << i;
      }
    }
    state_before = state_now;
    if (ended) {
      // Finished (or failed) before the kill: it must have finished, and the
      // next kill lands in a new recovery.
      EXPECT_EQ(exit_code.value_or(0), 0) << FileTail(log);
      lose_host();
      state_before = nullptr;
    }
  }
  EXPECT_GT(killed, 0) << "no run was killed: the kills all came too late";

  CommandResult last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    last = w.Recover(f, args);
    if (last.exit_code == 0) break;
  }
  ASSERT_EQ(last.exit_code, 0) << last;
  nlohmann::json r = JsonOut(last);
  // The node this run started, or one a killed run started: stopped at the end.
  const std::vector<int> pids = NodesWithConfig(f.config_path());
  std::vector<Spawned> nodes(pids.size());  // in place: a Spawned stops its pid when destroyed
  for (size_t i = 0; i < pids.size(); ++i) nodes[i].pid = pids[i];
  EXPECT_EQ(r["complete"], true) << last;
  if (!state_before.is_null()) {
    EXPECT_EQ(r["phases"][2]["outcome"], "skipped: finished in an earlier run") << last;
  }
  EXPECT_FALSE(Exists(journal));
  EXPECT_EQ(ScratchLeft(f.dir()), std::vector<std::string>{}) << "scratch left beside the data dir " << f.data_dir();

  // The same state root as the leader at the same height.
  auto status = f.StatusJson();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  const uint64_t h = (*status)["height"].get<uint64_t>();
  const std::string root = BlockRoot(f.url(), h);
  EXPECT_FALSE(root.empty());
  EXPECT_EQ(root, BlockRoot(w.leader->url(), h)) << "height " << h;
}

}  // namespace
}  // namespace ailee::it
