// recover-node with real nodes on loopback and a real repository: a follower
// whose host is lost (data dir, config, local repository, audit log) comes
// back from an offsite copy at the leader's state; a lost leader comes back
// from its follower's live checkpoint with RPO 0 and never signs a height
// twice; a run stopped at a phase boundary continues without redoing the
// state; a node that still runs is refused, nothing changed.
#include <sys/stat.h>

#include "recover_world.h"
#include "state/proof_pending.h"

namespace ailee::it {
namespace {

TEST(RecoverNode, FollowerHostLostComesBackFromTheOffsiteCopy) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  CommandResult cfg = w.s.Cli(f, {"backup", "config", "--secrets-passphrase-file", w.secrets_file});
  ASSERT_EQ(cfg.exit_code, 0) << cfg;
  CommandResult st = w.s.Cli(f, {"backup", "state"});
  ASSERT_EQ(st.exit_code, 0) << st;
  const std::string offsite = w.s.dir().Join("offsite");
  ASSERT_OK(CopyTree(w.repo_dir, offsite));

  // The host is gone: node, data dir, config, audit log, local repository.
  f.Kill();
  stdfs::remove_all(f.dir());
  stdfs::remove_all(w.repo_dir);
  ASSERT_OK(w.leader->WaitForHeight(w.leader->Height().value() + 5, Millis(20000)));

  // Refused without a terminal and without --yes, nothing written.
  CommandResult unconfirmed = w.Recover(f, {"--repo", "file://" + offsite, "--secrets-passphrase-file", w.secrets_file});
  EXPECT_NE(unconfirmed.exit_code, 0) << unconfirmed;
  EXPECT_NE(unconfirmed.err.find("--yes"), std::string::npos) << unconfirmed;
  EXPECT_FALSE(Exists(f.config_path()));

  CommandResult dry = w.Recover(f, {"--repo", "file://" + offsite, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry;
  nlohmann::json plan = JsonOut(dry)["plan"];
  ASSERT_EQ(plan.size(), 5u) << dry;
  EXPECT_NE(plan[0]["source"].get<std::string>().find("config snapshot"), std::string::npos) << dry;
  EXPECT_NE(plan[2]["source"].get<std::string>().find("state snapshot"), std::string::npos) << dry;
  EXPECT_GT(plan[2]["bytes"].get<uint64_t>(), 0u) << dry;
  EXPECT_FALSE(Exists(f.config_path())) << "a dry run changes nothing";

  CommandResult out = w.Recover(f, {"--repo", "file://" + offsite, "--secrets-passphrase-file", w.secrets_file,
                                    "--start", "--yes"});
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  Spawned node{r.value("node_pid", 0)};
  EXPECT_EQ(r["complete"], true) << out;
  ASSERT_EQ(r["phases"].size(), 5u) << out;
  EXPECT_EQ(r["phases"][0]["outcome"], "restored") << out;
  EXPECT_EQ(r["phases"][2]["outcome"], "restored") << out;
  ASSERT_TRUE(r["rpo_blocks"].is_number()) << out;
  EXPECT_GT(r["rpo_blocks"].get<uint64_t>(), 0u) << "the snapshot is behind the leader: " << out;
  EXPECT_TRUE(Exists(r["report"].get<std::string>())) << out;
  int64_t phases_ms = 0;
  for (const auto& p : r["phases"]) phases_ms += p["duration_ms"].get<int64_t>();
  EXPECT_GE(r["rto_ms"].get<int64_t>(), phases_ms) << "the RTO covers every phase, the config's included: " << out;
  EXPECT_FALSE(Exists(f.data_dir() + ".recover-journal.json")) << "a finished recovery leaves no journal";

  // Caught up: the same state root as the leader at the same height.
  auto status = f.StatusJson();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  const uint64_t h = (*status)["height"].get<uint64_t>();
  EXPECT_EQ(BlockRoot(f.url(), h), BlockRoot(w.leader->url(), h)) << "height " << h;
  // Audited: every phase, in the operator's audit log.
  std::ifstream in(w.audit);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* phase : {"config", "key", "state", "start", "health"})
    EXPECT_NE(log.find(std::string("recover-node.") + phase), std::string::npos) << phase;

  // Still running: a second recovery is refused, nothing changed.
  CommandResult again = w.Recover(f, {"--repo", "file://" + offsite, "--yes"});
  EXPECT_NE(again.exit_code, 0) << again;
  EXPECT_NE(again.err.find("still runs"), std::string::npos) << again;
}

// --prove-in-background (issue 16): the state is swapped in unproven, the
// node answers with its proof running, proves it, then catches up; the
// report times "serving" and "proven" separately.
TEST(RecoverNode, ProveInBackgroundServesFirstThenProvesAndCatchesUp) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  w.BackUpAndKillFollower();
  if (::testing::Test::HasFatalFailure()) return;
  stdfs::remove_all(f.dir());  // the host is lost
  ASSERT_OK(w.leader->WaitForHeight(w.leader->Height().value() + 3, Millis(20000)));

