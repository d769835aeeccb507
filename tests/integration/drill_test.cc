// `ailee-cli drill` against a live leader + follower network under light
// load, with a real local repository and block archive: the drill passes,
// proves the sandbox's state root and anchor against production, leaves no
// process, port or file behind and never signs; a damaged recovery point
// fails naming the check (exit 3); --random-within picks a point inside the
// window; SIGTERM mid-drill cleans up; a sandbox config without `follow`
// (no signer key) is refused by ailee-node; the HTML report renders in
// headless Chromium without console errors, with the timeline and every
// phase. `drill --keys`: passes from a file backup and from 2-of-3 shares
// leaving no key behind, fails naming the check on a damaged backup or
// another signer's key, removes a killed drill's scratch (not a live one's),
// and refuses inconsistent flags. `drill --keys --to-pkcs11` (SoftHSM2):
// passes through a test token leaving no object on it and no scratch, from
// flags or the config's drill.test_token; refuses the production signer's
// token with nothing touched; destroys a killed drill's objects (not a live
// one's). Key and config drill reports are listed by `drill --history`.
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "base/hex.h"
#include "base/scratch.h"
#include "keys/pkcs11.h"
#include "repo_fixture.h"
#include "state/block.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

const std::vector<std::string> kPhases = {"fetch", "replay", "proof", "start", "catch-up", "compare"};

// Pids of processes whose command line mentions `needle`.
std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> out;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos && std::stoi(name) != getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

// Nothing listens on `port` any more: a connection is refused. (The closed
// connections' TIME_WAIT entries are the kernel's, not a leftover.)
bool NothingListensOn(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool refused = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno == ECONNREFUSED;
  close(fd);
  return refused;
}

struct DrillWorld {
  RepoWorld w{"drill"};
  TestNode& leader = w.AddNode("node-1");
  std::optional<TestNode> follower;
  std::string buffer_dir = w.scenario().dir().Join("buffer");
  std::string sandboxes = w.scenario().dir().Join("sandboxes");
  uint64_t snapshot_height = 0;
  uint64_t archived = 0;
  std::optional<Process> load;

