// The emergency switches (issue 14, docs/emergency.md) on one live leader
// and follower: `ailee-cli emergency halt` stops block production (reads
// work, POST /v1/tx says why) and survives kill -9; `freeze-pegs` refuses
// peg-ins and peg-outs while transfers continue, and the follower agrees;
// bad requests change nothing; every command is in the audit log with who
// and why; status, health-check, sync-status and /metrics show the state.
// The tests share one network and run in order.
#include <httplib.h>

#include <fstream>
#include <regex>

#include "harness_gtest.h"
#include "state/transaction.h"

namespace ailee::it {
namespace {

using nlohmann::json;

struct HttpReply {
  int status = 0;
  json body;
};

HttpReply PostRaw(const TestNode& node, const std::string& path, const json& body, const std::string& bearer) {
  httplib::Client c("127.0.0.1", node.port());
  c.set_connection_timeout(5);
  c.set_read_timeout(40);
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  auto res = c.Post(path, headers, body.dump(), "application/json");
  if (!res) return {};
  return {res->status, json::parse(res->body, nullptr, false)};
}

std::string AdminToken(const TestNode& node) {
  std::ifstream in(node.admin_token_path());
  std::string token;
  std::getline(in, token);
  return token;
}

class EmergencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario("emergency");
    leader_ = new TestNode(scenario_->AddNode(NodeSpec::Leader("leader", 100, 10)));
    ASSERT_OK(leader_->Start());
    follower_ = new TestNode(scenario_->AddNode(NodeSpec::Follower("follower", leader_->url(), 100, 10)));
    ASSERT_OK(follower_->Start());
  }
  static void TearDownTestSuite() {
    delete follower_;
    delete leader_;
    delete scenario_;
  }

  static CommandResult Cli(const std::vector<std::string>& args, const TestNode* node = nullptr) {
    return scenario_->Cli(node ? *node : *leader_, args);
  }
  static json Emergency(const TestNode& node) {
    auto st = node.StatusJson();
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? (*st)["emergency"] : json::object();
  }
  // Heights advance by at least `blocks` within a few seconds (blocks every 100 ms).
  static bool Produces(const TestNode& node, uint64_t blocks) {
    auto start = node.Height();
    return start.ok() && node.WaitForHeight(*start + blocks, Millis(5000)).ok();
  }
  static Result<state::Transaction> PegIn(const crypto::Ed25519KeyPair& to, uint64_t amount) {
    ASSIGN_OR_RETURN(auto info, leader_->Client().GetJson("/v1/signers/" + scenario_->signer().id));
    std::string btc = crypto::HashToString(crypto::Sha256("emergency-test/" + std::to_string(++btc_counter_)));
    return state::MakePegIn(scenario_->signer().key, scenario_->signer().id, to.public_key, amount, btc,
                            info["nonce"].get<uint64_t>());
  }
  static Result<uint64_t> Nonce(const crypto::Ed25519KeyPair& account) {
    ASSIGN_OR_RETURN(auto a, leader_->Client().GetJson("/v1/accounts/" + state::AccountIdHex(account.public_key)));
    return a["nonce"].get<uint64_t>();
  }
  // Every audit record of `operation` (the CLI's and the node's share the log).
  static std::vector<json> AuditRecords(const std::string& operation) {
    std::ifstream in(leader_->dir() + "/audit.log");
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("operation", "") == operation) out.push_back(j);
    }
    return out;
  }

  static Scenario* scenario_;
  static TestNode* leader_;
  static TestNode* follower_;
  static uint64_t btc_counter_;
};
Scenario* EmergencyTest::scenario_ = nullptr;
TestNode* EmergencyTest::leader_ = nullptr;
TestNode* EmergencyTest::follower_ = nullptr;
uint64_t EmergencyTest::btc_counter_ = 0;

