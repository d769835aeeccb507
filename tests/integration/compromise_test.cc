// Issue 14, "Shown by": a compromised federation handled with the commands
// of docs/emergency.md on real nodes (loopback), real keys (PEM files and a
// SoftHSM2 token) and the load generator.
//   - the whole procedure on a live leader + follower under load: halt,
//     freeze-pegs, keys generate signer-04 on a token, break-glass change
//     replacing signer-01 (approved by incoming signers), the leader restarted
//     signing as signer-04, resume; then verify-state passes on both data dirs
//     over the whole chain, a peg-in signed by a member of the new epoch is
//     refused while pegs are frozen (naming the freeze) and accepted once
//     they are unfrozen, a backup from before the compromise restores and
//     proves, PITR before / inside / after the emergency reproduces the
//     node's state root, and a block signed by signer-01 after the change is
//     rejected by the follower, naming signer-01;
//   - a normal 2-of-3 rotation (one approval refused with the count);
//   - kill -9 of the leader in the middle of halt, freeze and apply, then the
//     step rerun completes it once (one freeze record, one epoch);
//   - bad input refused with a clear error and nothing changed;
//   - a signer added by a rotation (signer-04) recovered by recover-node from
//     its key backup on its lost host, which then signs; drill --keys and
//     test-signer pass for it; the retired signer-01 is refused by all
//     three; a peer serving a forged /v1/federation is not believed.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "base/fs.h"
#include "base/hex.h"
#include "recover_world.h"
#include "repo_fixture.h"
#include "state/block.h"
#include "state/federation_change.h"
#include "state/transaction.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kPin = "1234";

// A federation of signer-01 (the scenario's key: the leader's), signer-02 and
// signer-03 with `threshold`, a leader signing as signer-01 and, when asked,
// its follower; the leader's peers name the follower (what a restarted
// leader with a new key asks for the network's tip).
struct FedNet {
  Scenario s;
  std::vector<SignerKey> genesis;
  std::unique_ptr<TestNode> leader, follower;
  std::string audit;
  std::string extra_yaml;  // appended to both configs (e.g. the repository)
  std::string repo_pass;   // the repository's passphrase file (UseRepository)

  explicit FedNet(const std::string& tag)
      : s(tag), audit(s.dir().Join("operator-audit.log")), repo_pass(s.dir().Join("repo.pass")) {}

  // Both configs back up to one local repository: before Build; then
  // InitRepository once a node runs.
  void UseRepository() {
    ASSERT_OK(WriteFile(repo_pass, "federation test repository passphrase\n", 0600));
    extra_yaml = "backup:\n  repository: file://" + s.dir().Join("repo") + "\n  passphrase_file: " + repo_pass + "\n";
  }
  void InitRepository(const TestNode& n) const {
    ASSERT_EQ(Cli(n, {"-q", "repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"}).exit_code, 0);
  }

  void Build(int threshold, bool with_follower) {
    genesis.push_back(s.signer());
    for (const char* id : {"signer-02", "signer-03"}) {
      ASSIGN_OR_FAIL(SignerKey k, MakeSignerKey(s.dir().Join("keys"), id));
      genesis.push_back(std::move(k));
    }
    NodeSpec l = NodeSpec::Leader("leader");
    l.federation_threshold = threshold;
    l.extra_yaml = extra_yaml;
    leader = std::make_unique<TestNode>(s.dir().Join("leader"), l, genesis, s.signer());
    ASSERT_OK(leader->Start());
    if (!with_follower) return;
    NodeSpec f = NodeSpec::Follower("follower", leader->url());
    f.federation_threshold = threshold;
    f.extra_yaml = extra_yaml;
    follower = std::make_unique<TestNode>(s.dir().Join("follower"), f, genesis, std::nullopt);
    ASSERT_OK(follower->Start());
    l.extra_yaml += "peers: [" + follower->url() + "]\n";
    leader->Terminate();
    ASSERT_OK(leader->Reconfigure(l));
    ASSERT_OK(leader->Start());
  }
  const SignerKey& key(int i) const { return genesis.at(i); }

  // ailee-cli --config <node> --audit-log <operator's> args...
  CommandResult Cli(const TestNode& n, std::vector<std::string> args, Millis timeout = Millis(60000)) const {
    args.insert(args.begin(), {"--audit-log", audit});
    return s.Cli(n, args, timeout);
  }
  // The same with --json: the document when it exits 0, else a failure.
  nlohmann::json JsonOk(const TestNode& n, std::vector<std::string> args, Millis timeout = Millis(60000)) const {
    args.insert(args.begin(), "--json");
    CommandResult r = Cli(n, args, timeout);
    EXPECT_EQ(r.exit_code, 0) << r;
    return r.exit_code == 0 ? JsonOut(r) : nlohmann::json::object();
  }
  nlohmann::json Federation(const TestNode& n) const {
    auto f = n.Client().GetJson("/v1/federation");
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : nlohmann::json::object();
  }
  nlohmann::json Emergency(const TestNode& n) const {
    auto st = n.StatusJson();
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? (*st)["emergency"] : nlohmann::json::object();
  }
  // `federation propose` replacing `remove` by `add` (id, key), threshold t.
  CommandResult Propose(const std::string& out, const std::vector<std::string>& remove,
                        const std::vector<const SignerKey*>& add, int t, const std::string& break_glass_reason = "") const {
    std::vector<std::string> a{"federation", "propose", "--out", out, "--threshold", std::to_string(t),
                               "--operator", "alice"};
    for (const auto& id : remove) a.insert(a.end(), {"--remove", id});
    for (const auto* k : add) a.insert(a.end(), {"--add", k->id + "=" + k->pub_file});
    if (!break_glass_reason.empty()) a.insert(a.end(), {"--break-glass", "--reason", break_glass_reason});
    return Cli(*leader, a);
  }
  CommandResult SignWithFile(const std::string& change, const SignerKey& k) const {
    return Cli(*leader, {"federation", "sign", change, "--id", k.id, "--key-file", k.key_file});
  }
  CommandResult Apply(const std::string& change) const {
    return Cli(*leader, {"--json", "federation", "apply", change}, Millis(30000));
  }
  // POST /v1/admin/emergency with the leader's admin token, or without one.
  Result<nlohmann::json> AdminEmergency(const nlohmann::json& body, bool with_token) const {
    std::string token;
    if (with_token) {
      std::ifstream in(leader->admin_token_path());
      std::getline(in, token);
    }
    return node::NodeClient(leader->url(), token, 10000).PostJson("/v1/admin/emergency", body, /*admin=*/with_token);
  }
};

