// Point-in-time recovery through the CLI, with real nodes on loopback and a
// real local repository: `restore --to-height H` (the newest state snapshot
// at or below H, rolled forward with archived blocks in the staging tree,
// proven, then swapped in) reproduces the node's state root at every 25th
// height; `latest` with an archive is the last archived block; a leader whose
// data dir and repository are both lost comes back from the offsite copy
// within one block of its tip; a gap, a tampered segment and a height outside
// the recovery window are refused by name with the target byte for byte as
// it was.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "base/clock.h"
#include "base/fs.h"
#include "crypto/hash.h"
#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

// Every file under `dir` with its content hash: equal maps = the same tree.
std::map<std::string, std::string> TreeDigest(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out[stdfs::relative(e.path(), dir).string()] = crypto::HashToHex(crypto::Sha256(bytes));
  }
  return out;
}

// Block segment files of node-1 in a file:// repository, by first height.
std::map<uint64_t, std::string> SegmentFiles(const std::string& repo_dir) {
  std::map<uint64_t, std::string> out;
  for (const auto& e : stdfs::directory_iterator(repo_dir + "/blocks/node-1")) {
    out[std::stoull(e.path().filename().string().substr(0, 20))] = e.path().string();
  }
  return out;
}

struct PitrWorld {
  RepoWorld w{"pitr"};
  TestNode& leader = w.AddNode("node-1");
  std::string buffer_dir = w.scenario().dir().Join("buffer");
  std::vector<uint64_t> snapshot_heights;
  uint64_t archived = 0;

  std::vector<std::string> ArchiveArgs() const {
    return {"-q", "archive", "run", "--node-url", leader.url(), "--buffer-dir", buffer_dir};
  }
  void Load(int seconds, int seed) {
    CommandResult load = w.Cli(leader, {"-q", "load", "--accounts", "100", "--rate", "800", "--duration",
                                        std::to_string(seconds), "--seed", std::to_string(seed)});
    ASSERT_EQ(load.exit_code, 0) << load;
  }
  void Backup() {
    ASSIGN_OR_FAIL(auto b, w.JsonOk(leader, {"backup", "state"}));
    snapshot_heights.push_back(b["height"].get<uint64_t>());
  }
  // Two snapshots and an archive from the first one on, to `archived`.
  void Build() {
    ASSERT_OK(w.InitRepo());
    ASSERT_OK(leader.Start());
    Load(2, 1);
    Backup();
    ASSIGN_OR_FAIL(Process archiver, w.Background(leader, ArchiveArgs(), w.scenario().dir().Join("archiver.log")));
    Load(6, 2);
    Backup();
    // At least 60 blocks past the newest snapshot (the node makes one per
    // block interval, so a fixed load duration gives fewer on a slow machine).
    for (int seed = 3; seed < 20; ++seed) {
      Load(3, seed);
      if (::testing::Test::HasFatalFailure()) return;
      ASSIGN_OR_FAIL(uint64_t height, leader.Height());
      if (height >= snapshot_heights.back() + 60) break;
    }
    archiver.Signal(SIGTERM);
    ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value());
    auto once = ArchiveArgs();
    once.push_back("--once");
    ASSIGN_OR_FAIL(uint64_t committed, leader.Height());
    ASSERT_EQ(w.Cli(leader, once).exit_code, 0);
    ASSIGN_OR_FAIL(auto status, w.JsonOk(leader, {"archive", "status", "--node-url", leader.url(), "--buffer-dir",
                                                  buffer_dir}));
    archived = status["archived_height"].get<uint64_t>();
    // `--once` archives everything the node had committed when it started.
    ASSERT_GE(archived, committed);
    ASSERT_GE(archived, snapshot_heights.back() + 60) << "newest snapshot at " << snapshot_heights.back();
  }
  std::string NodeRoot(uint64_t h) const {
    auto b = leader.Client().GetJson("/v1/blocks/" + std::to_string(h));
    EXPECT_TRUE(b.ok());
    return b.ok() ? (*b)["header"]["state_root"].get<std::string>() : "";
  }
  CommandResult Restore(const std::vector<std::string>& args, const std::string& target) const {
    std::vector<std::string> a{"--json", "restore", "--target", target};
    a.insert(a.end(), args.begin(), args.end());
    return w.Cli(leader, a, Millis(180000));
  }
  // The snapshot a restore to `h` must start from.
  uint64_t SnapshotBelow(uint64_t h) const {
    uint64_t best = 0;
    for (uint64_t s : snapshot_heights)
      if (s <= h) best = std::max(best, s);
    return best;
  }
};

