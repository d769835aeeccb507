// Attacks on issue 11's drill and recover-node as built, the way an unlucky
// operator or a hostile process on the host would try them, on one live
// leader + follower network with a real repository and block archive.
// Each enabled test failed before its fix:
// - bad drill flags (--timeout 0 or negative, --html in a directory that
//   does not exist or naming a directory) were found only after the whole
//   restore ran (minutes at 2 GiB): the drill stored a failed report (and
//   its metrics) and ended on "catch-up timed out within the -5 s timeout"
//   or an HTML write error (exit 4) that lost a passed drill's verdict;
//   --seed without --random-within was silently ignored yet reported; a
//   --sandbox-dir that is a file said "mkdir: Not a directory" without
//   naming the flag or what to do;
// - the sandbox's port taken by another process between the drill's pick
//   and the sandbox node's bind: the drill took that process's answers for
//   its sandbox node's (start, never-signs, catch-up, state-root passed
//   against someone else) and failed only when stopping its own node.
// DISABLED (the fix belongs in src/ops/recover/, another engineer's files):
// - a FIFO where recover-node's journal belongs hangs recover-node, even
//   --dry-run, forever (it opens the FIFO for reading and waits for a writer);
// - a leader recovered below its signing fence with no peer configured ends
//   with exit 6 "rerun later or with --wait" and no hint; no rerun helps.
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

// Leader + follower, a state snapshot, archived blocks past it. Built once
// for the whole program (CI time): every test only runs drills against it.
class Break11b : public ::testing::Test {
 protected:
  struct World {
    RepoWorld w{"break11b"};
    TestNode& leader = w.AddNode("node-1");
    std::optional<TestNode> follower;
    std::string buffer_dir = w.scenario().dir().Join("buffer");
    std::string sandboxes = w.scenario().dir().Join("sandboxes");
  };
  static inline World* world_ = nullptr;
  static inline std::string setup_error_;