// Transactions of `type` in every block the node holds.
size_t CountTx(const TestNode& n, const std::string& type) {
  auto blocks = n.BlocksByHeight();
  EXPECT_TRUE(blocks.ok()) << blocks.status().ToString();
  if (!blocks.ok()) return 0;
  size_t count = 0;
  for (const auto& [h, hex] : *blocks) {
    auto raw = HexDecode(hex);
    auto b = state::DecodeBlock(raw ? *raw : "");
    EXPECT_TRUE(b.ok()) << "block " << h;
    if (!b.ok()) continue;
    for (const auto& tx : b->transactions)
      if (state::TxTypeName(tx.type) == type) ++count;
  }
  return count;
}

// The height stays put for `quiet` (a halted leader produces nothing).
bool HeightStays(const TestNode& n, Millis quiet) {
  auto before = n.Height();
  std::this_thread::sleep_for(quiet);
  auto after = n.Height();
  return before.ok() && after.ok() && *before == *after;
}

// ------------------------------------------------------------- normal rotation

TEST(Compromise, NormalTwoOfThreeRotationNeedsTwoOutgoingApprovals) {
  FedNet net("fed-rotation");
  net.Build(2, /*with_follower=*/true);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_OK(net.leader->WaitForHeight(3, Millis(10000)));
  ASSIGN_OR_FAIL(SignerKey k4, MakeSignerKey(net.s.dir().Join("keys"), "signer-04"));
  const std::string change = net.s.dir().Join("rotate.json");
  CommandResult proposed = net.Propose(change, {"signer-03"}, {&k4}, 2);
  ASSERT_EQ(proposed.exit_code, 0) << proposed;

  // The proposal names the leader's chain, and the signer is shown it before signing.
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, net.leader->ChainId());
  const std::string chain_hex = crypto::HashToHex(chain_id);
  EXPECT_EQ(nlohmann::json::parse(*fs::ReadFile(change))["change"].value("chain_id", ""), chain_hex);

  CommandResult first = net.SignWithFile(change, net.key(0));
  ASSERT_EQ(first.exit_code, 0) << first;
  EXPECT_NE(first.out.find("needs 1 more approval"), std::string::npos) << first;
  EXPECT_NE(first.err.find("approving for chain " + chain_hex), std::string::npos) << first;
  // One approval of a threshold of two: the leader refuses, nothing changes.
  CommandResult early = net.Apply(change);
  EXPECT_EQ(early.exit_code, 2) << early;
  EXPECT_NE(early.err.find("1 approval from the outgoing federation, threshold is 2"), std::string::npos) << early;
  EXPECT_EQ(net.Federation(*net.leader)["epochs"].size(), 1u);

  CommandResult second = net.SignWithFile(change, net.key(1));
  ASSERT_EQ(second.exit_code, 0) << second;
  EXPECT_NE(second.out.find("ready"), std::string::npos) << second;
  CommandResult applied = net.Apply(change);
  ASSERT_EQ(applied.exit_code, 0) << applied;
  nlohmann::json a = JsonOut(applied);
  const uint64_t h = a["height"].get<uint64_t>();
  EXPECT_EQ(a["activation_height"].get<uint64_t>(), h + 1);
  EXPECT_EQ(a["epoch"].get<uint64_t>(), 1u);
  // Applied twice (a second operator, a rerun): reported, not doubled.
  CommandResult again = net.Apply(change);
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_EQ(JsonOut(again)["already_applied"], true);

  // Every node applies it like any block; the leader (signer-01, still a
  // member) keeps signing under epoch 1.
  ASSERT_OK(net.follower->WaitForHeight(h + 5, Millis(15000)));
  nlohmann::json shown = net.JsonOk(*net.follower, {"federation", "show", "--url", net.follower->url()});
  ASSERT_EQ(shown["epochs"].size(), 2u) << shown.dump(2);
  const auto& e1 = shown["epochs"][1];
  EXPECT_EQ(e1["number"], 1);
  EXPECT_EQ(e1["start_height"].get<uint64_t>(), h + 1);
  EXPECT_EQ(e1["authorization"], "threshold");
  EXPECT_EQ(net.Federation(*net.leader)["epochs"], shown["epochs"]);
  EXPECT_EQ(shown.value("chain_id", ""), chain_hex);
  CommandResult text = net.Cli(*net.leader, {"federation", "show"});
  EXPECT_NE(text.out.find("chain " + chain_hex), std::string::npos) << text;
  EXPECT_NE(text.out.find("epoch 1 from height " + std::to_string(h + 1) + ": signer-01, signer-02, signer-04 (threshold 2)"),
            std::string::npos)
      << text;

  EXPECT_EQ(net.leader->Terminate(), 0);
  EXPECT_EQ(net.follower->Terminate(), 0);
  for (const TestNode* n : {net.leader.get(), net.follower.get()}) {
    CommandResult v = net.Cli(*n, {"verify-state", n->data_dir()}, Millis(60000));
    EXPECT_EQ(v.exit_code, 0) << n->spec().id << ": " << v;
  }
}