  std::vector<std::string> args = w.FollowerRecoverArgs();
  args.push_back("--prove-in-background");
  CommandResult out = w.Recover(f, args);
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  Spawned node{r.value("node_pid", 0)};
  EXPECT_EQ(r["complete"], true) << out;
  ASSERT_EQ(r["phases"].size(), 5u) << out;
  EXPECT_EQ(r["phases"][2]["outcome"], "restored") << out;
  EXPECT_NE(r["phases"][2]["detail"].value("proof", "").find("pending"), std::string::npos) << out;
  // Serving (proof running) and proven, each within the whole RTO.
  ASSERT_TRUE(r["rto_serving_ms"].is_number()) << out;
  ASSERT_TRUE(r["rto_proven_ms"].is_number()) << out;
  EXPECT_LE(r["rto_serving_ms"].get<int64_t>(), r["rto_proven_ms"].get<int64_t>()) << out;
  EXPECT_LE(r["rto_proven_ms"].get<int64_t>(), r["rto_ms"].get<int64_t>()) << out;
  EXPECT_NE(ReadText(r["report"].get<std::string>()).find("\"rto_proven_ms\""), std::string::npos);
  // The node started gated and proved the state itself.
  const std::string log = ReadText(r["phases"][3]["detail"].value("log", ""));
  EXPECT_NE(log.find("proving it in the background"), std::string::npos) << log;
  auto status = f.StatusJson();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ((*status)["proof"].value("state", ""), "proven") << status->dump();
  EXPECT_FALSE(Exists(f.data_dir() + "/" + state::kProofPendingName));
  // Caught up past the snapshot, on the leader's chain.
  ASSERT_TRUE(r["rpo_blocks"].is_number()) << out;
  EXPECT_GT(r["rpo_blocks"].get<uint64_t>(), 0u) << "the snapshot is behind the leader: " << out;
  const uint64_t h = (*status)["height"].get<uint64_t>();
  EXPECT_GE(h, r["recovered_height"].get<uint64_t>() + r["rpo_blocks"].get<uint64_t>()) << out;
  EXPECT_EQ(BlockRoot(f.url(), h), BlockRoot(w.leader->url(), h)) << "height " << h;
}

// Killed (SIGKILL) right after each phase is journaled, then rerun: the
// rerun completes, a state finished before the kill is not restored again,
// and the node ends at the leader's state.
TEST(RecoverNode, KilledAtEachPhaseBoundaryThenRerunCompletesWithoutRedoingTheState) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  w.BackUpAndKillFollower();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string journal = f.data_dir() + ".recover-journal.json";
  const std::vector<std::string> args = w.FollowerRecoverArgs();
  for (const std::string boundary : {"config", "key", "state", "start"}) {
    SCOPED_TRACE("killed after " + boundary);
    // The last boundary is only a deep health check away from the end: a
    // run that finished between two looks is tried again.
    std::string text;
    for (int attempt = 0; attempt < 5 && text.find("\"" + boundary + "\"") == std::string::npos; ++attempt) {
      for (int pid : NodesWithConfig(f.config_path())) StopSpawned(pid);
      stdfs::remove_all(f.dir());  // the host lost again
      std::vector<std::string> a = {"--audit-log", w.audit, "recover-node", "--node", "follower", "--passphrase-file",
                                    w.pass_file, "--node-binary", NodeBinary(), "--wait", "60"};
      a.insert(a.end(), args.begin(), args.end());
      ASSIGN_OR_FAIL(Process cli, w.s.CliBackground(f, a, w.s.dir().Join("recover-" + boundary + ".log")));
      bool reached = WaitUntil([&] {
        std::ifstream in(journal);
        text.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.find("\"" + boundary + "\"") != std::string::npos || !cli.Running();
      }, Millis(60000), Millis(2));
      ASSERT_TRUE(reached);
      cli.Kill();
      std::ifstream in(journal);
      text.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    ASSERT_NE(text.find("\"" + boundary + "\""), std::string::npos)
        << "every run ended before the boundary: " << FileTail(w.s.dir().Join("recover-" + boundary + ".log"));
    const bool state_done = text.find("\"state\"") != std::string::npos;

    CommandResult again = w.Recover(f, args);
    for (int pid : NodesWithConfig(f.config_path())) StopSpawned(pid);
    ASSERT_EQ(again.exit_code, 0) << again;
    nlohmann::json r = JsonOut(again);
    EXPECT_EQ(r["complete"], true) << again;
    EXPECT_EQ(r["phases"][0]["outcome"], "kept") << again;
    const std::string state_outcome = r["phases"][2]["outcome"];
    if (state_done) EXPECT_EQ(state_outcome, "skipped: finished in an earlier run") << again;
    else EXPECT_TRUE(state_outcome == "restored" || state_outcome == "kept") << again;
    const uint64_t h = r["phases"][3]["detail"]["height"].get<uint64_t>();
    EXPECT_FALSE(Exists(journal));
    EXPECT_FALSE(Exists(f.data_dir() + ".peer-checkpoint"));
    EXPECT_EQ(r["phases"][4]["detail"]["health"]["state_root"].get<std::string>().size(), 64u);
    EXPECT_FALSE(BlockRoot(w.leader->url(), h).empty());
  }
}

// A node that no longer answers (stopped, stuck) but still holds its data
// dir: refused, naming the data dir, nothing changed.
TEST(RecoverNode, AStuckNodeHoldingItsDataDirIsRefused) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  ASSERT_EQ(w.s.Cli(f, {"backup", "state"}).exit_code, 0);
  f.process().Signal(SIGSTOP);
  CommandResult out = w.Recover(f, {"--yes"});
  f.process().Signal(SIGCONT);
  EXPECT_NE(out.exit_code, 0) << out;
  EXPECT_NE(out.err.find("is held"), std::string::npos) << out;
  EXPECT_FALSE(Exists(f.data_dir() + ".recover-journal.json"));
}