  static void SetUpTestSuite() {
    world_ = new World();
    World& d = *world_;
    auto fail = [](const std::string& what) { setup_error_ = what; };
    if (Status st = d.w.InitRepo(); !st.ok()) return fail("repo init: " + st.ToString());
    if (Status st = d.leader.Start(); !st.ok()) return fail("leader: " + st.ToString());
    d.follower.emplace(d.w.scenario().AddNode(NodeSpec::Follower("node-2", d.leader.url())));
    if (Status st = d.follower->Start(); !st.ok()) return fail("follower: " + st.ToString());
    CommandResult load = d.w.Cli(d.leader, {"-q", "load", "--accounts", "30", "--rate", "200", "--duration", "1"});
    if (load.exit_code != 0) return fail(load.Describe());
    CommandResult backup = d.w.Cli(d.leader, {"-q", "backup", "state"});
    if (backup.exit_code != 0) return fail(backup.Describe());
    CommandResult archive = d.w.Cli(d.leader, {"-q", "archive", "run", "--node-url", d.leader.url(), "--buffer-dir",
                                               d.buffer_dir, "--once"});
    if (archive.exit_code != 0) return fail(archive.Describe());
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static World& d() { return *world_; }
  static std::vector<std::string> DrillArgs(std::vector<std::string> extra, const std::string& binary = NodeBinary()) {
    std::vector<std::string> a{"--json", "drill", "--node-binary", binary};
    if (std::find(extra.begin(), extra.end(), "--sandbox-dir") == extra.end()) {
      a.insert(a.end(), {"--sandbox-dir", d().sandboxes});
    }
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static CommandResult Drill(std::vector<std::string> extra, const std::string& binary = NodeBinary()) {
    return d().w.Cli(d().leader, DrillArgs(std::move(extra), binary), Millis(120000));
  }
  static int DrillReports() {
    auto snaps = d().w.JsonOk(d().leader, {"snapshots"});
    if (!snaps.ok()) return -1;
    int n = 0;
    for (const auto& s : snaps->is_array() ? *snaps : (*snaps)["snapshots"]) n += s.value("kind", "") == "drill-report";
    return n;
  }
};

// One bad flag: refused at once with `code`, one JSON error naming the flag
// and saying what to do, and nothing run (no report stored, no sandbox made).
void ExpectRefusedFlag(const CommandResult& r, int code, const std::string& flag, int reports_before,
                       int reports_after, const std::string& sandboxes) {
  EXPECT_EQ(r.exit_code, code) << r;
  nlohmann::json doc = JsonOut(r);
  EXPECT_EQ(doc.value("ok", true), false) << doc.dump(2);
  const std::string said = doc.value("message", "") + " " + doc.value("hint", "");
  EXPECT_NE(said.find(flag), std::string::npos) << "the error names " << flag << ": " << doc.dump(2);
  EXPECT_FALSE(doc.value("hint", "").empty()) << "and says what to do: " << doc.dump(2);
  EXPECT_EQ(reports_after, reports_before) << "the drill ran and stored a report despite the bad " << flag;
  EXPECT_TRUE(Entries(sandboxes).empty()) << "a sandbox was left despite the bad " << flag;
}

TEST_F(Break11b, DrillRefusesBadFlagsBeforeItRestoresAnything) {
  const std::string missing_dir = d().w.scenario().dir().Join("no-such-dir/report.html");
  const std::string a_dir = d().w.scenario().dir().Join("html-is-a-dir");
  const std::string a_file = d().w.scenario().dir().Join("sandbox-is-a-file");
  stdfs::create_directories(a_dir);
  std::ofstream(a_file) << "x";
  struct Case {
    int code;
    std::string flag;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {2, "--timeout", {"--timeout", "0"}},
      {2, "--timeout", {"--timeout", "-5"}},
      {2, "--html", {"--html", missing_dir}},
      {2, "--html", {"--html", a_dir}},
      {2, "--seed", {"--seed", "7"}},
      {4, "--sandbox-dir", {"--sandbox-dir", a_file}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.front() + " " + c.args.back());
    const int before = DrillReports();
    const auto t0 = std::chrono::steady_clock::now();
    CommandResult r = Drill(c.args);
    const auto took = std::chrono::steady_clock::now() - t0;
    ExpectRefusedFlag(r, c.code, c.flag, before, DrillReports(), d().sandboxes);
    EXPECT_LT(took, std::chrono::seconds(15)) << "refused before the restore, not after it";
  }
}

// A fake node that forwards every GET to `target`: what answers on a port
// the drill picked when another process took it first.
class ForwardingServer {
 public:
  explicit ForwardingServer(std::string target) : target_(std::move(target)) {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      httplib::Client c(target_);
      auto r = c.Get(req.target);
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      res.set_content(r->body, r->get_header_value("Content-Type").c_str());
    });
  }
  ~ForwardingServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  bool Listen(int port) {
    if (!server_.bind_to_port("127.0.0.1", port)) return false;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return true;
  }
  int requests() const { return requests_; }

 private:
  std::string target_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

// The port of the first sandbox config that appears under `dir`; 0 on timeout.
int WaitForSandboxPort(const std::string& dir, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::regex listen("listen: 127\\.0\\.0\\.1:(\\d+)");
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(dir, ec)) {
      std::ifstream in(e.path() / "config.yaml");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch m;
      if (std::regex_search(text, m, listen)) return std::stoi(m[1]);
    }
    std::this_thread::sleep_for(Millis(5));
  }
  return 0;
}