  void Archive() {
    CommandResult r = w.Cli(leader, {"-q", "archive", "run", "--node-url", leader.url(), "--buffer-dir", buffer_dir, "--once"});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  void Load(int seconds) {
    CommandResult r = w.Cli(leader, {"-q", "load", "--accounts", "50", "--rate", "300", "--duration", std::to_string(seconds)});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  // Leader + follower, a state snapshot, archived blocks past it, and light
  // load running on until the world ends.
  void Build() {
    ASSERT_OK(w.InitRepo());
    ASSERT_OK(leader.Start());
    follower.emplace(w.scenario().AddNode(NodeSpec::Follower("node-2", leader.url())));
    ASSERT_OK(follower->Start());
    Load(2);
    ASSIGN_OR_FAIL(auto b, w.JsonOk(leader, {"backup", "state"}));
    snapshot_height = b["height"].get<uint64_t>();
    Load(2);
    Archive();
    ASSIGN_OR_FAIL(auto st, w.JsonOk(leader, {"archive", "status", "--node-url", leader.url(), "--buffer-dir", buffer_dir}));
    archived = st["archived_height"].get<uint64_t>();
    ASSERT_GT(archived, snapshot_height);
    ASSIGN_OR_FAIL(Process p, w.Background(leader, {"-q", "load", "--accounts", "20", "--rate", "50", "--duration", "300"},
                                           w.scenario().dir().Join("load.log")));
    load.emplace(std::move(p));
  }
  std::vector<std::string> DrillArgs(std::vector<std::string> extra) const {
    std::vector<std::string> a{"--json", "drill", "--node-binary", NodeBinary(), "--sandbox-dir", sandboxes, "--timeout", "60"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  CommandResult Drill(std::vector<std::string> extra = {}) const { return w.Cli(leader, DrillArgs(std::move(extra)), Millis(120000)); }

  // Nothing of any drill left: no sandbox, no process started on one.
  void ExpectNothingLeft(const nlohmann::json& report) const {
    EXPECT_TRUE(Entries(sandboxes).empty()) << "left in " << sandboxes << ": " << Entries(sandboxes).size();
    EXPECT_TRUE(ProcessesMentioning(sandboxes).empty()) << "a sandbox node still runs";
    for (const auto& c : report["checks"]) {
      std::smatch m;
      const std::string detail = c["detail"].get<std::string>();
      if (c["name"] == "start" && std::regex_search(detail, m, std::regex("127\\.0\\.0\\.1:(\\d+)"))) {
        EXPECT_TRUE(NothingListensOn(std::stoi(m[1]))) << "the sandbox's port " << m[1] << " still answers";
      }
    }
  }
};

const nlohmann::json* FindCheck(const nlohmann::json& report, const std::string& name) {
  for (const auto& c : report["checks"]) if (c["name"] == name) return &c;
  return nullptr;
}

// Every block of `n` signed by the federation's signer; none by anything else.
void ExpectOnlySignedBy(const TestNode& n, const std::string& signer, std::map<uint64_t, std::string>* blocks) {
  ASSIGN_OR_FAIL(*blocks, n.BlocksByHeight());
  for (const auto& [h, hex] : *blocks) {
    auto bytes = HexDecode(hex);
    ASSERT_TRUE(bytes.has_value());
    auto b = state::DecodeBlock(*bytes);
    ASSERT_TRUE(b.ok()) << h;
    ASSERT_EQ(b->header.signer_id, signer) << "block " << h << " of " << n.spec().id;
  }
}

TEST(Drill, PassesOnALiveNetworkLeavesNothingBehindAndNeverSigns) {
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string html = d.w.scenario().dir().Join("report.html");
  CommandResult out = d.Drill({"--html", html});
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  EXPECT_EQ(r["ok"], true) << r.dump(2);
  EXPECT_EQ(r["point"], "latest");
  EXPECT_EQ(r["snapshot_height"].get<uint64_t>(), d.snapshot_height);
  EXPECT_GE(r["restored_height"].get<uint64_t>(), d.archived) << "latest: rolled forward through the archive";
  EXPECT_GT(r["blocks_replayed"].get<uint64_t>(), 0u);
  EXPECT_GE(r["network_tip"].get<uint64_t>(), r["restored_height"].get<uint64_t>());
  EXPECT_EQ(r["rpo_blocks"].get<uint64_t>(), r["network_tip"].get<uint64_t>() - r["restored_height"].get<uint64_t>());
  for (const char* check : {"recovery-point", "restore-proof", "start", "never-signs", "catch-up", "state-root", "anchor",
                            "deep-health", "stop", "cleanup"}) {
    const auto* c = FindCheck(r, check);
    ASSERT_NE(c, nullptr) << check << " in " << r.dump(2);
    EXPECT_EQ((*c)["ok"], true) << check << ": " << (*c)["detail"];
  }
  EXPECT_GT(r["anchor_height"].get<uint64_t>(), 0u) << "commitment_interval 10: an anchor was compared";
  std::vector<std::string> phases;
  int64_t sum = 0;
  for (const auto& p : r["phases"]) {
    phases.push_back(p["name"]);
    if (p["name"] != "compare") sum += p["duration_ms"].get<int64_t>();
  }
  EXPECT_EQ(phases, kPhases);
  EXPECT_EQ(r["rto_ms"].get<int64_t>(), sum);
  // The production node's state root at the proven height, read here.
  auto block = d.leader.Client().GetJson("/v1/blocks/" + std::to_string(r["proven_height"].get<uint64_t>()));
  ASSERT_TRUE(block.ok());
  EXPECT_NE(FindCheck(r, "state-root")->at("detail").get<std::string>().find(
                (*block)["header"]["state_root"].get<std::string>().substr(0, 16)), std::string::npos);
  d.ExpectNothingLeft(r);

  // The report is in the repository, as a drill-report snapshot.
  ASSIGN_OR_FAIL(auto snaps, d.w.JsonOk(d.leader, {"snapshots"}));
  int reports = 0;
  for (const auto& s : snaps.is_array() ? snaps : snaps["snapshots"]) reports += s.value("kind", "") == "drill-report";
  EXPECT_EQ(reports, 1) << snaps.dump(2);
  EXPECT_TRUE(Exists(html));

  // Both chains: the same blocks, every one signed by the federation's signer.
  std::map<uint64_t, std::string> ours, theirs;
  ExpectOnlySignedBy(d.leader, d.w.scenario().signer().id, &ours);
  ASSERT_OK(d.follower->WaitForHeight(ours.rbegin()->first, Millis(10000)));
  ExpectOnlySignedBy(*d.follower, d.w.scenario().signer().id, &theirs);
  for (const auto& [h, hex] : ours) {
    if (theirs.count(h)) {
      EXPECT_EQ(theirs[h], hex) << "height " << h;
    }
  }

  // A second drill: a random point within the last hour (seeded), inside
  // the window; the history now holds two reports.
  // It also exports its RTO and RPO for Prometheus (docs/metrics.md).
  const std::string metrics_dir = d.w.scenario().dir().Join("metrics");
  stdfs::create_directories(metrics_dir);
  std::vector<std::string> args{"--metrics-dir", metrics_dir};
  for (auto& x : d.DrillArgs({"--random-within", "1h", "--seed", "5"})) args.push_back(x);
  CommandResult random = d.w.Cli(d.leader, args, Millis(120000));
  ASSERT_EQ(random.exit_code, 0) << random;
  nlohmann::json rr = JsonOut(random);
  std::ifstream prom(metrics_dir + "/ailee_drill_" + d.leader.spec().id + ".prom");
  const std::string text((std::istreambuf_iterator<char>(prom)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("ailee_drill_ok{ailee_job=\"drill\",node=\"" + d.leader.spec().id + "\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ailee_drill_rpo_blocks{"), std::string::npos) << text;
  EXPECT_NE(text.find("ailee_drill_rto_seconds{"), std::string::npos) << text;
  EXPECT_EQ(rr["seed"].get<uint64_t>(), 5u);
  EXPECT_GE(rr["restored_height"].get<uint64_t>(), d.snapshot_height);
  EXPECT_LE(rr["restored_height"].get<uint64_t>(), d.archived) << "inside the window: the archive ends there";
  d.ExpectNothingLeft(rr);
}

TEST(Drill, ADamagedRecoveryPointFailsNamingTheCheck) {
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  for (const auto& pack : PackFiles(d.w.repo_dir())) ASSERT_OK(FlipByte(pack, 200));
  CommandResult out = d.Drill();
  EXPECT_EQ(out.exit_code, 3) << out;
  nlohmann::json r = JsonOut(out);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["failed_check"], "restore-proof") << r.dump(2);
  EXPECT_EQ(FindCheck(r, "start"), nullptr) << "no node starts on an unproven state";
  EXPECT_NE(out.err.find("restore-proof"), std::string::npos) << out;
  d.ExpectNothingLeft(r);
}

TEST(Drill, ADamagedArchiveSegmentFailsNamingTheCheck) {
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  // Every archived segment: whichever the replay reads first is damaged.
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.w.repo_dir() + "/blocks/node-1")) {
    ASSERT_OK(FlipByte(e.path().string(), 100));
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  CommandResult out = d.Drill();
  EXPECT_EQ(out.exit_code, 3) << out;
  nlohmann::json r = JsonOut(out);
  // The recovery window is read from the archive's tail: the damage is
  // found there, before anything is restored, and named.
  EXPECT_EQ(r["failed_check"], "recovery-point") << r.dump(2);
  ASSERT_NE(FindCheck(r, "recovery-point"), nullptr);
  const std::string detail = FindCheck(r, "recovery-point")->at("detail");
  EXPECT_NE(detail.find("blocks/node-1/"), std::string::npos) << detail;
  EXPECT_NE(detail.find("damaged"), std::string::npos) << detail;
  EXPECT_EQ(FindCheck(r, "start"), nullptr);
  d.ExpectNothingLeft(r);
}

TEST(Drill, SigtermMidDrillCleansUpAndAKilledDrillsSandboxGoesWithTheNext) {
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  // A leader URL that answers nothing: the sandbox node starts, then waits
  // for its leader until the drill is told to stop.
  auto args = d.DrillArgs({"--leader", "http://127.0.0.1:" + std::to_string(PickFreePort())});
  ASSIGN_OR_FAIL(Process drill, d.w.Background(d.leader, args, d.w.scenario().dir().Join("drill.log")));
  ASSERT_TRUE(WaitUntil([&] { return !ProcessesMentioning(d.sandboxes + "/ailee-drill-").empty(); }, Millis(60000)))
      << FileTail(d.w.scenario().dir().Join("drill.log"));
  drill.Signal(SIGTERM);
  auto code = drill.Wait(Millis(30000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 6) << FileTail(d.w.scenario().dir().Join("drill.log"));
  EXPECT_TRUE(Entries(d.sandboxes).empty());
  EXPECT_TRUE(ProcessesMentioning(d.sandboxes).empty());

  // kill -9 instead: the sandbox node dies with the drill, and the next
  // drill removes the sandbox it left.
  ASSIGN_OR_FAIL(Process killed, d.w.Background(d.leader, args, d.w.scenario().dir().Join("drill2.log")));
  ASSERT_TRUE(WaitUntil([&] { return !ProcessesMentioning(d.sandboxes + "/ailee-drill-").empty(); }, Millis(60000)));
  killed.Kill();
  EXPECT_TRUE(WaitUntil([&] { return ProcessesMentioning(d.sandboxes).empty(); }, Millis(10000)))
      << "the sandbox node outlived its drill";
  EXPECT_EQ(Entries(d.sandboxes).size(), 1u) << "a killed drill cannot clean up after itself";
  CommandResult next = d.Drill();
  ASSERT_EQ(next.exit_code, 0) << next;
  d.ExpectNothingLeft(JsonOut(next));
}

TEST(Drill, TheSandboxConfigWithoutFollowIsRefusedByTheNode) {
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  CommandResult out = d.Drill({"--keep"});
  ASSERT_EQ(out.exit_code, 0) << out;
  const std::string sandbox = JsonOut(out)["sandbox"].get<std::string>();
  std::ifstream in(sandbox + "/config.yaml");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(config.find("follow: "), std::string::npos);
  EXPECT_FALSE(std::regex_search(config, std::regex("(^|\n)signer:"))) << "the sandbox holds no signer section";
  EXPECT_EQ(config.find("key_file"), std::string::npos);
  // An operator who turns it into a leader (drops `follow`): refused, no block.
  std::string leader_config = std::regex_replace(config, std::regex("follow: [^\n]*\n"), "");
  ASSERT_OK(WriteFile(sandbox + "/leader.yaml", leader_config));
  CommandResult node = it::Run({NodeBinary(), "--config", sandbox + "/leader.yaml", "--allow-lone-start"}, Millis(20000));
  EXPECT_NE(node.exit_code, 0) << node;
  EXPECT_NE((node.out + node.err).find("signer"), std::string::npos) << node;
  EXPECT_TRUE(ProcessesMentioning(sandbox).empty());
}

TEST(Drill, HtmlReportRendersInHeadlessChromiumWithEveryPhase) {
  const char* candidates[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
  std::string chromium;
  for (const char* c : candidates) if (Exists(c)) chromium = c;
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  DrillWorld d;
  d.Build();
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_EQ(d.Drill().exit_code, 0);  // an earlier drill: the trend has two points
  const std::string html = d.w.scenario().dir().Join("report.html");
  ASSERT_EQ(d.Drill({"--html", html}).exit_code, 0);
  const std::string profile = d.w.scenario().dir().Join("chromium-profile");
  const std::string shot = d.w.scenario().dir().Join("report.png");
  std::vector<std::string> base{chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                "--disable-component-update", "--disable-sync", "--no-first-run",
                                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("file://" + html);
    return a;
  };
  CommandResult png = it::Run(with({"--screenshot=" + shot, "--window-size=1200,1600"}), Millis(60000));
  ASSERT_EQ(png.exit_code, 0) << png;
  EXPECT_TRUE(Exists(shot));
  EXPECT_EQ(png.err.find("CONSOLE"), std::string::npos) << png.err;
  CommandResult dom = it::Run(with({"--dump-dom"}), Millis(60000));
  ASSERT_EQ(dom.exit_code, 0) << dom;
  EXPECT_EQ(dom.err.find("CONSOLE"), std::string::npos) << dom.err;
  EXPECT_NE(dom.out.find("<svg id=\"timeline\""), std::string::npos);
  for (const auto& phase : kPhases) {
    EXPECT_NE(dom.out.find("data-phase=\"" + phase + "\""), std::string::npos) << phase;
  }
  EXPECT_NE(dom.out.find("id=\"verdict\" class=\"pass\""), std::string::npos);
  EXPECT_NE(dom.out.find("<svg id=\"trend\""), std::string::npos);
  EXPECT_NE(dom.out.find("<table id=\"targets\""), std::string::npos);
  EXPECT_EQ(dom.out.find("src=\"http"), std::string::npos) << "no external assets";
}


// ------------------------------------------------------------- drill --keys
// The signer's key backed up (passphrase file and 2-of-3 shares) beside a
// node config that is never started: the key drill needs no network.
struct KeyDrillWorld {
  RepoWorld w{"drill-keys"};
  Scenario& s = w.scenario();
  TestNode& n = w.AddNode("node-1");  // config written (repository included), never started
  std::string pass = s.dir().Join("key.pass");
  std::string backups = s.dir().Join("key-backups");
  std::string shared = s.dir().Join("key-backups-shared");
  std::string shares = s.dir().Join("shares");
  std::string scratch = s.dir().Join("scratch");

  void Build() {
    ASSERT_OK(w.InitRepo());  // where the drill reports are kept
    ASSERT_OK(WriteFile(pass, "key drill passphrase\n", 0600));
    CommandResult b = s.Cli(n, {"keys", "backup", "--id", s.signer().id, "--key", s.signer().key_file, "--out", backups,
                                "--passphrase-file", pass});
    ASSERT_EQ(b.exit_code, 0) << b;
    CommandResult sb = s.Cli(n, {"keys", "backup", "--id", s.signer().id, "--key", s.signer().key_file, "--out", shared,
                                 "--shares", "2/3", "--shares-out", shares});
    ASSERT_EQ(sb.exit_code, 0) << sb;
  }
  CommandResult Drill(std::vector<std::string> extra) const {
    std::vector<std::string> a = {"--json", "drill", "--keys", "--sandbox-dir", scratch};
    a.insert(a.end(), extra.begin(), extra.end());
    return s.Cli(n, a);
  }
  // Nothing of the drill remains: no scratch directory, no file holding the
  // key's PEM anywhere below the scratch parent.
  void ExpectNothingLeft() const {
    EXPECT_TRUE(Entries(scratch).empty()) << "left in " << scratch << ": " << Entries(scratch).size();
    EXPECT_TRUE(FilesUnder(scratch).empty());
  }
  // The parts of the drill reports `drill --history` lists, oldest first.
  std::vector<std::string> HistoryParts() const {
    CommandResult h = s.Cli(n, {"--json", "drill", "--history"});
    EXPECT_EQ(h.exit_code, 0) << h;
    std::vector<std::string> parts;
    if (h.exit_code != 0) return parts;
    const nlohmann::json listed = JsonOut(h);  // named: a temporary's ["reports"] would dangle in the loop
    for (const auto& r : listed["reports"]) parts.push_back(r["part"]);
    return parts;
  }

  // --to-pkcs11: SoftHSM2 tokens in this world's own token directory.
  static constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
  std::string pin_file = s.dir().Join("token.pin");
  static bool HsmAvailable() { return Exists(kModule) && Exists("/usr/bin/softhsm2-util"); }
  void InitToken(const std::string& label) const {
    const std::string conf = s.dir().Join("softhsm2.conf"), tokens = s.dir().Join("tokens");
    stdfs::create_directories(tokens);
    ASSERT_OK(WriteFile(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n", 0600));
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);  // for this process and every ailee-cli it starts
    CommandResult init = Run({"/usr/bin/softhsm2-util", "--init-token", "--free", "--label", label, "--pin", "1234",
                              "--so-pin", "5678"}, Millis(30000));
    ASSERT_EQ(init.exit_code, 0) << init;
    ASSERT_OK(WriteFile(pin_file, "1234\n", 0600));
  }
  static Result<std::unique_ptr<keys::Pkcs11Token>> OpenToken(const std::string& label) {
    return keys::Pkcs11Token::Open(kModule, label, crypto::SecureBytes("1234"));
  }
  // The labels of the key objects on the token.
  static std::vector<std::string> TokenLabels(const std::string& label) {
    auto token = OpenToken(label);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    if (!token.ok()) return {"(token did not open)"};
    auto labels = (*token)->KeyLabels();
    EXPECT_TRUE(labels.ok()) << labels.status().ToString();
    return labels.ok() ? *labels : std::vector<std::string>{"(no listing)"};
  }
};

std::vector<std::string> ShareFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : Entries(dir)) out.push_back(dir + "/" + e);
  return out;
}

TEST(KeyDrill, PassesFromAFileBackupAndFromTwoOfThreeSharesLeavingNoKeyBehind) {
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string metrics = k.s.dir().Join("metrics");
  stdfs::create_directories(metrics);
  CommandResult out = k.s.Cli(k.n, {"--json", "--metrics-dir", metrics, "drill", "--keys", "--sandbox-dir", k.scratch,
                                    "--key-backup", k.backups, "--key-passphrase-file", k.pass});
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  EXPECT_TRUE(r["ok"].get<bool>());
  // A job of its own: the state drill's file is not replaced.
  EXPECT_EQ(Entries(metrics), std::vector<std::string>{"ailee_drill_keys_node-1.prom"});
  std::ifstream prom(metrics + "/ailee_drill_keys_node-1.prom");
  std::string text((std::istreambuf_iterator<char>(prom)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("ailee_drill_keys_ok{ailee_job=\"drill_keys\",node=\"node-1\"} 1"), std::string::npos) << text;
  EXPECT_EQ(r["signer_id"], k.s.signer().id);
  EXPECT_EQ(r["fingerprint"], k.s.signer().key.public_key().FingerprintHex());
  std::vector<std::string> phases;
  for (const auto& p : r["phases"]) phases.push_back(p["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"open", "restore", "test-signer", "shred"}));
  for (const char* c : {"backup-opens", "federation-fingerprint", "restore", "test-signer", "shred"}) {
    const nlohmann::json* check = FindCheck(r, c);
    ASSERT_NE(check, nullptr) << c;
    EXPECT_TRUE((*check)["ok"].get<bool>()) << c;
  }
  EXPECT_GE(r["rto_ms"].get<int64_t>(), 0);
  k.ExpectNothingLeft();

  std::vector<std::string> two = ShareFiles(k.shares);
  ASSERT_EQ(two.size(), 3u);
  two.pop_back();
  std::vector<std::string> a = {"--key-backup", k.shared, "--key-shares"};
  a.insert(a.end(), two.begin(), two.end());
  CommandResult with_shares = k.Drill(a);
  ASSERT_EQ(with_shares.exit_code, 0) << with_shares;
  EXPECT_TRUE(JsonOut(with_shares)["ok"].get<bool>());
  k.ExpectNothingLeft();
  // The audit log has both drills.
  std::ifstream audit(k.n.dir() + "/audit.log");
  std::string log((std::istreambuf_iterator<char>(audit)), std::istreambuf_iterator<char>());
  size_t drills = 0;
  for (size_t at = log.find("key.drill"); at != std::string::npos; at = log.find("key.drill", at + 1)) ++drills;
  EXPECT_EQ(drills, 2u);
}

TEST(KeyDrill, ADamagedBackupOrAnotherSignersKeyFailsNamingTheCheck) {
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  // One byte of the encrypted key edited.
  const std::string gpg = k.backups + "/" + k.s.signer().id + ".key.gpg";
  ASSERT_OK(FlipByte(gpg, 40));
  CommandResult damaged = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass});
  EXPECT_EQ(damaged.exit_code, 3) << damaged;
  nlohmann::json r = JsonOut(damaged);
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["failed_check"], "backup-opens");
  k.ExpectNothingLeft();

  // A well-formed backup of another key under this signer's id (made with
  // that key declared as the federation's): the federation's fingerprint
  // refuses it before anything is restored.
  ASSIGN_OR_FAIL(SignerKey other, MakeSignerKey(k.s.dir().Join("other"), k.s.signer().id));
  const std::string foreign = k.s.dir().Join("foreign-backups");
  CommandResult b = k.s.Cli(k.n, {"keys", "backup", "--id", other.id, "--key", other.key_file, "--out", foreign,
                                  "--passphrase-file", k.pass, "--federation-key", other.id + "=" + other.pub_file});
  ASSERT_EQ(b.exit_code, 0) << b;
  CommandResult wrong = k.Drill({"--key-backup", foreign, "--key-passphrase-file", k.pass});
  EXPECT_EQ(wrong.exit_code, 3) << wrong;
  nlohmann::json w = JsonOut(wrong);
  EXPECT_EQ(w["failed_check"], "federation-fingerprint");
  EXPECT_EQ(FindCheck(w, "restore"), nullptr) << "a foreign key was restored";
  k.ExpectNothingLeft();
}

TEST(KeyDrill, AKilledDrillsScratchGoesWithTheNextButALiveDrillsStays) {
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  // What a drill killed after its restore leaves: its owner-tagged scratch
  // directory with the plaintext key inside. Its owner tag is a real
  // process's that has exited.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string tag = fs::OwnerTag();
    (void)!write(fds[1], tag.data(), tag.size());
    _exit(0);
  }
  close(fds[1]);
  char buf[64] = {};
  const ssize_t got = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  waitpid(child, nullptr, 0);
  ASSERT_GT(got, 0);
  const std::string dead = k.scratch + "/ailee-key-drill-" + std::string(buf, static_cast<size_t>(got)) + "-0123456789ab";
  const std::string live = k.scratch + "/ailee-key-drill-" + fs::OwnerTag() + "-ba9876543210";
  stdfs::create_directories(dead);
  stdfs::create_directories(live);
  stdfs::copy_file(k.s.signer().key_file, dead + "/" + k.s.signer().id + ".key");
  CommandResult next = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass});
  ASSERT_EQ(next.exit_code, 0) << next;
  EXPECT_FALSE(stdfs::exists(dead)) << "a killed drill's key was left behind";
  EXPECT_TRUE(stdfs::exists(live)) << "a running drill's scratch was removed";
  stdfs::remove_all(live);
  k.ExpectNothingLeft();
}

TEST(KeyDrill, InconsistentFlagsAreRefusedBeforeAnythingIsOpened) {
  KeyDrillWorld k;
  CommandResult with_height = k.s.Cli(k.n, {"drill", "--keys", "--to-height", "5", "--key-backup", k.backups});
  EXPECT_EQ(with_height.exit_code, 2) << with_height;
  EXPECT_NE(with_height.err.find("--to-height"), std::string::npos) << with_height;
  CommandResult both = k.s.Cli(k.n, {"drill", "--keys", "--key-backup", k.backups, "--key-passphrase-file", k.pass,
                                     "--key-shares", k.pass});
  EXPECT_EQ(both.exit_code, 2) << both;
  CommandResult without = k.s.Cli(k.n, {"drill", "--key-backup", k.backups});
  EXPECT_EQ(without.exit_code, 2) << without;
  EXPECT_NE(without.err.find("--keys"), std::string::npos) << without;
  // The token flags belong to --to-pkcs11, and that to --keys; --history runs no drill.
  CommandResult token_alone = k.s.Cli(k.n, {"drill", "--to-pkcs11", "--token-label", "t"});
  EXPECT_EQ(token_alone.exit_code, 2) << token_alone;
  CommandResult label_alone = k.s.Cli(k.n, {"drill", "--keys", "--key-backup", k.backups, "--token-label", "t"});
  EXPECT_EQ(label_alone.exit_code, 2) << label_alone;
  EXPECT_NE(label_alone.err.find("--to-pkcs11"), std::string::npos) << label_alone;
  CommandResult history = k.s.Cli(k.n, {"drill", "--history", "--keys", "--key-backup", k.backups});
  EXPECT_EQ(history.exit_code, 2) << history;
  EXPECT_FALSE(stdfs::exists(k.scratch));
}

// ------------------------------------------------- drill --keys --to-pkcs11
std::vector<std::string> PhaseNames(const nlohmann::json& r) {
  std::vector<std::string> phases;
  for (const auto& p : r["phases"]) phases.push_back(p["name"]);
  return phases;
}

TEST(KeyDrill, IntoAPkcs11TestTokenPassesLeavingNoObjectOnItAndNoScratch) {
  if (!KeyDrillWorld::HsmAvailable()) GTEST_SKIP() << "softhsm2 absent (scripts/install-deps.sh installs it)";
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  k.InitToken("ailee-drill");
  if (::testing::Test::HasFatalFailure()) return;
  CommandResult out = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass, "--to-pkcs11",
                               "--pkcs11-module", KeyDrillWorld::kModule, "--token-label", "ailee-drill", "--pin-file",
                               k.pin_file});
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(PhaseNames(r), (std::vector<std::string>{"open", "restore", "import", "test-signer", "destroy", "shred"}));
  for (const char* c : {"backup-opens", "federation-fingerprint", "restore", "import", "test-signer", "destroy", "shred"}) {
    const nlohmann::json* check = FindCheck(r, c);
    ASSERT_NE(check, nullptr) << c;
    EXPECT_TRUE((*check)["ok"].get<bool>()) << c << ": " << (*check)["detail"];
  }
  EXPECT_NE(r["token"].get<std::string>().find("token=ailee-drill"), std::string::npos) << r.dump();
  EXPECT_EQ(r["token_object"].get<std::string>().rfind("ailee-key-drill-", 0), 0u) << r.dump();
  EXPECT_TRUE(KeyDrillWorld::TokenLabels("ailee-drill").empty()) << "the drill left key objects on the token";
  k.ExpectNothingLeft();
  ASSERT_TRUE(r.contains("report_snapshot")) << r.dump();

  // The same from the config's drill.test_token, with no token flag.
  std::ifstream in(k.n.config_path());
  std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  cfg += "drill:\n  test_token:\n    module: " + std::string(KeyDrillWorld::kModule) +
         "\n    token_label: ailee-drill\n    pin_file: " + k.pin_file + "\n";
  ASSERT_OK(WriteFile(k.n.config_path(), cfg));
  CommandResult from_config = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass, "--to-pkcs11"});
  ASSERT_EQ(from_config.exit_code, 0) << from_config;
  EXPECT_EQ(PhaseNames(JsonOut(from_config))[2], "import");
  EXPECT_TRUE(KeyDrillWorld::TokenLabels("ailee-drill").empty());
  k.ExpectNothingLeft();
  // Both key drills are kept in the repository and listed.
  EXPECT_EQ(k.HistoryParts(), (std::vector<std::string>{"keys", "keys"}));
}