TEST_F(EmergencyTest, BadRequestsAreRefusedAndChangeNothing) {
  // A halt without a reason: usage error, audited, nothing sent.
  CommandResult no_reason = Cli({"emergency", "halt", "--operator", "mallory"});
  EXPECT_EQ(no_reason.exit_code, 2) << no_reason;
  EXPECT_NE(no_reason.err.find("--reason is required"), std::string::npos) << no_reason;
  const auto refused = AuditRecords("emergency.halt");
  ASSERT_FALSE(refused.empty()) << "the refused halt is not in the audit log";
  EXPECT_EQ(refused.back()["args"]["operator"], "mallory");
  EXPECT_NE(refused.back().value("result", ""), "ok");

  // The node's own checks, for callers other than ailee-cli.
  const std::string token = AdminToken(*leader_);
  HttpReply blank = PostRaw(*leader_, "/v1/admin/emergency", {{"action", "halt"}, {"reason", "  "}, {"operator", "x"}}, token);
  EXPECT_EQ(blank.status, 400) << blank.body.dump();
  EXPECT_NE(blank.body.value("error", "").find("reason is required: say why, it is audited"), std::string::npos);
  for (const std::string& bearer : {std::string(), std::string(64, 'f')}) {
    HttpReply r = PostRaw(*leader_, "/v1/admin/emergency", {{"action", "halt"}, {"reason", "r"}, {"operator", "x"}}, bearer);
    EXPECT_EQ(r.status, 403) << "token '" << bearer << "': " << r.body.dump();
  }
  HttpReply bad_action = PostRaw(*leader_, "/v1/admin/emergency", {{"action", "explode"}, {"reason", "r"}, {"operator", "x"}}, token);
  EXPECT_EQ(bad_action.status, 400) << bad_action.body.dump();

  // A control record posted as a transaction: its authority is the admin token.
  HttpReply smuggled = PostRaw(*leader_, "/v1/tx",
                               {{"type", "peg_freeze"}, {"frozen", true}, {"reason", "r"}, {"operator", "x"}}, "");
  EXPECT_EQ(smuggled.status, 403) << smuggled.body.dump();
  EXPECT_NE(smuggled.body.value("error", "").find("admin interface"), std::string::npos) << smuggled.body.dump();

  // resume with a wrong admin token: the leader's config copied elsewhere,
  // so its data dir (and admin.token) is another's.
  std::ifstream leader_config(leader_->config_path());
  const std::string config_text((std::istreambuf_iterator<char>(leader_config)), std::istreambuf_iterator<char>());
  ASSERT_OK(WriteFile(scenario_->dir().Join("intruder/config.yaml"), config_text));
  ASSERT_OK(WriteFile(scenario_->dir().Join("intruder/data/admin.token"), std::string(64, 'a') + "\n", 0600));
  CommandResult wrong_token = scenario_->CliRaw({"--config", scenario_->dir().Join("intruder/config.yaml"),
                                                 "emergency", "resume", "--reason", "let me in"});
  EXPECT_EQ(wrong_token.exit_code, 5) << wrong_token;
  EXPECT_NE(wrong_token.err.find("admin token"), std::string::npos) << wrong_token;

  // A freeze sent to the follower: refused, naming the leader.
  CommandResult on_follower = Cli({"emergency", "freeze-pegs", "--reason", "wrong node"}, follower_);
  EXPECT_EQ(on_follower.exit_code, 1) << on_follower;
  EXPECT_NE(on_follower.err.find(leader_->url()), std::string::npos) << on_follower;

  // Resume when not halted, unfreeze when not frozen: refused.
  CommandResult resume = Cli({"emergency", "resume", "--reason", "nothing to resume"});
  EXPECT_EQ(resume.exit_code, 1) << resume;
  EXPECT_NE(resume.err.find("not halted"), std::string::npos) << resume;

  for (const TestNode* n : {leader_, follower_}) {
    json e = Emergency(*n);
    EXPECT_EQ(e["halted"], false) << e.dump();
    EXPECT_EQ(e["pegs_frozen"], false) << e.dump();
  }
  EXPECT_TRUE(Produces(*leader_, 3)) << "the leader stopped producing";
  CommandResult health = Cli({"health-check"});
  EXPECT_EQ(health.exit_code, 0) << health;
}

