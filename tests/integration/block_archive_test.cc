// The block archive with real nodes on loopback and a real local repository:
// the archiver killed with SIGKILL under load leaves no gap and no duplicate;
// replaying archived blocks onto an old copy of the data dir reproduces the
// node's state root at every 25th height; damage, deletion, foreign segments
// and a forged signature are named by verify and stop the replay; the
// archiver reports its height to the node's /metrics, again after a node
// restart.
#include <signal.h>

#include <filesystem>
#include <optional>
#include <random>
#include <thread>

#include "base/clock.h"
#include "harness_gtest.h"
#include "repo/block_archive.h"
#include "storage/object_store.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

constexpr const char* kPassphrase = "archive test passphrase";

class BlockArchiveWorld {
 public:
  explicit BlockArchiveWorld(const std::string& tag)
      : s_(tag), repo_dir_(s_.dir().Join("repo")), pass_file_(s_.dir().Join("repo.pass")),
        buffer_dir_(s_.dir().Join("buffer")) {
    EXPECT_OK(WriteFile(pass_file_, std::string(kPassphrase) + "\n", 0600));
  }
  TestNode AddLeader(const std::string& id) {
    NodeSpec spec = NodeSpec::Leader(id, 100, 10);
    spec.extra_yaml = "backup:\n  repository: file://" + repo_dir_ + "\n  passphrase_file: " + pass_file_ + "\n";
    return s_.AddNode(spec);
  }
  CommandResult Cli(const TestNode& n, std::vector<std::string> args, Millis timeout = Millis(60000)) const {
    return s_.Cli(n, args, timeout);
  }
  std::vector<std::string> RunArgs(const TestNode& n) const {
    return {"-q", "archive", "run", "--node-url", n.url(), "--buffer-dir", buffer_dir_};
  }
  // The repository opened in this process (to read segments directly).
  std::unique_ptr<repo::Repository> OpenRepo() const {
    auto store = storage::OpenObjectStore("file://" + repo_dir_);
    EXPECT_TRUE(store.ok());
    auto r = repo::Repository::Open(*store, kPassphrase);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  std::string SegmentPath(const repo::BlockSegmentName& n) const { return repo_dir_ + "/" + n.key(); }
  Scenario& s() { return s_; }

 private:
  Scenario s_;
  std::string repo_dir_, pass_file_, buffer_dir_;
};

// Every archived block 1..to of `node_id` once, in order, equal to the node's.
void ExpectArchiveMatchesNode(const repo::Repository& repo, const TestNode& node, uint64_t to) {
  auto segments = repo::ListBlockSegments(repo.store(), "node-1");
  ASSERT_TRUE(segments.ok());
  ASSERT_FALSE(segments->empty());
  EXPECT_EQ(segments->front().first, 1u);
  for (const auto& p : repo::FindRangeProblems(*segments)) ADD_FAILURE() << p.object << ": " << p.message;
  uint64_t expected = 1;
  node::NodeClient client = node.Client();
  Status st = repo::ForEachArchivedBlock(repo, "node-1", 1, to, [&](const state::Block& b) {
    EXPECT_EQ(b.header.height, expected);
    ++expected;
    if (b.header.height % 7 == 0 || b.header.height == to) {  // compare a sample with the node
      auto nb = client.GetJson("/v1/blocks/" + std::to_string(b.header.height));
      if (!nb.ok()) return nb.status();
      EXPECT_EQ((*nb)["header"]["hash"].get<std::string>(), crypto::HashToHex(b.header.Hash()));
    }
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(expected, to + 1);
}

TEST(BlockArchive, ArchiverKilledTwentyTimesUnderLoadLeavesNoGapNoDuplicate) {
  BlockArchiveWorld w("blockarchive-kill");
  TestNode leader = w.AddLeader("node-1");
  ASSERT_OK(leader.Start());
  CommandResult init = w.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  ASSERT_EQ(init.exit_code, 0) << init;
  ASSIGN_OR_FAIL(Process load, w.s().CliBackground(leader, {"-q", "load", "--accounts", "200", "--rate", "2000",
                                                            "--duration", "60"},
                                                   w.s().dir().Join("load.log")));
  std::mt19937 rng(20261202);
  const std::string log = w.s().dir().Join("archiver.log");
  auto repo = w.OpenRepo();
  ASSERT_NE(repo, nullptr);
  uint64_t last_tail = 0;
  for (int kill = 0; kill < 20; ++kill) {
    auto args = w.RunArgs(leader);
    args.insert(args.end(), {"--seal-interval-ms", "100", "--seal-blocks", std::to_string(1 + rng() % 20)});
    ASSIGN_OR_FAIL(Process archiver, w.s().CliBackground(leader, args, log));
    std::this_thread::sleep_for(Millis(150 + rng() % 1200));
    ASSERT_TRUE(archiver.Running()) << FileTail(log);
    archiver.Kill();
    // The repository only ever grows, and always by whole linked segments.
    auto tail = repo::ReadBlockArchiveTail(*repo, "node-1");
    ASSERT_TRUE(tail.ok()) << tail.status().ToString();
    EXPECT_GE(tail->height, last_tail);
    last_tail = tail->height;
  }
  EXPECT_GT(last_tail, 0u) << FileTail(log);
  load.Kill();
  // A last run catches up with the node: every block up to the tip is archived.
  ASSIGN_OR_FAIL(uint64_t tip, leader.Height());
  CommandResult once = w.Cli(leader, [&] {
    auto a = w.RunArgs(leader);
    a.push_back("--once");
    return a;
  }());
  ASSERT_EQ(once.exit_code, 0) << once << FileTail(log);
  ExpectArchiveMatchesNode(*repo, leader, tip);
  CommandResult verify = w.Cli(leader, {"verify", "--read-data"}, Millis(120000));
  EXPECT_EQ(verify.exit_code, 0) << verify;
  CommandResult status = w.Cli(leader, {"--json", "archive", "status", "--node-url", leader.url(), "--buffer-dir",
                                        w.s().dir().Join("buffer")});
  ASSERT_EQ(status.exit_code, 0) << status;
  nlohmann::json j = JsonOut(status);
  EXPECT_GE(j["archived_height"].get<uint64_t>(), tip);
  EXPECT_EQ(j["buffered_segments"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["alarm"], "");
}

size_t BufferedSegments(const std::string& buffer_dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(buffer_dir + "/node-1", ec)) {
    if (e.path().extension() == ".seg") ++n;
  }
  return n;
}

TEST(BlockArchive, RepositoryAwayIsBufferedWithAnAlarmAndCaughtUp) {
  BlockArchiveWorld w("blockarchive-away");
  TestNode leader = w.AddLeader("node-1");
  ASSERT_OK(leader.Start());
  ASSERT_EQ(w.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"}).exit_code, 0);
  const std::string log = w.s().dir().Join("archiver.log");
  const std::string buffer = w.s().dir().Join("buffer");
  auto args = w.RunArgs(leader);
  args.insert(args.end(), {"--seal-interval-ms", "100"});
  ASSIGN_OR_FAIL(Process archiver, w.s().CliBackground(leader, args, log));
  auto repo = w.OpenRepo();
  ASSERT_NE(repo, nullptr);
  ASSERT_TRUE(WaitUntil([&] {
    auto t = repo::ReadBlockArchiveTail(*repo, "node-1");
    return t.ok() && t->height >= 5;
  }, Millis(20000))) << FileTail(log);
  // The repository's mount goes away: nothing is written in its place.
  const std::string repo_dir = w.s().dir().Join("repo");
  stdfs::rename(repo_dir, repo_dir + ".away");
  ASSERT_TRUE(WaitUntil([&] { return BufferedSegments(buffer) >= 3; }, Millis(20000))) << FileTail(log);
  EXPECT_NE(FileTail(log).find("ALARM: repository"), std::string::npos) << FileTail(log);
  EXPECT_NE(FileTail(buffer + "/node-1/status.json").find("unreachable"), std::string::npos);
  EXPECT_FALSE(stdfs::exists(repo_dir)) << "the archiver recreated the repository directory";
  // It comes back: the buffer drains in order and the alarm clears.
  stdfs::rename(repo_dir + ".away", repo_dir);
  ASSERT_TRUE(WaitUntil([&] { return BufferedSegments(buffer) == 0; }, Millis(20000))) << FileTail(log);
  ASSERT_TRUE(WaitUntil([&] { return FileTail(log).find("alarm cleared") != std::string::npos; }, Millis(10000)))
      << FileTail(log);
  archiver.Signal(SIGTERM);
  ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value());
  ASSIGN_OR_FAIL(uint64_t tip, leader.Height());
  args.push_back("--once");
  ASSERT_EQ(w.Cli(leader, args).exit_code, 0) << FileTail(log);
  ExpectArchiveMatchesNode(*repo, leader, tip);
  CommandResult verify = w.Cli(leader, {"verify", "--read-data"}, Millis(120000));
  EXPECT_EQ(verify.exit_code, 0) << verify;
}

// ailee_node_archive_height on the node's /metrics; absent when not served.
std::optional<uint64_t> NodeArchiveHeight(const TestNode& node) {
  auto text = node.Client().GetText("/metrics");
  if (!text.ok()) return std::nullopt;
  const std::string name = "\nailee_node_archive_height ";
  const size_t at = text->find(name);
  if (at == std::string::npos) return std::nullopt;
  return std::stoull(text->substr(at + name.size()));
}

TEST(BlockArchive, ArchiverReportsItsHeightToTheNodeAgainAfterANodeRestart) {
  BlockArchiveWorld w("blockarchive-report");
  TestNode leader = w.AddLeader("node-1");
  ASSERT_OK(leader.Start());
  ASSERT_EQ(w.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"}).exit_code, 0);
  EXPECT_FALSE(NodeArchiveHeight(leader)) << "an archive height before any archiver ran";
  const std::string log = w.s().dir().Join("archiver.log");
  auto args = w.RunArgs(leader);
  args.insert(args.end(), {"--seal-interval-ms", "100"});
  ASSIGN_OR_FAIL(Process archiver, w.s().CliBackground(leader, args, log));
  auto repo = w.OpenRepo();
  ASSERT_NE(repo, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return NodeArchiveHeight(leader).value_or(0) >= 5; }, Millis(20000))) << FileTail(log);
  // What the node shows is what the repository holds (it may have moved on since).
  const uint64_t shown = *NodeArchiveHeight(leader);
  auto tail = repo::ReadBlockArchiveTail(*repo, "node-1");
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_LE(shown, tail->height);
  // A restarted node knows nothing until the archiver's next report.
  ASSERT_EQ(leader.Terminate(), 0);
  ASSERT_OK(leader.Start());
  ASSERT_TRUE(WaitUntil([&] { return NodeArchiveHeight(leader).value_or(0) >= shown; }, Millis(20000)))
      << FileTail(log);
  archiver.Signal(SIGTERM);
  ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value());
  EXPECT_EQ(*archiver.exit_code(), 0) << FileTail(log);
}

// A copy of the stopped node's data dir at height S, rolled forward by
// `archive replay` to H in a fresh copy: the state root of the node's block H.
struct ReplayWorld {
  BlockArchiveWorld w{"blockarchive-replay"};
  TestNode leader = w.AddLeader("node-1");
  std::string snapshot_dir = w.s().dir().Join("snapshot-data");
  uint64_t snapshot_height = 0;
  uint64_t archived = 0;