TEST(Pitr, RestoreToEvery25thHeightReproducesTheNodesStateRoot) {
  PitrWorld p;
  p.Build();
  if (::testing::Test::HasFatalFailure()) return;
  int restores = 0;
  for (uint64_t h = (p.snapshot_heights.front() / 25 + 1) * 25; h <= p.archived; h += 25) {
    const std::string target = p.w.scenario().dir().Join("pitr-" + std::to_string(h));
    CommandResult out = p.Restore({"--to-height", std::to_string(h)}, target);
    ASSERT_EQ(out.exit_code, 0) << out;
    nlohmann::json j = JsonOut(out);
    EXPECT_EQ(j["height"].get<uint64_t>(), h);
    EXPECT_EQ(j["verified"], true);
    EXPECT_EQ(j["snapshot_height"].get<uint64_t>(), p.SnapshotBelow(h)) << "the newest snapshot at or below " << h;
    EXPECT_EQ(j["blocks_replayed"].get<uint64_t>(), h - p.SnapshotBelow(h));
    EXPECT_EQ(j["state_root"].get<std::string>(), p.NodeRoot(h)) << "height " << h;
    // What was swapped in is a sealed checkpoint of that state.
    CommandResult check = p.w.Cli(p.leader, {"verify-checkpoint", target}, Millis(120000));
    EXPECT_EQ(check.exit_code, 0) << check;
    stdfs::remove_all(target);
    ++restores;
  }
  EXPECT_GE(restores, 3);

  // `latest` with an archive: the last archived block, said in the output.
  const std::string latest_dir = p.w.scenario().dir().Join("latest");
  CommandResult latest = p.Restore({"latest"}, latest_dir);
  ASSERT_EQ(latest.exit_code, 0) << latest;
  EXPECT_EQ(JsonOut(latest)["height"].get<uint64_t>(), p.archived);
  EXPECT_EQ(JsonOut(latest)["snapshot_height"].get<uint64_t>(), p.snapshot_heights.back());
  EXPECT_EQ(JsonOut(latest)["state_root"].get<std::string>(), p.NodeRoot(p.archived));
  CommandResult text = p.w.Cli(p.leader, {"restore", "latest", "--force", "--target", latest_dir}, Millis(180000));
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_NE(text.out.find("rolled forward with " + std::to_string(p.archived - p.snapshot_heights.back()) +
                          " archived blocks"), std::string::npos) << text;
  // --no-replay: the newest snapshot as it is.
  CommandResult plain = p.Restore({"latest", "--no-replay", "--force"}, latest_dir);
  ASSERT_EQ(plain.exit_code, 0) << plain;
  EXPECT_EQ(JsonOut(plain)["height"].get<uint64_t>(), p.snapshot_heights.back());
  EXPECT_EQ(JsonOut(plain)["blocks_replayed"].get<uint64_t>(), 0u);

  // --to-anchor N and --to-time (unix ms and RFC 3339) resolve through the archive.
  const uint64_t anchor = p.snapshot_heights.front() / 10 + 2;
  CommandResult a = p.Restore({"--to-anchor", std::to_string(anchor), "--force"}, latest_dir);
  ASSERT_EQ(a.exit_code, 0) << a;
  EXPECT_EQ(JsonOut(a)["height"].get<uint64_t>(), anchor * 10);
  auto block = p.leader.Client().GetJson("/v1/blocks/" + std::to_string(p.snapshot_heights.back() + 7));
  ASSERT_TRUE(block.ok());
  const int64_t ts = (*block)["header"]["timestamp_ms"].get<int64_t>();
  CommandResult t = p.Restore({"--to-time", std::to_string(ts), "--force"}, latest_dir);
  ASSERT_EQ(t.exit_code, 0) << t;
  EXPECT_EQ(JsonOut(t)["height"].get<uint64_t>(), p.snapshot_heights.back() + 7);
  CommandResult rfc = p.Restore({"--to-time", FormatUtc(ts / 1000 + 3600).substr(0, 19) + "+01:00", "--force"}, latest_dir);
  ASSERT_EQ(rfc.exit_code, 0) << rfc;
  EXPECT_LE(JsonOut(rfc)["height"].get<uint64_t>(), p.snapshot_heights.back() + 7);

  // `snapshots` shows the recovery window: oldest snapshot .. last archived block.
  ASSIGN_OR_FAIL(auto list, p.w.JsonOk(p.leader, {"snapshots"}));
  ASSERT_EQ(list["recovery_windows"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["recovery_windows"][0]["node_id"], "node-1");
  EXPECT_EQ(list["recovery_windows"][0]["earliest_height"].get<uint64_t>(), p.snapshot_heights.front());
  EXPECT_EQ(list["recovery_windows"][0]["latest_height"].get<uint64_t>(), p.archived);
}

TEST(Pitr, GapTamperAndOutsideTheWindowAreRefusedWithTheTargetUntouched) {
  PitrWorld p;
  p.Build();
  if (::testing::Test::HasFatalFailure()) return;
  // The target holds a proven state; every refusal below must leave it as it is.
  const std::string target = p.w.scenario().dir().Join("target");
  CommandResult first = p.Restore({"--to-height", std::to_string(p.snapshot_heights.back() + 3)}, target);
  ASSERT_EQ(first.exit_code, 0) << first;
  const auto before = TreeDigest(target);
  const auto untouched = [&](const std::string& what) { EXPECT_EQ(TreeDigest(target), before) << what; };

  auto segments = SegmentFiles(p.w.repo_dir());
  std::vector<std::string> above;  // segments wholly above the newest snapshot
  for (const auto& [first_height, path] : segments)
    if (first_height > p.snapshot_heights.back() + 1) above.push_back(path);
  ASSERT_GE(above.size(), 2u);
  const std::string to = std::to_string(p.archived);

  // A tampered segment: refused (authentication), the restore abandoned.
  {
    std::string bytes;
    {
      std::ifstream in(above[0], std::ios::binary);
      bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    std::string bad = bytes;
    bad[bad.size() / 2] ^= 0x20;
    ASSERT_OK(WriteFile(above[0], bad, 0644));
    CommandResult out = p.Restore({"--to-height", to, "--force"}, target);
    EXPECT_EQ(out.exit_code, 3) << out;
    EXPECT_NE(out.err.find(stdfs::path(above[0]).filename().string()), std::string::npos) << out;
    EXPECT_NE(out.err.find("is untouched"), std::string::npos) << out;
    untouched("after the tampered segment");
    ASSERT_OK(WriteFile(above[0], bytes, 0644));
  }
  // A segment deleted from the middle: the gap is named before anything is fetched.
  {
    const std::string name = stdfs::path(above[1]).filename().string();
    const std::string range = std::to_string(std::stoull(name.substr(0, 20))) + ".." +
                              std::to_string(std::stoull(name.substr(21, 20)));
    stdfs::rename(above[1], above[1] + ".away");
    CommandResult out = p.Restore({"--to-height", to, "--force"}, target);
    EXPECT_EQ(out.exit_code, 3) << out;
    EXPECT_NE(out.err.find("blocks " + range + " are missing"), std::string::npos) << out;
    untouched("after the gap");
    // Below the gap it still works (into another directory).
    CommandResult below = p.Restore({"--to-height", std::to_string(std::stoull(name.substr(0, 20)) - 1)},
                                    p.w.scenario().dir().Join("below-gap"));
    EXPECT_EQ(below.exit_code, 0) << below;
    stdfs::rename(above[1] + ".away", above[1]);
  }
  // Below the oldest snapshot: outside the recovery window, which is named.
  ASSERT_GT(p.snapshot_heights.front(), 1u);
  CommandResult early = p.Restore({"--to-height", "1", "--force"}, target);
  EXPECT_EQ(early.exit_code, 4) << early;
  EXPECT_NE(early.err.find("outside the recovery window, which is heights " +
                           std::to_string(p.snapshot_heights.front())), std::string::npos) << early;
  untouched("below the window");
  // Beyond the archive: the latest archived height is named.
  CommandResult beyond = p.Restore({"--to-height", std::to_string(p.archived + 1000), "--force"}, target);
  EXPECT_EQ(beyond.exit_code, 4) << beyond;
  EXPECT_NE(beyond.err.find("latest archived height is " + to), std::string::npos) << beyond;
  untouched("beyond the archive");
}

// The leader's data dir and its local repository are lost, and there is no
// follower: the offsite copy (filled by `copy`, which carries block
// segments) and its archive bring the state back to within one block of the
// lost tip.
TEST(Pitr, LeaderAndLocalRepositoryLostRestoredFromTheOffsiteCopyWithinOneBlock) {
  RepoWorld w("pitr-offsite");
  TestNode& leader = w.AddNode("node-1");
  const std::string offsite = w.scenario().dir().Join("offsite/repo");
  ASSERT_OK(w.InitRepo());
  ASSERT_OK(leader.Start());
  CommandResult pre = w.Cli(leader, {"-q", "load", "--accounts", "100", "--rate", "800", "--duration", "2"});
  ASSERT_EQ(pre.exit_code, 0) << pre;
  ASSIGN_OR_FAIL(auto backup, w.JsonOk(leader, {"backup", "state"}));
  // The archiver with its default seal settings (the node's block interval).
  const std::string log = w.scenario().dir().Join("archiver.log");
  ASSIGN_OR_FAIL(Process archiver, w.Background(leader, {"-q", "archive", "run", "--node-url", leader.url(),
                                                         "--buffer-dir", w.scenario().dir().Join("buffer")}, log));
  ASSIGN_OR_FAIL(Process load, w.Background(leader, {"-q", "load", "--accounts", "100", "--rate", "800",
                                                     "--duration", "60", "--seed", "2"},
                                            w.scenario().dir().Join("load.log")));
  // The offsite copy runs while the node works (as from cron).
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(Millis(3000));
    ASSIGN_OR_FAIL(auto copied, w.JsonOk(leader, {"copy", "--to", "file://" + offsite}));
    EXPECT_EQ(copied["ok"], true) << copied.dump(2);
  }
  std::this_thread::sleep_for(Millis(2000));
  ASSIGN_OR_FAIL(uint64_t lost_tip, leader.Height());
  leader.Kill();  // the leader dies under load
  load.Kill();
  // The archiver seals what it holds within one block interval, then is stopped.
  std::this_thread::sleep_for(Millis(1000));
  archiver.Signal(SIGTERM);
  ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value()) << FileTail(log);
  // `repo status` shows the window each location reaches on its own: the
  // offsite copy, last filled before the leader died, stops short of the
  // primary's archive until the next copy.
  const auto windows = [&](const nlohmann::json& status) {
    std::map<std::string, nlohmann::json> out;  // url -> node-1's window there
    for (const auto& loc : status["locations"]) {
      EXPECT_EQ(loc["recovery_windows"].size(), 1u) << loc.dump(2);
      if (loc["recovery_windows"].size() == 1) out[loc["url"].get<std::string>()] = loc["recovery_windows"][0];
    }
    return out;
  };
  const std::vector<std::string> status_args{"repo", "status", "--location", "file://" + offsite};
  ASSIGN_OR_FAIL(auto stale, w.JsonOk(leader, status_args));
  auto before = windows(stale);
  ASSERT_EQ(before.size(), 2u) << stale.dump(2);
  const nlohmann::json primary = before[w.repo_url()];
  EXPECT_EQ(primary["earliest_height"], backup["height"]) << stale.dump(2);
  EXPECT_GE(primary["latest_height"].get<uint64_t>() + 1, lost_tip) << stale.dump(2);
  EXPECT_LT(before["file://" + offsite]["latest_height"].get<uint64_t>(), primary["latest_height"].get<uint64_t>())
      << stale.dump(2);
  // The last copy before the local site goes, then the data dir and the repository are lost.
  ASSIGN_OR_FAIL(auto last, w.JsonOk(leader, {"copy", "--to", "file://" + offsite}));
  EXPECT_EQ(last["ok"], true) << last.dump(2);
  ASSIGN_OR_FAIL(auto fresh, w.JsonOk(leader, status_args));
  EXPECT_EQ(windows(fresh)["file://" + offsite], primary) << fresh.dump(2);
  CommandResult text = w.Cli(leader, status_args);
  EXPECT_NE(text.out.find("recovery window of node node-1: heights " + std::to_string(backup["height"].get<uint64_t>())),
            std::string::npos) << text;
  ASSERT_OK(fs::RemoveAll(leader.data_dir()));
  ASSERT_OK(fs::RemoveAll(w.repo_dir()));

  CommandResult restored = w.Cli(leader, {"--json", "restore", "latest", "--repo", "file://" + offsite, "--target",
                                          leader.data_dir()}, Millis(180000));
  ASSERT_EQ(restored.exit_code, 0) << restored << FileTail(log);
  nlohmann::json j = JsonOut(restored);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["snapshot"], backup["snapshot"]);
  EXPECT_GE(j["height"].get<uint64_t>() + 1, lost_tip) << "lost tip " << lost_tip << "\n" << FileTail(log);
  EXPECT_GT(j["blocks_replayed"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace ailee::it