TEST_F(EmergencyTest, HaltStopsBlocksSurvivesKill9AndResumes) {
  ASSIGN_OR_FAIL(auto alice, scenario_->FundAccount(*leader_, 1000));
  ASSIGN_OR_FAIL(auto bob, scenario_->FundAccount(*leader_, 10));

  CommandResult halt = Cli({"--json", "emergency", "halt", "--reason", "signer-01 key compromised", "--operator", "alice"});
  ASSERT_EQ(halt.exit_code, 0) << halt;
  json doc = JsonOut(halt);
  EXPECT_EQ(doc["emergency"]["halted"], true) << doc.dump();
  EXPECT_EQ(doc["emergency"]["halt_reason"], "signer-01 key compromised");
  EXPECT_EQ(doc["emergency"]["halt_operator"], "alice");

  // No blocks; reads work; a transaction is refused with the reason.
  // The halt waited for any block being built: the tip it answers is final.
  ASSIGN_OR_FAIL(uint64_t halted_at, leader_->Height());
  EXPECT_EQ(halted_at, doc["height"].get<uint64_t>()) << doc.dump();
  usleep(1000000);  // ten block intervals
  ASSIGN_OR_FAIL(uint64_t later, leader_->Height());
  EXPECT_EQ(later, halted_at) << "a halted leader produced blocks";
  EXPECT_TRUE(leader_->Client().GetJson("/v1/accounts/" + state::AccountIdHex(alice.public_key)).ok());
  EXPECT_TRUE(leader_->Client().GetJson("/v1/blocks/" + std::to_string(halted_at)).ok());
  ASSIGN_OR_FAIL(uint64_t nonce, Nonce(alice));
  auto tx = leader_->Client().PostJson("/v1/tx", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 1, nonce)));
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kUnavailable) << tx.status().ToString();
  EXPECT_NE(tx.status().message().find("the federation is halted since"), std::string::npos) << tx.status().ToString();
  EXPECT_NE(tx.status().message().find("signer-01 key compromised"), std::string::npos) << tx.status().ToString();

  // Visible everywhere an operator or a monitor looks.
  CommandResult health = Cli({"health-check"});
  EXPECT_EQ(health.exit_code, 1) << health;
  EXPECT_NE(health.out.find("WARNING: halted since"), std::string::npos) << health;
  EXPECT_NE(health.err.find("emergency state"), std::string::npos) << health;
  CommandResult sync = Cli({"sync-status"});
  EXPECT_EQ(sync.exit_code, 0) << sync;
  EXPECT_NE(sync.out.find("halted since"), std::string::npos) << sync;
  ASSIGN_OR_FAIL(std::string metrics, leader_->Client().GetText("/metrics"));
  EXPECT_NE(metrics.find("\nailee_node_halted 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nailee_node_pegs_frozen 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nailee_node_federation_epoch 0\n"), std::string::npos) << metrics;
  ASSERT_OK(WriteFile(scenario_->dir().Join("node.prom"), metrics));
  CommandResult promtool = it::Run({"/bin/sh", "-c", "promtool check metrics < \"$0\"", scenario_->dir().Join("node.prom")},
                               Millis(30000));
  EXPECT_EQ(promtool.exit_code, 0) << promtool;
  CommandResult again = Cli({"emergency", "halt", "--reason", "twice"});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_NE(again.err.find("already halted"), std::string::npos) << again;

  // kill -9, start: still halted (durable), still no blocks.
  EXPECT_EQ(leader_->Kill(), 137);
  ASSERT_OK(leader_->Start());
  json e = Emergency(*leader_);
  EXPECT_EQ(e["halted"], true) << e.dump();
  EXPECT_EQ(e["halt_reason"], "signer-01 key compromised") << e.dump();
  usleep(1000000);
  ASSIGN_OR_FAIL(uint64_t after_restart, leader_->Height());
  EXPECT_EQ(after_restart, halted_at) << "the restarted leader forgot the halt";

  CommandResult status = Cli({"emergency", "status"});
  EXPECT_EQ(status.exit_code, 0) << status;
  EXPECT_NE(status.out.find("halted since"), std::string::npos) << status;
  EXPECT_NE(status.out.find("by alice"), std::string::npos) << status;

  CommandResult resume = Cli({"emergency", "resume", "--reason", "new federation in force", "--operator", "bob"});
  ASSERT_EQ(resume.exit_code, 0) << resume;
  EXPECT_TRUE(Produces(*leader_, 3)) << "the resumed leader does not produce";
  ASSIGN_OR_FAIL(nonce, Nonce(alice));
  EXPECT_OK(leader_->Client().PostJson("/v1/tx", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 1, nonce))));
  CommandResult healthy = Cli({"health-check"});
  EXPECT_EQ(healthy.exit_code, 0) << healthy;
}