TEST(KeyDrill, TheProductionSignersTokenIsRefusedWithNothingTouched) {
  if (!KeyDrillWorld::HsmAvailable()) GTEST_SKIP() << "softhsm2 absent (scripts/install-deps.sh installs it)";
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  k.InitToken("ailee-prod");
  if (::testing::Test::HasFatalFailure()) return;
  // The node signs through the token labelled ailee-prod.
  std::ifstream in(k.n.config_path());
  std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  cfg = std::regex_replace(cfg, std::regex("\n  key_file: [^\n]*\n"),
                           "\n  pkcs11:\n    module: " + std::string(KeyDrillWorld::kModule) +
                               "\n    token_label: ailee-prod\n    key_label: signer-01\n");
  ASSERT_NE(cfg.find("token_label: ailee-prod"), std::string::npos) << cfg;
  ASSERT_OK(WriteFile(k.n.config_path(), cfg));
  CommandResult refused = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass, "--to-pkcs11",
                                   "--pkcs11-module", KeyDrillWorld::kModule, "--token-label", "ailee-prod",
                                   "--pin-file", k.pin_file});
  EXPECT_EQ(refused.exit_code, 2) << refused;
  EXPECT_NE(refused.err.find("production signer's token"), std::string::npos) << refused;
  EXPECT_TRUE(KeyDrillWorld::TokenLabels("ailee-prod").empty());
  EXPECT_FALSE(stdfs::exists(k.scratch)) << "the refused drill made its scratch";
  EXPECT_TRUE(k.HistoryParts().empty()) << "a refused drill stored a report";
}