// The sandbox node is slow to bind (a large state opens slowly: here a
// wrapper sleeps before it execs ailee-node), and another process takes the
// port the drill picked in the meantime: a forwarder to the production
// follower, which answers like a caught-up follower of the same chain. The
// drill must notice the answers are not its sandbox node's and start it on
// another port; it must never prove the state of a node it did not start.
TEST_F(Break11b, DrillNeverTakesAnotherProcessOnItsPortForItsSandboxNode) {
  const std::string wrapper = d().w.scenario().dir().Join("slow-node.sh");
  {
    std::ofstream out(wrapper);
    out << "#!/bin/sh\nsleep 2\nexec " << NodeBinary() << " \"$@\"\n";
  }
  ::chmod(wrapper.c_str(), 0755);
  ForwardingServer squatter(d().follower->url());
  ASSIGN_OR_FAIL(Process drill, d().w.Background(d().leader, DrillArgs({"--timeout", "60"}, wrapper),
                                                 d().w.scenario().dir().Join("squat-drill.log")));
  const int port = WaitForSandboxPort(d().sandboxes, Millis(60000));
  ASSERT_GT(port, 0) << "no sandbox config appeared";
  ASSERT_TRUE(squatter.Listen(port)) << "the port " << port << " was taken before the squatter";
  const std::optional<int> code = drill.Wait(Millis(120000));
  ASSERT_TRUE(code.has_value()) << "the drill did not end";
  std::ifstream log(d().w.scenario().dir().Join("squat-drill.log"));
  const std::string out((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(*code, 0) << out;
  const size_t start = out.find('{');
  ASSERT_NE(start, std::string::npos) << out;
  nlohmann::json r = nlohmann::json::parse(out.substr(start), nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << out;
  EXPECT_EQ(r["ok"], true) << r.dump(2);
  for (const auto& c : r["checks"]) {
    EXPECT_EQ(c["detail"].get<std::string>().find(":" + std::to_string(port)), std::string::npos)
        << "a check was made against the squatter on port " << port << ": " << c.dump();
  }
  EXPECT_GT(squatter.requests(), 0) << "the squatter was never asked: the race was not exercised";
  EXPECT_TRUE(Entries(d().sandboxes).empty());
}

// A FIFO at <data_dir>.recover-journal.json (planted by another user of a
// shared parent directory, or left by a botched script) makes recover-node
// open it for reading and wait for a writer forever: even --dry-run hangs,
// with no message. A journal must be a regular file; anything else is
// refused naming the path and what to do.
TEST_F(Break11b, RecoverNodeRefusesAFifoWhereItsJournalBelongs) {
  // The leader's config is the one planned for; it keeps running (a dry
  // run changes nothing and refuses nothing for that).
  const std::string journal = d().leader.data_dir() + ".recover-journal.json";
  ASSERT_EQ(::mkfifo(journal.c_str(), 0600), 0);
  CommandResult r = d().w.Cli(d().leader, {"--json", "recover-node", "--dry-run"}, Millis(15000));
  ::unlink(journal.c_str());
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_FALSE(r.timed_out) << "recover-node hung on the FIFO: " << r;
  EXPECT_NE(r.out.find(journal), std::string::npos) << r;
}

// Runs last (its name sorts last): it leaves the world's leader recovered but waiting.
// The leader host lost while its follower runs on, and the leader's config
// names no peers (as the README's two-node example): recover-node restores
// the repository's snapshot + archive (far below the signing fence) and
// starts the node, which rightly refuses to sign below its fence and waits
// for a tip no peer can give. recover-node then ends with exit 6 "node is
// waiting_for_tip; rerun later or with --wait" and no hint: a rerun finds
// the node running and waits again, forever. It must say why (the node's
// own reason: below the fence, no peer to catch up from) and what to do
// (name the follower in `peers:` or give --peer-admin-token-file).
TEST_F(Break11b, ZRecoverNodeOfALeaderThatCannotCatchUpSaysWhyAndWhatToDo) {
  ASSERT_OK(d().follower->WaitForHeight(20, Millis(30000)));
  EXPECT_EQ(d().leader.Kill(), 137);
  stdfs::remove_all(d().leader.data_dir());
  CommandResult r = d().w.Cli(d().leader, {"--json", "recover-node", "--yes", "--start", "--node-binary", NodeBinary(),
                                           "--wait", "5"}, Millis(90000));
  // The node recover-node started (it waits on; nothing else names the config).
  CommandResult started = it::Run({"/usr/bin/pgrep", "-f", d().leader.config_path()}, Millis(5000));
  std::istringstream pids(started.out);
  for (int pid = 0; pids >> pid;) ::kill(pid, SIGKILL);
  EXPECT_NE(r.exit_code, 0) << r;
  nlohmann::json doc = JsonOut(r);
  const std::string said = doc.value("message", "") + " " + doc.value("hint", "");
  EXPECT_NE(said.find("fence"), std::string::npos) << "the cause, the node's own reason: " << doc.dump(2);
  EXPECT_NE(said.find("peer"), std::string::npos) << "what to do: a peer to catch up from: " << doc.dump(2);
}

}  // namespace
}  // namespace ailee::it