// A data dir on another chain (a leader with its own key copy signed its
// own blocks) is a fork: refused by name, the data dir left as it was.
TEST(RecoverNode, ADataDirOnAnotherChainIsRefusedAsAFork) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& f = *w.follower;
  CommandResult st = w.s.Cli(f, {"--json", "backup", "state"});
  ASSERT_EQ(st.exit_code, 0) << st;
  const uint64_t snapshot_height = JsonOut(st)["height"].get<uint64_t>();
  f.Kill();
  ASSIGN_OR_FAIL(NodeSpec other_spec, w.s.WithOwnKeyCopy(NodeSpec::Leader("other", 50)));
  TestNode other = w.s.AddNode(other_spec);
  ASSERT_OK(other.Start());
  ASSERT_OK(other.WaitForHeight(snapshot_height + 3, Millis(30000)));
  other.Terminate();
  stdfs::remove_all(f.data_dir());
  ASSERT_OK(CopyTree(other.data_dir(), f.data_dir()));
  stdfs::remove(f.data_dir() + "/admin.token");
  const auto before = FilesUnder(f.data_dir());

  CommandResult out = w.Recover(f, {"--yes"});
  EXPECT_EQ(out.exit_code, 3) << out;
  EXPECT_NE(out.err.find("fork"), std::string::npos) << out;
  EXPECT_NE(out.err.find("another chain"), std::string::npos) << out;
  EXPECT_EQ(FilesUnder(f.data_dir()), before) << "the data dir is left as it was";
}