TEST_F(EmergencyTest, FrozenPegsAreRefusedTransfersContinueAndTheFollowerAgrees) {
  ASSIGN_OR_FAIL(auto alice, scenario_->FundAccount(*leader_, 1000));
  ASSIGN_OR_FAIL(auto bob, scenario_->FundAccount(*leader_, 10));

  CommandResult freeze = Cli({"--json", "emergency", "freeze-pegs", "--reason", "bridge wallet exposed", "--operator", "carol"});
  ASSERT_EQ(freeze.exit_code, 0) << freeze;
  json doc = JsonOut(freeze);
  const uint64_t frozen_at = doc["height"].get<uint64_t>();
  EXPECT_GT(frozen_at, 0u);
  EXPECT_EQ(doc["emergency"]["pegs_frozen"], true) << doc.dump();
  EXPECT_EQ(doc["emergency"]["frozen_since_height"], frozen_at) << doc.dump();

  // Peg-in and peg-out refused with the reason; a transfer goes through.
  ASSIGN_OR_FAIL(auto peg_in, PegIn(bob, 5));
  auto in = leader_->Client().PostJson("/v1/tx", state::TransactionToJson(peg_in));
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kFailedPrecondition) << in.status().ToString();
  const std::string frozen_text = "peg-ins and peg-outs are frozen since height " + std::to_string(frozen_at);
  EXPECT_NE(in.status().message().find(frozen_text), std::string::npos) << in.status().ToString();
  EXPECT_NE(in.status().message().find("bridge wallet exposed"), std::string::npos) << in.status().ToString();
  ASSIGN_OR_FAIL(uint64_t nonce, Nonce(alice));
  auto out = leader_->Client().PostJson("/v1/tx", state::TransactionToJson(state::MakePegOut(alice, "bc1qexample", 5, nonce)));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find(frozen_text), std::string::npos) << out.status().ToString();
  auto transfer = leader_->Client().PostJson(
      "/v1/tx", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 7, nonce)));
  ASSERT_OK(transfer);
  EXPECT_TRUE(WaitUntil([&] {
    auto n = Nonce(alice);
    return n.ok() && *n == nonce + 1;
  }, Millis(5000))) << "the transfer was not included while pegs are frozen";

  // The follower: the same state root at the same height, frozen too, and
  // its own POST /v1/tx refuses pegs with the same words.
  ASSIGN_OR_FAIL(uint64_t tip, leader_->Height());
  ASSERT_OK(follower_->WaitForHeight(tip, Millis(10000)));
  ASSIGN_OR_FAIL(auto lb, leader_->Client().GetJson("/v1/blocks/" + std::to_string(tip)));
  ASSIGN_OR_FAIL(auto fb, follower_->Client().GetJson("/v1/blocks/" + std::to_string(tip)));
  EXPECT_EQ(lb["header"]["state_root"], fb["header"]["state_root"]);
  json fe = Emergency(*follower_);
  EXPECT_EQ(fe["pegs_frozen"], true) << fe.dump();
  EXPECT_EQ(fe["frozen_since_height"], frozen_at) << fe.dump();
  auto follower_peg = follower_->Client().PostJson("/v1/tx", state::TransactionToJson(peg_in));
  ASSERT_FALSE(follower_peg.ok());
  EXPECT_NE(follower_peg.status().message().find(frozen_text), std::string::npos) << follower_peg.status().ToString();
  CommandResult fsync = Cli({"sync-status", "--url", follower_->url()});
  EXPECT_NE(fsync.out.find("peg-ins and peg-outs frozen since height " + std::to_string(frozen_at)), std::string::npos)
      << fsync;
  CommandResult fhealth = Cli({"health-check", "--url", follower_->url()});
  EXPECT_EQ(fhealth.exit_code, 1) << fhealth;
  ASSIGN_OR_FAIL(std::string fmetrics, follower_->Client().GetText("/metrics"));
  EXPECT_NE(fmetrics.find("\nailee_node_pegs_frozen 1\n"), std::string::npos) << fmetrics;

  CommandResult twice = Cli({"emergency", "freeze-pegs", "--reason", "again"});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  EXPECT_NE(twice.err.find("already frozen since height " + std::to_string(frozen_at)), std::string::npos) << twice;

  // Unfreeze while halted: exactly one block (the control record), then none.
  ASSERT_EQ(Cli({"emergency", "halt", "--reason", "unfreeze under halt"}).exit_code, 0);
  usleep(300000);
  ASSIGN_OR_FAIL(uint64_t halted_at, leader_->Height());
  CommandResult unfreeze = Cli({"--json", "emergency", "unfreeze-pegs", "--reason", "bridge wallet rotated"});
  ASSERT_EQ(unfreeze.exit_code, 0) << unfreeze;
  EXPECT_EQ(JsonOut(unfreeze)["height"], halted_at + 1) << unfreeze;
  usleep(500000);
  ASSIGN_OR_FAIL(uint64_t still, leader_->Height());
  EXPECT_EQ(still, halted_at + 1) << "a halted leader produced more than the control record's block";
  ASSIGN_OR_FAIL(auto control_block, leader_->Client().GetJson("/v1/blocks/" + std::to_string(halted_at + 1)));
  EXPECT_EQ(control_block["transactions"].size(), 1u) << control_block.dump();
  ASSERT_EQ(Cli({"emergency", "resume", "--reason", "done"}).exit_code, 0);

  // Pegs flow again.
  ASSIGN_OR_FAIL(auto peg_again, PegIn(bob, 5));
  EXPECT_OK(leader_->Client().PostJson("/v1/tx", state::TransactionToJson(peg_again)));
  EXPECT_EQ(Emergency(*leader_)["pegs_frozen"], false);
  ASSERT_OK(follower_->WaitForHeight(still + 2, Millis(10000)));
  EXPECT_EQ(Emergency(*follower_)["pegs_frozen"], false);
}