  void Build() {
    ASSERT_OK(leader.Start());
    ASSERT_EQ(w.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"}).exit_code, 0);
    CommandResult pre = w.Cli(leader, {"-q", "load", "--accounts", "100", "--rate", "1000", "--duration", "2"});
    ASSERT_EQ(pre.exit_code, 0) << pre;
    ASSERT_EQ(leader.Terminate(), 0);
    stdfs::copy(leader.data_dir(), snapshot_dir, stdfs::copy_options::recursive);
    ASSERT_OK(leader.Start());
    ASSIGN_OR_FAIL(snapshot_height, leader.Height());
    ASSIGN_OR_FAIL(Process archiver, w.s().CliBackground(leader, w.RunArgs(leader), w.s().dir().Join("archiver.log")));
    // Load until the chain is 80 blocks past the snapshot (a loaded machine
    // makes fewer blocks a second), in 4 s rounds, for at most 15 rounds.
    uint64_t tip = 0;
    for (int round = 0; round < 15 && tip < snapshot_height + 80; ++round) {
      CommandResult more = w.Cli(leader, {"-q", "load", "--accounts", "100", "--rate", "1000", "--duration", "4",
                                          "--seed", std::to_string(2 + round)});
      ASSERT_EQ(more.exit_code, 0) << more;
      ASSIGN_OR_FAIL(tip, leader.Height());
    }
    auto args = w.RunArgs(leader);
    archiver.Signal(SIGTERM);
    ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value());
    EXPECT_EQ(*archiver.exit_code(), 0) << FileTail(w.s().dir().Join("archiver.log"));
    args.push_back("--once");
    ASSERT_EQ(w.Cli(leader, args).exit_code, 0);
    archived = tip;
    ASSERT_GE(archived, snapshot_height + 75) << "too few blocks on this machine";
  }
  // Replays a fresh copy of the snapshot; the CLI's result.
  CommandResult Replay(const std::vector<std::string>& target, const std::string& name) {
    const std::string dir = w.s().dir().Join(name);
    stdfs::remove_all(dir);
    stdfs::copy(snapshot_dir, dir, stdfs::copy_options::recursive);
    std::vector<std::string> args{"--json", "archive", "replay", "--data-dir", dir};
    args.insert(args.end(), target.begin(), target.end());
    return w.Cli(leader, args, Millis(120000));
  }
  std::string NodeRoot(uint64_t h) {
    auto b = leader.Client().GetJson("/v1/blocks/" + std::to_string(h));
    EXPECT_TRUE(b.ok());
    return b.ok() ? (*b)["header"]["state_root"].get<std::string>() : "";
  }
};

TEST(BlockArchive, ReplayToEvery25thHeightReproducesTheNodesStateRoot) {
  ReplayWorld r;
  r.Build();
  if (HasFatalFailure()) return;
  int replays = 0;
  for (uint64_t h = (r.snapshot_height / 25 + 1) * 25; h <= r.archived; h += 25) {
    CommandResult out = r.Replay({"--to-height", std::to_string(h)}, "replay-" + std::to_string(h));
    ASSERT_EQ(out.exit_code, 0) << out;
    nlohmann::json j = JsonOut(out);
    EXPECT_EQ(j["to_height"].get<uint64_t>(), h);
    EXPECT_EQ(j["from_height"].get<uint64_t>(), r.snapshot_height);
    EXPECT_EQ(j["state_root"].get<std::string>(), r.NodeRoot(h)) << "height " << h;
    ++replays;
  }
  EXPECT_GE(replays, 3);
  // --to-anchor N: the block of the Nth anchor (every 10 blocks here).
  const uint64_t anchor = r.snapshot_height / 10 + 2;
  CommandResult a = r.Replay({"--to-anchor", std::to_string(anchor)}, "replay-anchor");
  ASSERT_EQ(a.exit_code, 0) << a;
  EXPECT_EQ(JsonOut(a)["to_height"].get<uint64_t>(), anchor * 10);
  EXPECT_EQ(JsonOut(a)["state_root"].get<std::string>(), r.NodeRoot(anchor * 10));
  // --to-time T: the last block at or before T (whole seconds, UTC).
  {
    const uint64_t h = r.snapshot_height + 30;
    auto b = r.leader.Client().GetJson("/v1/blocks/" + std::to_string(h));
    ASSERT_TRUE(b.ok());
    const int64_t secs = (*b)["header"]["timestamp_ms"].get<int64_t>() / 1000;
    uint64_t expected = h;
    for (uint64_t next = h + 1; next <= r.archived; ++next) {
      auto nb = r.leader.Client().GetJson("/v1/blocks/" + std::to_string(next));
      ASSERT_TRUE(nb.ok());
      if ((*nb)["header"]["timestamp_ms"].get<int64_t>() > secs * 1000 + 999) break;
      expected = next;
    }
    CommandResult t = r.Replay({"--to-time", FormatUtc(secs)}, "replay-time");
    ASSERT_EQ(t.exit_code, 0) << t;
    EXPECT_EQ(JsonOut(t)["to_height"].get<uint64_t>(), expected);
    EXPECT_EQ(JsonOut(t)["state_root"].get<std::string>(), r.NodeRoot(expected));
  }
  // Beyond the archive: the latest archived height is named.
  CommandResult beyond = r.Replay({"--to-height", std::to_string(r.archived + 1000)}, "replay-beyond");
  EXPECT_NE(beyond.exit_code, 0);
  EXPECT_NE(beyond.err.find("latest archived height is"), std::string::npos) << beyond;
}

TEST(BlockArchive, DamageIsNamedAndStopsTheReplay) {
  ReplayWorld r;
  r.Build();
  if (HasFatalFailure()) return;
  auto repo = r.w.OpenRepo();
  ASSERT_NE(repo, nullptr);
  auto segments = repo::ListBlockSegments(repo->store(), "node-1");
  ASSERT_TRUE(segments.ok());
  ASSERT_GE(segments->size(), 3u);
  // Damage lands above the snapshot, so the replay must cross it.
  std::vector<repo::BlockSegmentName> above;
  for (const auto& s : *segments) {
    if (s.first > r.snapshot_height + 1) above.push_back(s);
  }
  ASSERT_GE(above.size(), 3u);
  const uint64_t to = r.archived;

  // Puts `bytes` under `key` in place of `victim`; returns what undoes it.
  auto replace = [&](const repo::BlockSegmentName& victim, const std::string& key, const std::string& bytes) {
    const std::string original = *repo->store().Get(victim.key());
    EXPECT_OK(repo->store().Delete(victim.key()));
    EXPECT_OK(repo->store().Put(key, bytes));
    return [&repo, victim, key, original] {
      EXPECT_OK(repo->store().Delete(key));
      EXPECT_OK(repo->store().Put(victim.key(), original));
    };
  };
  // `verify_args` exit 3 and the replay fails, both saying each of `texts`.
  auto expect_named = [&](const std::vector<std::string>& verify_args, const std::vector<std::string>& texts,
                          const std::string& name) {
    CommandResult verify = r.w.Cli(r.leader, verify_args, Millis(120000));
    EXPECT_EQ(verify.exit_code, 3) << verify;
    CommandResult out = r.Replay({"--to-height", std::to_string(to)}, name);
    EXPECT_NE(out.exit_code, 0);
    for (const auto& text : texts) {
      EXPECT_NE((verify.out + verify.err).find(text), std::string::npos) << text << "\n" << verify;
      EXPECT_NE(out.err.find(text), std::string::npos) << text << "\n" << out;
    }
  };

  // 1. A block whose signature is wrong, in a correctly sealed segment: the
  // replay stops at that height (the archive's own checks cannot see it).
  {
    const auto& victim = above[0];
    auto seg = repo::LoadBlockSegment(*repo, victim);
    ASSERT_TRUE(seg.ok());
    seg->blocks.front().header.signature[5] ^= 0x01;
    auto resealed = repo::SealBlockSegment(*repo, *seg);
    ASSERT_TRUE(resealed.ok());
    auto undo = replace(victim, resealed->name.key(), resealed->bytes);
    CommandResult out = r.Replay({"--to-height", std::to_string(to)}, "replay-badsig");
    EXPECT_NE(out.exit_code, 0);
    EXPECT_NE(out.err.find("replay stopped at block " + std::to_string(victim.first)), std::string::npos) << out;
    undo();
  }
  // 2. Bytes altered (and renamed to their new hash, so only the AEAD tag can tell).
  {
    const auto& victim = above[1];
    std::string bytes = *repo->store().Get(victim.key());
    bytes[bytes.size() / 3] ^= 0x10;
    repo::BlockSegmentName renamed = victim;
    renamed.id = crypto::Sha256(bytes);
    auto undo = replace(victim, renamed.key(), bytes);
    expect_named({"verify", "--read-data"}, {"block segment " + renamed.key() + " in", "fails authentication"},
                 "replay-altered");
    undo();
  }
  // 3. A segment of another node moved into this node's archive.
  {
    const auto& victim = above[1];
    auto seg = repo::LoadBlockSegment(*repo, victim);
    ASSERT_TRUE(seg.ok());
    seg->node_id = "node-2";
    auto other = repo::SealBlockSegment(*repo, *seg);
    ASSERT_TRUE(other.ok());
    repo::BlockSegmentName moved = other->name;
    moved.node_id = "node-1";
    auto undo = replace(victim, moved.key(), other->bytes);
    expect_named({"verify", "--read-data"}, {"refused: it holds blocks of node \"node-2\""}, "replay-foreign");
    undo();
  }
  // Restored: everything verifies again.
  CommandResult clean = r.w.Cli(r.leader, {"verify", "--read-data"}, Millis(120000));
  EXPECT_EQ(clean.exit_code, 0) << clean;
  // 4. A segment deleted from the middle: verify (structure) and the replay name the range.
  ASSERT_OK(repo->store().Delete(above[2].key()));
  expect_named({"verify"}, {"blocks " + above[2].range() + " are missing"}, "replay-gap");
}

}  // namespace
}  // namespace ailee::it