TEST(KeyDrill, AKilledPkcs11DrillsObjectsGoWithTheNextButALiveDrillsStay) {
  if (!KeyDrillWorld::HsmAvailable()) GTEST_SKIP() << "softhsm2 absent (scripts/install-deps.sh installs it)";
  KeyDrillWorld k;
  k.Build();
  if (::testing::Test::HasFatalFailure()) return;
  k.InitToken("ailee-drill");
  if (::testing::Test::HasFatalFailure()) return;
  // What a drill killed between import and destroy leaves: the key pair
  // under its owner-tagged label. One owner exited; the other (this test)
  // is alive, as a concurrent drill would be.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = "ailee-key-drill-" + std::to_string(child) + "s1-0123456789ab";
  const std::string live = "ailee-key-drill-" + fs::OwnerTag() + "-ba9876543210";
  {
    ASSIGN_OR_FAIL(auto token, KeyDrillWorld::OpenToken("ailee-drill"));
    for (const auto& label : {dead, live}) ASSERT_OK(token->ImportKeyPair(k.s.signer().key, {label, ""}).status());
  }
  CommandResult next = k.Drill({"--key-backup", k.backups, "--key-passphrase-file", k.pass, "--to-pkcs11",
                                "--pkcs11-module", KeyDrillWorld::kModule, "--token-label", "ailee-drill", "--pin-file",
                                k.pin_file});
  ASSERT_EQ(next.exit_code, 0) << next;
  EXPECT_EQ(JsonOut(next)["leftovers_removed"], nlohmann::json::array({dead}));
  EXPECT_EQ(KeyDrillWorld::TokenLabels("ailee-drill"), std::vector<std::string>{live}) << "killed or live objects misjudged";
  k.ExpectNothingLeft();
}