TEST(RecoverNode, LeaderLostComesBackFromTheFollowersCheckpointWithRpoZero) {
  RecoverWorld w;
  w.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& l = *w.leader;
  const std::string key_file = w.s.signer().key_file;
  const std::string backups = w.s.dir().Join("key-backups");
  const std::string key_pass = w.s.dir().Join("key.pass");
  ASSERT_OK(WriteFile(key_pass, "signer key backup passphrase\n", 0600));
  CommandResult kb = w.s.Cli(l, {"keys", "backup", "--id", w.s.signer().id, "--key", key_file, "--out", backups,
                                 "--passphrase-file", key_pass});
  ASSERT_EQ(kb.exit_code, 0) << kb;
  CommandResult cb = w.s.Cli(l, {"backup", "config", "--secrets-passphrase-file", w.secrets_file});
  ASSERT_EQ(cb.exit_code, 0) << cb;
  CommandResult more = w.s.Cli(l, {"-q", "load", "--accounts", "50", "--rate", "300", "--duration", "2"});
  ASSERT_EQ(more.exit_code, 0) << more;

  // The leader's host is lost: config, data dir, signer key and fence.
  l.Kill();
  ASSERT_TRUE(WaitUntil([&] {
    auto fh = w.follower->Height();
    auto again = w.follower->Height();
    return fh.ok() && again.ok() && *fh == *again;
  }, Millis(5000)));
  const uint64_t follower_tip = w.follower->Height().value();
  stdfs::remove_all(l.data_dir());
  stdfs::remove(key_file);
  stdfs::remove(key_file + ".fence");
  stdfs::remove(l.config_path());
  const std::vector<std::string> lost = {"--repo", "file://" + w.repo_dir, "--secrets-passphrase-file", w.secrets_file};

  // Stopped at the start phase (no --start): config, key and state are done.
  CommandResult first = w.Recover(l, {lost[0], lost[1], lost[2], lost[3], "--key-backup", backups, "--key-passphrase-file", key_pass,
                                      "--peer-admin-token-file", w.follower->admin_token_path(), "--yes"});
  ASSERT_EQ(first.exit_code, 0) << first;
  nlohmann::json r1 = JsonOut(first);
  EXPECT_EQ(r1["complete"], false) << first;
  EXPECT_EQ(r1["phases"][0]["outcome"], "restored") << first;
  EXPECT_EQ(r1["phases"][1]["outcome"], "restored") << first;
  EXPECT_EQ(r1["phases"][2]["outcome"], "restored") << first;
  EXPECT_NE(r1["phases"][2]["detail"]["source"].get<std::string>().find("peer"), std::string::npos) << first;
  EXPECT_EQ(r1["recovered_height"].get<uint64_t>(), follower_tip) << first;
  EXPECT_EQ(r1["rpo_blocks"].get<uint64_t>(), 0u) << first;
  EXPECT_TRUE(Exists(l.data_dir() + ".recover-journal.json"));

  // The rerun continues: the state is not restored again.
  CommandResult second = w.Recover(l, {"--key-backup", backups, "--key-passphrase-file", key_pass,
                                       "--peer-admin-token-file", w.follower->admin_token_path(), "--start", "--yes"});
  ASSERT_EQ(second.exit_code, 0) << second;
  nlohmann::json r2 = JsonOut(second);
  Spawned node{r2.value("node_pid", 0)};
  EXPECT_EQ(r2["complete"], true) << second;
  EXPECT_EQ(r2["phases"][1]["outcome"], "kept") << second;
  EXPECT_EQ(r2["phases"][2]["outcome"], "skipped: finished in an earlier run") << second;

  // It produces again above the follower's tip, and no height was signed twice.
  ASSERT_OK(w.follower->WaitForHeight(follower_tip + 5, Millis(30000)));
  ASSIGN_OR_FAIL(auto lb, l.BlocksByHeight());
  ASSIGN_OR_FAIL(auto fb, w.follower->BlocksByHeight());
  size_t common = 0;
  for (const auto& [h, block] : fb) {
    if (!lb.count(h)) continue;
    ++common;
    EXPECT_EQ(lb.at(h), block) << "two different blocks at height " << h;
  }
  EXPECT_GE(common, follower_tip + 5);
  CommandResult sync = w.s.Cli(*w.follower, {"sync-status"});
  EXPECT_EQ(sync.exit_code, 0) << sync;
}

}  // namespace
}  // namespace ailee::it