// ------------------------------------------------------------------ bad input

TEST(Compromise, BadInputIsRefusedWithAClearErrorAndNothingChanges) {
  FedNet net("fed-bad-input");
  net.Build(2, /*with_follower=*/false);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_OK(net.leader->WaitForHeight(2, Millis(10000)));
  const nlohmann::json fed_before = net.Federation(*net.leader);
  const nlohmann::json emergency_before = net.Emergency(*net.leader);
  ASSIGN_OR_FAIL(SignerKey k4, MakeSignerKey(net.s.dir().Join("keys"), "signer-04"));
  ASSIGN_OR_FAIL(SignerKey k9, MakeSignerKey(net.s.dir().Join("outsider"), "signer-09"));

  // Too few signers: one approval, threshold two.
  const std::string few = net.s.dir().Join("few.json");
  ASSERT_EQ(net.Propose(few, {"signer-03"}, {&k4}, 2).exit_code, 0);
  ASSERT_EQ(net.SignWithFile(few, net.key(0)).exit_code, 0);
  CommandResult too_few = net.Apply(few);
  EXPECT_EQ(too_few.exit_code, 2) << too_few;
  EXPECT_NE(too_few.err.find("1 approval from the outgoing federation, threshold is 2"), std::string::npos) << too_few;

  // A non-member: `sign` refuses it before signing; an approval slipped into
  // the file by hand (signed by its own key) is refused by the leader.
  CommandResult outsider = net.SignWithFile(few, k9);
  EXPECT_EQ(outsider.exit_code, 2) << outsider;
  EXPECT_NE(outsider.err.find("approval by signer-09, which is not a member of the outgoing federation"),
            std::string::npos)
      << outsider;
  {
    auto doc = nlohmann::json::parse(*fs::ReadFile(few));
    auto change = state::FederationChangeFromJson(doc["change"]);
    ASSERT_TRUE(change.ok()) << change.status().ToString();
    ASSERT_OK(state::ApproveChange(*change, "signer-09",
                                   [&](std::string_view m) { return k9.key.Sign(m); }));
    doc["change"] = state::FederationChangeToJson(*change);
    ASSERT_OK(WriteFile(few, doc.dump(2)));
  }
  CommandResult smuggled = net.Apply(few);
  EXPECT_EQ(smuggled.exit_code, 2) << smuggled;
  EXPECT_NE(smuggled.err.find("signer-09, which is not a member of the outgoing federation"), std::string::npos)
      << smuggled;

  // Fewer signers than the threshold: `propose` refuses it; the same change
  // approved by two members anyway (built by hand) is refused by the leader.
  const std::string thin = net.s.dir().Join("thin.json");
  CommandResult thin_proposal = net.Propose(thin, {"signer-02", "signer-03"}, {}, 2);
  EXPECT_EQ(thin_proposal.exit_code, 2) << thin_proposal;
  EXPECT_NE(thin_proposal.err.find("leaves 1 signer, fewer than the threshold 2"), std::string::npos) << thin_proposal;
  EXPECT_FALSE(stdfs::exists(thin));
  ASSERT_EQ(net.Propose(thin, {"signer-03"}, {}, 2).exit_code, 0);
  {
    auto doc = nlohmann::json::parse(*fs::ReadFile(thin));
    auto change = state::FederationChangeFromJson(doc["change"]);
    ASSERT_TRUE(change.ok());
    change->incoming.threshold = 3;
    for (int i : {0, 1})
      ASSERT_OK(state::ApproveChange(*change, net.key(i).id,
                                     [&](std::string_view m) { return net.key(i).key.Sign(m); }));
    doc["change"] = state::FederationChangeToJson(*change);
    ASSERT_OK(WriteFile(thin, doc.dump(2)));
  }
  CommandResult thin_applied = net.Apply(thin);
  EXPECT_EQ(thin_applied.exit_code, 2) << thin_applied;
  EXPECT_NE(thin_applied.err.find("leaves 2 signers, fewer than the threshold 3"), std::string::npos) << thin_applied;

  // A halt without a reason: refused by the CLI and by the node.
  CommandResult no_reason = net.Cli(*net.leader, {"emergency", "halt"});
  EXPECT_EQ(no_reason.exit_code, 2) << no_reason;
  auto bare = net.AdminEmergency({{"action", "halt"}, {"operator", "mallory"}}, /*with_token=*/true);
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find("reason is required"), std::string::npos) << bare.status().ToString();

  // A resume by a caller without the admin token, while halted.
  CommandResult halted = net.Cli(*net.leader, {"emergency", "halt", "--reason", "drill: bad input test"});
  ASSERT_EQ(halted.exit_code, 0) << halted;
  auto anon = net.AdminEmergency({{"action", "resume"}, {"reason", "let me in"}, {"operator", "mallory"}},
                                 /*with_token=*/false);
  ASSERT_FALSE(anon.ok());
  EXPECT_EQ(anon.status().code(), StatusCode::kPermissionDenied) << anon.status().ToString();
  EXPECT_EQ(net.Emergency(*net.leader)["halted"], true);
  EXPECT_TRUE(HeightStays(*net.leader, Millis(600)));
  CommandResult resumed = net.Cli(*net.leader, {"emergency", "resume", "--reason", "drill over"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed;

  // Nothing of the refused changed the federation or the emergency state.
  EXPECT_EQ(net.Federation(*net.leader)["epochs"], fed_before["epochs"]);
  nlohmann::json emergency_after = net.Emergency(*net.leader);
  EXPECT_EQ(emergency_after["halted"], emergency_before["halted"]) << emergency_after.dump();
  EXPECT_EQ(emergency_after["pegs_frozen"], emergency_before["pegs_frozen"]) << emergency_after.dump();
  EXPECT_EQ(CountTx(*net.leader, "federation_change"), 0u);
}

// ------------------------------------------------------------ kill -9 mid step

// Runs `args` in the background, SIGKILLs the leader a moment later (at a
// random point: the request not yet there, in flight, or answered), starts
// it again and reruns the step, which must then succeed or say it was done.
void KillMidStepThenRerun(FedNet& net, std::mt19937_64& rng, const std::vector<std::string>& args,
                          const std::string& done_word) {
  std::vector<std::string> a{"--audit-log", net.audit};
  a.insert(a.end(), args.begin(), args.end());
  ASSIGN_OR_FAIL(Process cli, net.s.CliBackground(*net.leader, a, net.s.dir().Join("step.log")));
  std::this_thread::sleep_for(Millis(std::uniform_int_distribution<int>(0, 250)(rng)));
  EXPECT_EQ(net.leader->Kill(), 137);
  EXPECT_TRUE(cli.Wait(Millis(40000)).has_value());
  ASSERT_OK(net.leader->Start());
  CommandResult rerun = net.Cli(*net.leader, args);
  EXPECT_TRUE(rerun.exit_code == 0 || rerun.err.find(done_word) != std::string::npos)
      << "rerun of " << args[0] << " " << args[1] << ": " << rerun;
}

TEST(Compromise, KillDashNineOfTheLeaderMidStepThenEachStepCompletesOnce) {
  FedNet net("fed-kill");
  net.Build(2, /*with_follower=*/false);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_OK(net.leader->WaitForHeight(3, Millis(10000)));
  std::mt19937_64 rng = KillPointRng();
  ASSIGN_OR_FAIL(SignerKey k4, MakeSignerKey(net.s.dir().Join("keys"), "signer-04"));
  const std::string change = net.s.dir().Join("change.json");
  ASSERT_EQ(net.Propose(change, {"signer-03"}, {&k4}, 2).exit_code, 0);
  ASSERT_EQ(net.SignWithFile(change, net.key(0)).exit_code, 0);
  ASSERT_EQ(net.SignWithFile(change, net.key(1)).exit_code, 0);

  KillMidStepThenRerun(net, rng, {"emergency", "halt", "--reason", "kill test"}, "already halted");
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(net.Emergency(*net.leader)["halted"], true) << "a restarted leader comes back halted";
  EXPECT_TRUE(HeightStays(*net.leader, Millis(600)));

  KillMidStepThenRerun(net, rng, {"emergency", "freeze-pegs", "--reason", "kill test"}, "already frozen");
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(net.Emergency(*net.leader)["pegs_frozen"], true);
  EXPECT_EQ(CountTx(*net.leader, "peg_freeze"), 1u);

  KillMidStepThenRerun(net, rng, {"federation", "apply", change}, "already");
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(net.Federation(*net.leader)["epochs"].size(), 2u);
  EXPECT_EQ(CountTx(*net.leader, "federation_change"), 1u);

  CommandResult resumed = net.Cli(*net.leader, {"emergency", "resume", "--reason", "kill test over"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed;
  ASSIGN_OR_FAIL(uint64_t h, net.leader->Height());
  ASSERT_OK(net.leader->WaitForHeight(h + 3, Millis(10000)));
  EXPECT_EQ(CountTx(*net.leader, "peg_freeze"), 1u);
  EXPECT_EQ(CountTx(*net.leader, "federation_change"), 1u);
  EXPECT_EQ(net.leader->Terminate(), 0);
  CommandResult v = net.Cli(*net.leader, {"verify-state", net.leader->data_dir()});
  EXPECT_EQ(v.exit_code, 0) << v;
}

// ------------------------------------------------------------ the whole procedure

// A SoftHSM2 token of this test's own (SOFTHSM2_CONF for every process
// started from here on).
void MakeToken(const Scenario& s, const std::string& label) {
  const std::string conf = s.dir().Join("softhsm2.conf");
  ASSERT_OK(WriteFile(conf, "directories.tokendir = " + s.dir().Join("tokens") +
                                "\nobjectstore.backend = file\nlog.level = ERROR\n", 0600));
  stdfs::create_directories(s.dir().Join("tokens"));
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  CommandResult init = Run({"/usr/bin/softhsm2-util", "--init-token", "--free", "--label", label, "--pin", kPin,
                            "--so-pin", "5678"},
                           Millis(30000));
  ASSERT_EQ(init.exit_code, 0) << init;
}

// A peer that serves a follower the real leader's next block re-signed by
// `key` as `signer_id`: what a holder of a retired key would send.
class ForgingPeer {
 public:
  ForgingPeer(std::string real_leader, crypto::PrivateKey key, std::string signer_id)
      : real_(std::move(real_leader)), key_(std::move(key)), signer_id_(std::move(signer_id)) {
    server_.Get("/v1/status", [this](const httplib::Request&, httplib::Response& res) {
      auto st = node::NodeClient(real_, "", 5000).GetJson("/v1/status");
      nlohmann::json out{{"node_id", "forger"}, {"height", st.ok() ? (*st)["height"].get<uint64_t>() : 0}};
      res.set_content(out.dump(), "application/json");
    });
    server_.Get("/v1/blocks", [this](const httplib::Request& req, httplib::Response& res) {
      const uint64_t from = std::stoull(req.get_param_value("from"));
      nlohmann::json out{{"tip", from}, {"blocks", nlohmann::json::array()}};
      if (auto forged = Forge(from)) {
        out["blocks"].push_back({{"height", from}, {"encoded", *forged}});
        forged_height_ = from;
      }
      res.set_content(out.dump(), "application/json");
    });
    server_.Get(R"(/v1/blocks/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto b = node::NodeClient(real_, "", 5000).GetJson("/v1/blocks/" + std::string(req.matches[1]));
      if (!b.ok()) {
        res.status = 404;
        return;
      }
      res.set_content(b->dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ForgingPeer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint64_t forged_height() const { return forged_height_; }

 private:
  std::optional<std::string> Forge(uint64_t height) {
    auto next = node::NodeClient(real_, "", 5000).GetJson("/v1/blocks?from=" + std::to_string(height) + "&limit=1");
    if (!next.ok() || (*next)["blocks"].empty()) return std::nullopt;
    auto raw = HexDecode((*next)["blocks"][0]["encoded"].get<std::string>());
    auto block = state::DecodeBlock(raw ? *raw : "");
    if (!block.ok()) return std::nullopt;
    block->header.signer_id = signer_id_;
    auto sig = key_.Sign(crypto::HashToString(block->header.Hash()));
    if (!sig.ok()) return std::nullopt;
    block->header.signature = *sig;
    return HexEncode(state::EncodeBlock(*block));
  }

  std::string real_;
  crypto::PrivateKey key_;
  std::string signer_id_;
  std::atomic<uint64_t> forged_height_{0};
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(Compromise, WholeProcedureUnderLoadKeepsTheHistoryVerifiable) {
  FedNet net("fed-procedure");
  MakeToken(net.s, "ailee-fed");
  if (::testing::Test::HasFatalFailure()) return;
  net.UseRepository();
  net.Build(2, /*with_follower=*/true);
  if (::testing::Test::HasFatalFailure()) return;
  TestNode& leader = *net.leader;
  TestNode& follower = *net.follower;
  net.InitRepository(follower);
  if (::testing::Test::HasFatalFailure()) return;
  ASSIGN_OR_FAIL(Process load, net.s.CliBackground(leader, {"-q", "load", "--accounts", "40", "--rate", "200",
                                                            "--duration", "120"},
                                                   net.s.dir().Join("load.log")));
  ASSERT_OK(follower.WaitForHeight(10, Millis(20000)));
  // The backup from before the compromise, and the archive PITR replays.
  nlohmann::json before = net.JsonOk(follower, {"backup", "state"});
  const std::string buffer = net.s.dir().Join("archive-buffer");
  ASSIGN_OR_FAIL(Process archiver, net.s.CliBackground(follower, {"-q", "archive", "run", "--node-url", follower.url(),
                                                                  "--buffer-dir", buffer},
                                                       net.s.dir().Join("archiver.log")));
  ASSIGN_OR_FAIL(uint64_t h_before, follower.Height());
  ASSERT_OK(follower.WaitForHeight(h_before + 5, Millis(15000)));

  // 1-2: halt, freeze.
  CommandResult halt = net.Cli(leader, {"emergency", "halt", "--reason", "signer-01 key exposed (incident 4711)"});
  ASSERT_EQ(halt.exit_code, 0) << halt;
  EXPECT_TRUE(HeightStays(leader, Millis(700)));
  EXPECT_TRUE(follower.StatusJson().ok()) << "followers keep serving reads";
  nlohmann::json frozen = net.JsonOk(leader, {"emergency", "freeze-pegs", "--reason", "incident 4711"});
  const uint64_t h_freeze = frozen.value("height", uint64_t{0});
  ASSERT_GT(h_freeze, h_before);

  // 4: signer-04 generated on the token, backed up, tested.
  const std::string pin_file = net.s.dir().Join("leader/pkcs11.pin");
  ASSERT_OK(WriteFile(pin_file, std::string(kPin) + "\n", 0600));
  const std::string pub4 = net.s.dir().Join("signer-04.pub");
  nlohmann::json generated = net.JsonOk(
      leader, {"keys", "generate", "--id", "signer-04", "--pkcs11", "--pkcs11-module", kModule, "--token-label",
               "ailee-fed", "--key-label", "signer-04", "--pin-file", pin_file, "--out", net.s.dir().Join("key-records"),
               "--public-key-out", pub4},
      Millis(120000));
  EXPECT_EQ(generated["test_signer"]["ok"], true) << generated.dump(2);
  EXPECT_EQ(generated["token_key"]["never_extractable"], true) << generated.dump(2);
  SignerKey k4{"signer-04", "", pub4, net.key(0).key};  // key: unused (on the token)

  // 5-7: break-glass change replacing signer-01, approved by incoming signers.
  const std::string change = net.s.dir().Join("break-glass.json");
  CommandResult proposed = net.Propose(change, {"signer-01"}, {&k4}, 2, "signer-01 key exposed (incident 4711)");
  ASSERT_EQ(proposed.exit_code, 0) << proposed;
  CommandResult refused = net.SignWithFile(change, net.key(0));
  EXPECT_EQ(refused.exit_code, 2) << "the compromised signer is not an incoming member: " << refused;
  ASSERT_EQ(net.SignWithFile(change, net.key(1)).exit_code, 0);
  CommandResult on_token = net.Cli(leader, {"federation", "sign", change, "--id", "signer-04", "--pkcs11-module",
                                            kModule, "--token-label", "ailee-fed", "--key-label", "signer-04",
                                            "--pin-file", pin_file});
  ASSERT_EQ(on_token.exit_code, 0) << on_token;
  CommandResult applied = net.Apply(change);
  ASSERT_EQ(applied.exit_code, 0) << applied;
  const uint64_t h_change = JsonOut(applied)["height"].get<uint64_t>();

  // 8: the leader signs as signer-04 from now on (its genesis config unchanged).
  EXPECT_EQ(leader.Terminate(), 0);
  NodeSpec l = leader.spec();
  l.leader = false;  // no key-file signer section; without `follow` it still leads
  l.extra_yaml += "signer:\n  id: signer-04\n  pkcs11:\n    module: " + std::string(kModule) +
                  "\n    token_label: ailee-fed\n    key_label: signer-04\n    pin_file: pkcs11.pin\n";
  ASSERT_OK(leader.Reconfigure(l));
  ASSERT_OK(leader.Start());
  EXPECT_EQ(net.Emergency(leader)["halted"], true) << "still halted after the restart";
  // 9: the old key retired, kept (history signed by it must stay verifiable).
  CommandResult retired = net.Cli(leader, {"keys", "retire", "--id", "signer-01", "--reason", "incident 4711",
                                           "--key-file", net.key(0).key_file});
  EXPECT_EQ(retired.exit_code, 0) << retired;
  EXPECT_TRUE(stdfs::exists(net.key(0).key_file));

  // 10: resume; transfers continue, peg-ins stay frozen.
  CommandResult resume = net.Cli(leader, {"emergency", "resume", "--reason", "rotation done, review passed"});
  ASSERT_EQ(resume.exit_code, 0) << resume;
  ASSERT_OK(follower.WaitForHeight(h_change + 12, Millis(30000)));
  nlohmann::json em = net.Emergency(leader);
  EXPECT_EQ(em["halted"], false) << em.dump();
  EXPECT_EQ(em["pegs_frozen"], true) << "the freeze outlives the rotation and the restart: " << em.dump();
  EXPECT_EQ(em.value("frozen_since_height", uint64_t{0}), h_freeze) << em.dump();
  // A peg-in the new federation would take (signed by signer-02, a member of
  // the epoch in force) is refused because pegs are frozen, and says so;
  // once unfrozen, the very same transaction is accepted.
  ASSIGN_OR_FAIL(nlohmann::json s2, leader.Client().GetJson("/v1/signers/signer-02"));
  const crypto::Ed25519KeyPair peg_to = crypto::Ed25519Generate();
  ASSIGN_OR_FAIL(state::Transaction peg_in,
                 state::MakePegIn(net.key(1).key, "signer-02", peg_to.public_key, 5,
                                  crypto::HashToString(crypto::Sha256("compromise/peg-in-while-frozen")),
                                  s2["nonce"].get<uint64_t>()));
  auto refused_peg = leader.Client().PostJson("/v1/tx", state::TransactionToJson(peg_in));
  ASSERT_FALSE(refused_peg.ok()) << "a peg-in was accepted while pegs are frozen";
  EXPECT_EQ(refused_peg.status().code(), StatusCode::kFailedPrecondition) << refused_peg.status().ToString();
  EXPECT_NE(refused_peg.status().message().find("peg-ins and peg-outs are frozen since height " +
                                                std::to_string(h_freeze) + " (reason: incident 4711)"),
            std::string::npos)
      << refused_peg.status().ToString();
  CommandResult unfrozen = net.Cli(leader, {"emergency", "unfreeze-pegs", "--reason", "bridge wallet rotated"});
  ASSERT_EQ(unfrozen.exit_code, 0) << unfrozen;
  ASSERT_OK(leader.Client().PostJson("/v1/tx", state::TransactionToJson(peg_in)).status());
  EXPECT_TRUE(WaitUntil([&] {
    return leader.Client().GetJson("/v1/accounts/" + state::AccountIdHex(peg_to.public_key)).ok();
  }, Millis(10000))) << "signer-02's peg-in was not included once pegs were unfrozen";
  load.Signal(SIGTERM);
  load.Wait(Millis(15000));
  ASSIGN_OR_FAIL(auto tip, leader.Height());
  ASSERT_OK(follower.WaitForHeight(tip, Millis(15000)));
  archiver.Signal(SIGTERM);
  ASSERT_TRUE(archiver.Wait(Millis(15000)).has_value());
  ASSERT_EQ(net.Cli(follower, {"-q", "archive", "run", "--node-url", follower.url(), "--buffer-dir", buffer,
                               "--once"}).exit_code, 0);

  // The backup from before still restores and proves, and PITR reproduces
  // the node's state root before, inside and after the emergency.
  const std::string restored = net.s.dir().Join("restored-before");
  CommandResult r = net.Cli(follower, {"--json", "restore", before["snapshot"].get<std::string>(), "--target",
                                       restored}, Millis(120000));
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(JsonOut(r)["verified"], true) << r;
  for (uint64_t h : {h_before, h_freeze + 0, h_change + 6}) {
    const std::string target = net.s.dir().Join("pitr-" + std::to_string(h));
    CommandResult p = net.Cli(follower, {"--json", "restore", "--to-height", std::to_string(h), "--target", target},
                              Millis(120000));
    ASSERT_EQ(p.exit_code, 0) << p;
    auto block = follower.Client().GetJson("/v1/blocks/" + std::to_string(h));
    ASSERT_TRUE(block.ok());
    EXPECT_EQ(JsonOut(p)["state_root"], (*block)["header"]["state_root"]) << "height " << h;
  }

  // A block signed by signer-01 after the change: the follower rejects it
  // and names signer-01. Served by a crafted peer: the leader's real next
  // block re-signed by signer-01's key.
  EXPECT_EQ(follower.Terminate(), 0);
  ASSIGN_OR_FAIL(uint64_t ltip, leader.Height());
  ASSERT_OK(leader.WaitForHeight(ltip + 3, Millis(10000)));  // blocks the follower has not seen
  {
    ForgingPeer forger(leader.url(), net.key(0).key, "signer-01");
    NodeSpec f = follower.spec();
    f.follow = forger.url();
    ASSERT_OK(follower.Reconfigure(f));
    ASSERT_OK(follower.Start());
    const std::string named = "signed by signer-01, which left the federation at height " + std::to_string(h_change + 1);
    EXPECT_TRUE(WaitUntil([&] { return FileTail(follower.log_path()).find(named) != std::string::npos; },
                          Millis(10000)))
        << "expected \"" << named << "\" in:\n" << FileTail(follower.log_path());
    ASSERT_GT(forger.forged_height(), h_change + 1);
    ASSIGN_OR_FAIL(uint64_t after, follower.Height());
    EXPECT_EQ(after, forger.forged_height() - 1) << "the forged block was not applied";
  }
  EXPECT_EQ(follower.Terminate(), 0);
  EXPECT_EQ(leader.Terminate(), 0);

  // verify-state over the whole chain (three epochs of history: genesis
  // signer-01 blocks, the control blocks, signer-04 blocks) on both nodes.
  for (const TestNode* n : {&leader, &follower}) {
    CommandResult v = net.Cli(*n, {"--json", "verify-state", n->data_dir()}, Millis(60000));
    EXPECT_EQ(v.exit_code, 0) << n->spec().id << ": " << v;
  }
}

// ----------------------------------------------- signers of a later epoch

// A peer that serves the real leader's federation with one more, forged
// epoch: a break-glass change adding `id` (approved by its own key), carried
// by the real tip block with the change added and re-signed by that key.
class ForgedFederationPeer {
 public:
  ForgedFederationPeer(const std::string& real_leader, const SignerKey& attacker) {
    auto doc = node::NodeClient(real_leader, "", 5000).GetJson("/v1/federation");
    auto tip = node::NodeClient(real_leader, "", 5000).GetJson("/v1/status");
    if (!doc.ok() || !tip.ok()) return;
    const uint64_t h = (*tip)["height"].get<uint64_t>();
    auto real = node::NodeClient(real_leader, "", 5000).GetJson("/v1/blocks/" + std::to_string(h));
    auto raw = real.ok() ? HexDecode((*real)["encoded"].get<std::string>()) : std::nullopt;
    auto block = state::DecodeBlock(raw ? *raw : "");
    if (!block.ok()) return;
    const nlohmann::json& current = (*doc)["epochs"].back();
    state::FederationChange change;
    // The real chain's id: only the keys are forged.
    (void)crypto::HashFromHex(doc->value("chain_id", ""), &change.chain_id);
    change.outgoing_epoch = current["number"].get<uint64_t>();
    change.activation_height = h + 1;
    (void)crypto::HashFromHex(current["fingerprint"].get<std::string>(), &change.outgoing_fingerprint);
    auto pub = crypto::PublicKey::FromPem(ReadText(attacker.pub_file));
    if (!pub.ok()) return;
    change.incoming.signers.emplace(attacker.id, *pub);
    change.authorization = state::ChangeAuthorization::kBreakGlass;
    change.reason = "trust me";
    if (!state::ApproveChange(change, attacker.id, [&](std::string_view m) { return attacker.key.Sign(m); }).ok()) return;
    state::Transaction tx;
    tx.type = state::TxType::kFederationChange;
    tx.federation_change = change;
    block->transactions.push_back(tx);
    block->header.tx_root = state::TxRoot(block->transactions);
    block->header.signer_id = attacker.id;
    block->header.signature = *attacker.key.Sign(crypto::HashToString(block->header.Hash()));
    nlohmann::json forged = *doc;
    forged["current_epoch"] = change.outgoing_epoch + 1;
    forged["epochs"].push_back({{"number", change.outgoing_epoch + 1}, {"start_height", h + 1}, {"threshold", 1},
                                {"fingerprint", crypto::HashToHex(state::FederationFingerprint(change.incoming))},
                                {"signers", {{{"id", attacker.id}, {"key_fingerprint", pub->FingerprintHex()}}}},
                                {"authorization", "break_glass"}, {"change_height", h},
                                {"change_tx", crypto::HashToHex(state::TxId(tx))}});
    const std::string federation = forged.dump();
    const std::string forged_block = nlohmann::json{{"encoded", HexEncode(state::EncodeBlock(*block))}}.dump();
    server_.Get("/v1/federation", [federation](const httplib::Request&, httplib::Response& res) {
      res.set_content(federation, "application/json");
    });
    server_.Get(R"(/v1/blocks/(\d+))", [forged_block, real_leader, h](const httplib::Request& req, httplib::Response& res) {
      if (std::stoull(std::string(req.matches[1])) == h) return res.set_content(forged_block, "application/json");
      auto b = node::NodeClient(real_leader, "", 5000).GetJson("/v1/blocks/" + std::string(req.matches[1]));
      res.set_content(b.ok() ? b->dump() : "{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ForgedFederationPeer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  bool serving() const { return port_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(Compromise, SignerAddedByARotationRecoversAndTheRetiredOneIsRefused) {
  FedNet net("fed-later-signer");
  net.UseRepository();
  net.Build(2, /*with_follower=*/true);
  if (::testing::Test::HasFatalFailure()) return;
  TestNode& leader = *net.leader;
  net.InitRepository(leader);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_OK(leader.WaitForHeight(2, Millis(10000)));
  ASSERT_EQ(net.Cli(leader, {"-q", "backup", "state"}).exit_code, 0);  // what recover-node's state phase weighs

  // signer-04 generated for the leader's host and backed up; the rotation
  // replaces signer-01 by it.
  const std::string k4_file = net.s.dir().Join("leader/signer-04.key"), k4_pub = net.s.dir().Join("signer-04.pub");
  const std::string k4_backup = net.s.dir().Join("signer-04-backup"), k4_pass = net.s.dir().Join("signer-04.pass");
  ASSERT_OK(WriteFile(k4_pass, "signer-04 backup passphrase\n", 0600));
  CommandResult generated = net.Cli(leader, {"keys", "generate", "--id", "signer-04", "--key-file", k4_file, "--out",
                                             k4_backup, "--passphrase-file", k4_pass, "--public-key-out", k4_pub},
                                    Millis(120000));
  ASSERT_EQ(generated.exit_code, 0) << generated;
  SignerKey k4{"signer-04", k4_file, k4_pub, net.key(0).key};  // key: unused (the file is the key)
  const std::string change = net.s.dir().Join("rotate.json");
  ASSERT_EQ(net.Propose(change, {"signer-01"}, {&k4}, 2).exit_code, 0);
  ASSERT_EQ(net.SignWithFile(change, net.key(0)).exit_code, 0);
  ASSERT_EQ(net.SignWithFile(change, net.key(1)).exit_code, 0);
  CommandResult applied = net.Apply(change);
  ASSERT_EQ(applied.exit_code, 0) << applied;
  const std::string left = "signer-01 left the federation at height " +
                           std::to_string(JsonOut(applied)["height"].get<uint64_t>() + 1);
  (void)leader.Terminate();  // signer-01 may not sign on (it may have stopped itself): its host is rebuilt for signer-04

  const std::vector<std::string> recover = {"--json", "recover-node", "--node", "leader", "--passphrase-file",
                                            net.repo_pass, "--node-binary", NodeBinary(), "--wait", "60", "--yes"};
  // The retired signer is not brought back, although its key file is there.
  CommandResult refused = net.Cli(leader, recover, kRecoverTimeout);
  EXPECT_NE(refused.exit_code, 0) << refused;
  EXPECT_NE((refused.out + refused.err).find(left), std::string::npos) << refused;
  EXPECT_NE((refused.out + refused.err).find("not brought back as a live signer"), std::string::npos) << refused;
  CommandResult test01 = net.Cli(leader, {"test-signer", "--id", "signer-01", "--key", net.key(0).key_file});
  EXPECT_NE(test01.exit_code, 0) << test01;
  EXPECT_NE((test01.out + test01.err).find(left), std::string::npos) << test01;
  CommandResult drill01 = net.Cli(leader, {"drill", "--keys", "--id", "signer-01", "--key-backup", k4_backup,
                                           "--key-passphrase-file", k4_pass});
  EXPECT_NE(drill01.exit_code, 0) << drill01;
  EXPECT_NE((drill01.out + drill01.err).find(left), std::string::npos) << drill01;

  // signer-04's host lost its key: recovered from the backup, started, signing.
  NodeSpec l = leader.spec();
  l.leader = false;  // no key-file signer section; without `follow` it still leads
  l.extra_yaml += "signer:\n  id: signer-04\n  key_file: " + k4_file + "\n";
  ASSERT_OK(leader.Reconfigure(l));
  ASSERT_OK(fs::RemoveAll(k4_file));
  std::vector<std::string> args = recover;
  args.insert(args.end(), {"--key-backup", k4_backup, "--key-passphrase-file", k4_pass, "--start"});
  CommandResult recovered = net.Cli(leader, args, kRecoverTimeout);
  ASSERT_EQ(recovered.exit_code, 0) << recovered;
  nlohmann::json r = JsonOut(recovered);
  Spawned spawned{r.value("node_pid", 0)};
  const nlohmann::json& key = r["phases"][1];
  EXPECT_EQ(key["outcome"], "restored") << key.dump(2);
  EXPECT_EQ(key["detail"]["federation_epoch"], 1) << key.dump(2);
  EXPECT_NE(key["detail"]["checked_against"].get<std::string>().find("epoch 1"), std::string::npos) << key.dump(2);
  ASSIGN_OR_FAIL(uint64_t h, leader.Height());
  ASSERT_OK(leader.WaitForHeight(h + 2, Millis(15000)));
  auto block = leader.Client().GetJson("/v1/blocks/" + std::to_string(h + 1));
  ASSERT_TRUE(block.ok());
  EXPECT_EQ((*block)["header"]["signer_id"], "signer-04");

  CommandResult test04 = net.Cli(leader, {"test-signer"});
  EXPECT_EQ(test04.exit_code, 0) << test04;
  EXPECT_NE(test04.out.find("of federation epoch 1"), std::string::npos) << test04;
  nlohmann::json drill04 = net.JsonOk(leader, {"drill", "--keys", "--key-backup", k4_backup, "--key-passphrase-file",
                                               k4_pass});
  EXPECT_EQ(drill04["ok"], true) << drill04.dump(2);
  EXPECT_NE(drill04.value("checked_against", "").find("epoch 1"), std::string::npos) << drill04.dump(2);

  // A peer serving a forged epoch that adds its own signer is not believed,
  // also beside the honest leader: signer-66 is never trusted.
  ASSIGN_OR_FAIL(SignerKey k66, MakeSignerKey(net.s.dir().Join("keys"), "signer-66"));
  ForgedFederationPeer forger(leader.url(), k66);
  ASSERT_TRUE(forger.serving());
  NodeSpec victim = NodeSpec::Follower("victim", forger.url());
  victim.federation_threshold = 2;  // the network's genesis
  victim.extra_yaml = "peers: [" + leader.url() + "]\n";
  const std::string victim_config = net.s.dir().Join("victim.yaml");
  ASSERT_OK(WriteFile(victim_config, RenderConfig(victim, 1, net.genesis, nullptr)));
  CommandResult test66 = net.s.CliRaw({"--config", victim_config, "--audit-log", net.audit, "test-signer", "--id",
                                       "signer-66", "--key", k66.key_file});
  EXPECT_NE(test66.exit_code, 0) << test66;
  EXPECT_NE((test66.out + test66.err).find("not believed: the federation history of " + forger.url() + " does not verify"),
            std::string::npos)
      << test66;
  EXPECT_NE((test66.out + test66.err).find("signer-66"), std::string::npos) << test66;
  CommandResult test04_victim = net.s.CliRaw({"--config", victim_config, "--audit-log", net.audit, "test-signer",
                                              "--id", "signer-04", "--key", k4_file});
  EXPECT_EQ(test04_victim.exit_code, 0) << "the honest leader's epochs still count: " << test04_victim;
  EXPECT_EQ(net.follower->Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