// Every emergency command, with who and why, from the CLI and from the node.
// Self-contained: ctest runs each test in its own process and network.
TEST_F(EmergencyTest, EveryEmergencyCommandIsAuditedWithOperatorAndReason) {
  ASSERT_EQ(Cli({"emergency", "halt", "--reason", "signer-01 key compromised", "--operator", "alice"}).exit_code, 0);
  ASSERT_EQ(Cli({"emergency", "freeze-pegs", "--reason", "bridge wallet exposed", "--operator", "carol"}).exit_code, 0);
  ASSERT_EQ(Cli({"emergency", "unfreeze-pegs", "--reason", "bridge wallet rotated"}).exit_code, 0);
  ASSERT_EQ(Cli({"emergency", "resume", "--reason", "new federation in force", "--operator", "bob"}).exit_code, 0);
  for (const std::string action : {"halt", "resume", "freeze-pegs", "unfreeze-pegs"}) {
    SCOPED_TRACE(action);
    auto cli = AuditRecords("emergency." + action);
    auto node = AuditRecords("node.emergency." + action);
    ASSERT_FALSE(cli.empty());
    ASSERT_FALSE(node.empty());
    for (const auto& r : cli) {
      EXPECT_FALSE(r["args"].value("operator", "").empty()) << r.dump();
      EXPECT_TRUE(r["args"].contains("reason")) << r.dump();
    }
    for (const auto& r : node) {
      EXPECT_FALSE(r["args"].value("operator", "").empty()) << r.dump();
      EXPECT_FALSE(r["args"].value("reason", "").empty()) << r.dump();
    }
  }
  auto halts = AuditRecords("node.emergency.halt");
  EXPECT_EQ(halts.front()["args"]["operator"], "alice");
  EXPECT_EQ(halts.front()["args"]["reason"], "signer-01 key compromised");
}

// validate-config reads the chain's federation (the node's API, else its
// data dir read-only) and reports the epoch in force; a stopped node's data
// dir is read without starting it.
TEST_F(EmergencyTest, ValidateConfigReportsTheChainsFederationEpoch) {
  CommandResult running = Cli({"--json", "validate-config"});
  ASSERT_EQ(running.exit_code, 0) << running;
  json doc = JsonOut(running);
  EXPECT_EQ(doc["chain"]["compared"], true) << doc.dump();
  EXPECT_EQ(doc["chain"]["epoch"], 0) << doc.dump();
  EXPECT_EQ(doc["chain"]["signers"], json::array({scenario_->signer().id})) << doc.dump();
  EXPECT_EQ(leader_->Terminate(), 0);
  CommandResult stopped = Cli({"validate-config"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped;
  EXPECT_NE(stopped.out.find("chain: federation epoch 0 since height 1"), std::string::npos) << stopped;
  EXPECT_NE(stopped.out.find("(read-only)"), std::string::npos) << stopped;
}

}  // namespace
}  // namespace ailee::it