// ----------------------------------------------------------- drill --config
TEST(ConfigDrill, PassesOnTheNewestSnapshotAndFailsWhenItsConfigNamesAFileNoLongerThere) {
  RepoWorld w{"drill-config"};
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.InitRepo());
  const std::string secrets = w.scenario().dir().Join("secrets.pass");
  const std::string scratch = w.scenario().dir().Join("scratch");
  ASSERT_OK(WriteFile(secrets, "config drill secrets passphrase\n", 0600));
  CommandResult b = w.Cli(n, {"backup", "config", "--secrets-passphrase-file", secrets});
  ASSERT_EQ(b.exit_code, 0) << b;
  const std::vector<std::string> drill = {"--json", "drill", "--config", "--sandbox-dir", scratch,
                                          "--secrets-passphrase-file", secrets};
  CommandResult ok = w.Cli(n, drill);
  ASSERT_EQ(ok.exit_code, 0) << ok;
  nlohmann::json r = JsonOut(ok);
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(r["config"], n.config_path());
  std::vector<std::string> phases;
  for (const auto& p : r["phases"]) phases.push_back(p["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"restore", "validate", "shred"}));
  EXPECT_TRUE(Entries(scratch).empty()) << "left in " << scratch;

  // The live config moves the federation key to another file and the old
  // one goes; no new snapshot is taken: the newest snapshot's config now
  // names a file a recovery would not find.
  const std::string pub = w.scenario().signer().pub_file;
  const std::string moved = w.scenario().dir().Join("moved.pub");
  stdfs::copy_file(pub, moved);
  std::ifstream in(n.config_path());
  std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  for (size_t at = cfg.find(pub); at != std::string::npos; at = cfg.find(pub, at)) cfg.replace(at, pub.size(), moved);
  ASSERT_OK(WriteFile(n.config_path(), cfg));
  stdfs::remove(pub);
  CommandResult bad = w.Cli(n, drill);
  EXPECT_EQ(bad.exit_code, 3) << bad;
  nlohmann::json f = JsonOut(bad);
  EXPECT_EQ(f["failed_check"], "config-valid");
  EXPECT_NE(f["problems"].dump().find("public_key"), std::string::npos) << f.dump();
  EXPECT_TRUE(Entries(scratch).empty()) << "left in " << scratch;

  // Both reports are kept in the repository, beside no state drill's.
  CommandResult listed = w.Cli(n, {"--json", "drill", "--history"});
  ASSERT_EQ(listed.exit_code, 0) << listed;
  nlohmann::json reports = JsonOut(listed)["reports"];
  ASSERT_EQ(reports.size(), 2u) << listed;
  EXPECT_EQ(reports[0]["part"], "config");
  EXPECT_TRUE(reports[0]["ok"].get<bool>());
  EXPECT_EQ(reports[0]["snapshot"], r["report_snapshot"]);
  EXPECT_EQ(reports[1]["failed_check"], "config-valid");
  CommandResult text = w.Cli(n, {"drill", "--history"});
  EXPECT_NE(text.out.find("FAILED at 'config-valid'"), std::string::npos) << text;

  // --keys with --config: refused before anything runs, one clear message.
  CommandResult both = w.Cli(n, {"drill", "--config", "--keys", "--key-backup", scratch});
  EXPECT_EQ(both.exit_code, 2) << both;
  EXPECT_NE(both.err.find("give --keys or --config, not both"), std::string::npos) << both;
  CommandResult history_and_drill = w.Cli(n, {"drill", "--history", "--config"});
  EXPECT_EQ(history_and_drill.exit_code, 2) << history_and_drill;
  ASSIGN_OR_FAIL(auto after, w.JsonOk(n, {"drill", "--history"}));
  EXPECT_EQ(after["reports"].size(), 2u) << "a refused drill stored a report";
  CommandResult stray = w.Cli(n, {"drill", "--secrets-passphrase-file", secrets});
  EXPECT_EQ(stray.exit_code, 2) << stray;
}

}  // namespace
}  // namespace ailee::it
