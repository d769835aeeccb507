// Issue 14 broken on purpose (session 9, B14): a hostile caller and an
// unlucky operator against the emergency switches of one live leader.
// The tests share one network and do not depend on each other's order
// (each leaves the leader producing, not halted).
#include <httplib.h>

#include <unistd.h>

#include <fstream>

#include "base/fs.h"
#include "harness_gtest.h"
#include "state/federation_change.h"

namespace ailee::it {
namespace {

using nlohmann::json;

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply PostText(const TestNode& node, const std::string& path, const std::string& body,
                   const std::string& bearer) {
  httplib::Client c("127.0.0.1", node.port());
  c.set_connection_timeout(5);
  c.set_read_timeout(20);
  c.set_write_timeout(20);
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  auto res = c.Post(path, headers, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

// A change of the genesis epoch (the scenario's one signer, threshold 1) of
// the chain `chain_id` that adds `added`: break-glass approved by `added`,
// or threshold approved by the genesis signer.
Result<state::FederationChange> AddSigner(const crypto::Hash256& chain_id, const SignerKey& genesis_signer,
                                          const SignerKey& added, state::ChangeAuthorization authorization,
                                          std::string reason) {
  state::Federation outgoing;
  outgoing.signers.emplace(genesis_signer.id, genesis_signer.key.public_key());
  outgoing.threshold = 1;
  state::FederationChange change;
  change.chain_id = chain_id;
  change.outgoing_epoch = 0;
  change.outgoing_fingerprint = state::FederationFingerprint(outgoing);
  change.incoming = outgoing;
  change.incoming.signers.emplace(added.id, added.key.public_key());
  change.authorization = authorization;
  change.reason = std::move(reason);
  change.operator_id = "curl-user";
  const bool break_glass = authorization == state::ChangeAuthorization::kBreakGlass;
  const SignerKey& approver = break_glass ? added : genesis_signer;
  RETURN_IF_ERROR(state::ApproveChange(change, approver.id, [&](std::string_view m) { return approver.key.Sign(m); }));
  return change;
}

class Break14 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario("break14");
    leader_ = new TestNode(scenario_->AddNode(NodeSpec::Leader("leader", 50, 10)));
    ASSERT_OK(leader_->Start());
  }
  static void TearDownTestSuite() {
    delete leader_;
    delete scenario_;
  }
  static CommandResult Cli(const std::vector<std::string>& args) { return scenario_->Cli(*leader_, args); }
  static bool Halted() {
    auto st = leader_->StatusJson();
    return st.ok() && (*st)["emergency"].value("halted", false);
  }
  // Heights advance by `blocks` within a few seconds (blocks every 50 ms).
  static bool Produces(uint64_t blocks) {
    auto start = leader_->Height();
    return start.ok() && leader_->WaitForHeight(*start + blocks, Millis(5000)).ok();
  }

  static Scenario* scenario_;
  static TestNode* leader_;
};
Scenario* Break14::scenario_ = nullptr;
TestNode* Break14::leader_ = nullptr;

// Broke: the node's HTTP server took bodies of any size, and it reads the
// whole body before a handler can check the admin token, so anyone who can
// reach the port made the node buffer gigabytes.
TEST_F(Break14, AnOversizedBodyIsRefusedBeforeItIsRead) {
  const std::string huge = "{\"action\":\"halt\",\"reason\":\"" + std::string(16u << 20, 'x') + "\",\"operator\":\"m\"}";
  for (const std::string& path : {std::string("/v1/admin/emergency"), std::string("/v1/tx"),
                                  std::string("/v1/admin/federation-change")}) {
    for (const std::string& bearer : {std::string(), leader_->AdminToken()}) {
      HttpReply r = PostText(*leader_, path, huge, bearer);
      EXPECT_EQ(r.status, 413) << path << (bearer.empty() ? " without" : " with") << " the token: " << r.body.substr(0, 300);
    }
  }
  EXPECT_FALSE(Halted());
  EXPECT_TRUE(Produces(2)) << "the leader stopped producing";
  // A request of ordinary size still gets the node's own answer.
  HttpReply blank = PostText(*leader_, "/v1/admin/emergency", R"({"action":"halt","reason":" ","operator":"m"})",
                             leader_->AdminToken());
  EXPECT_EQ(blank.status, 400) << blank.body;
}

// Broke: a --reason that is not UTF-8 (an operator's Latin-1 terminal typing
// "Schlüssel") made ailee-cli abort in the JSON encoder (SIGABRT, exit 134,
// a core dump, no answer) instead of saying what is wrong.
TEST_F(Break14, AReasonThatIsNotUtf8IsRefusedNotACrash) {
  const std::string latin1 = "Schl\xfc" "ssel von signer-01 kompromittiert";
  for (const std::string action : {"halt", "freeze-pegs"}) {
    CommandResult r = Cli({"emergency", action, "--reason", latin1, "--operator", "alice"});
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r;
  }
  // The same reason on a break-glass proposal: the proposal file's encoder.
  ASSIGN_OR_FAIL(SignerKey signer04, MakeSignerKey(scenario_->dir().Join("keys04"), "signer-04"));
  const std::string out = scenario_->dir().Join("latin1-change.json");
  CommandResult propose = Cli({"federation", "propose", "--out", out, "--add", "signer-04=" + signer04.pub_file,
                               "--threshold", "1", "--break-glass", "--reason", latin1});
  EXPECT_EQ(propose.exit_code, 2) << propose;
  EXPECT_NE(propose.err.find("UTF-8"), std::string::npos) << propose;
  EXPECT_FALSE(fs::Exists(out)) << "a refused proposal left a file";
  EXPECT_FALSE(Halted());
  auto st = leader_->StatusJson();
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE((*st)["emergency"].value("pegs_frozen", true)) << st->dump();
  // Unicode that is UTF-8 is a reason like any other.
  CommandResult halt = Cli({"emergency", "halt", "--reason", "Schl\xc3\xbcssel kompromittiert", "--operator", "alice"});
  ASSERT_EQ(halt.exit_code, 0) << halt;
  EXPECT_TRUE(Halted());
  CommandResult resume = Cli({"emergency", "resume", "--reason", "drill over"});
  ASSERT_EQ(resume.exit_code, 0) << resume;
  EXPECT_TRUE(Produces(2));
}

// Broke: the node audited every emergency switch it was sent, but not a
// federation change: a break-glass rotation posted to the admin API by any
// caller other than ailee-cli on this host (curl with the token, a CLI with
// another audit log) left no line in the node's audit log. Here signer-04
// is added by break-glass (the leader's key stays a member, so the network
// keeps producing for the other tests).
TEST_F(Break14, ABreakGlassChangePostedToTheAdminApiIsAudited) {
  ASSIGN_OR_FAIL(SignerKey signer04, MakeSignerKey(scenario_->dir().Join("keys-audit"), "signer-04"));
  ASSIGN_OR_FAIL(json federation, leader_->Client().GetJson("/v1/federation"));
  ASSERT_EQ(federation.value("current_epoch", uint64_t{9}), 0u) << "this test runs on the genesis epoch";
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, leader_->ChainId());
  ASSIGN_OR_FAIL(state::FederationChange change,
                 AddSigner(chain_id, scenario_->signer(), signer04, state::ChangeAuthorization::kBreakGlass,
                           "break14: a change nobody ran through ailee-cli"));

  const std::string token = leader_->AdminToken();
  // Refused (no approval at all) and committed: both leave their line.
  state::FederationChange unapproved = change;
  unapproved.approvals.clear();
  HttpReply refused = PostText(*leader_, "/v1/admin/federation-change",
                               state::FederationChangeToJson(unapproved).dump(), token);
  EXPECT_EQ(refused.status, 400) << refused.body;
  HttpReply applied = PostText(*leader_, "/v1/admin/federation-change", state::FederationChangeToJson(change).dump(), token);
  ASSERT_EQ(applied.status, 200) << applied.body;
  const uint64_t height = json::parse(applied.body).value("height", uint64_t{0});

  std::vector<json> records;
  std::ifstream in(leader_->dir() + "/audit.log");
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("operation", "") == "node.federation_change") records.push_back(j);
  }
  ASSERT_EQ(records.size(), 2u) << "a federation change posted to the admin API is not in the node's audit log";
  EXPECT_NE(records[0]["args"].value("result", "ok"), "ok") << records[0].dump();
  const json& done = records[1]["args"];
  EXPECT_EQ(done.value("result", ""), "ok") << done.dump();
  EXPECT_EQ(done.value("operator", ""), "curl-user") << done.dump();
  EXPECT_EQ(done.value("reason", ""), change.reason) << done.dump();
  EXPECT_EQ(done.value("authorization", ""), "break_glass") << done.dump();
  EXPECT_EQ(done.value("approvals", ""), "signer-04") << done.dump();
  EXPECT_EQ(done.value("height", ""), std::to_string(height)) << done.dump();
  EXPECT_TRUE(Produces(2)) << "the leader stopped producing after adding signer-04";
}

// Broke -> fixed: a change approved for one chain was accepted by another
// chain whose epoch in force has the same members (a staging network run
// with the production keys): outgoing_epoch and outgoing_fingerprint name the federation,
// not the chain. A change now names its chain (chain_id, the hash of block 1,
// in the signed bytes) and a chain refuses one made for another, naming both.
// Two leaders with the same genesis federation, one change made for chain a.
TEST_F(Break14, AChangeApprovedForOneChainIsRefusedByAnother) {
  ASSIGN_OR_FAIL(SignerKey signer05, MakeSignerKey(scenario_->dir().Join("keys-replay"), "signer-05"));
  std::vector<TestNode> chains;
  chains.reserve(2);
  for (const std::string id : {"chain-a", "chain-b"}) {
    ASSIGN_OR_FAIL(NodeSpec spec, scenario_->WithOwnKeyCopy(NodeSpec::Leader(id, 50, 10)));
    chains.push_back(scenario_->AddNode(spec));
    ASSERT_OK(chains.back().Start());
  }
  ASSIGN_OR_FAIL(crypto::Hash256 chain_a, chains[0].ChainId());
  ASSIGN_OR_FAIL(crypto::Hash256 chain_b, chains[1].ChainId());
  ASSERT_NE(chain_a, chain_b);
  ASSIGN_OR_FAIL(state::FederationChange change,
                 AddSigner(chain_a, scenario_->signer(), signer05, state::ChangeAuthorization::kThreshold,
                           "add signer-05 to chain a"));
  const std::string body = state::FederationChangeToJson(change).dump();
  HttpReply a = PostText(chains[0], "/v1/admin/federation-change", body, chains[0].AdminToken());
  ASSERT_EQ(a.status, 200) << a.body;
  // Replayed to chain b, whose epoch 0 has the same members.
  HttpReply b = PostText(chains[1], "/v1/admin/federation-change", body, chains[1].AdminToken());
  EXPECT_EQ(b.status, 400) << "chain b accepted chain a's change: " << b.body;
  EXPECT_NE(b.body.find("approved for another chain"), std::string::npos) << b.body;
  EXPECT_NE(b.body.find(crypto::HashToHex(chain_a).substr(0, 16)), std::string::npos) << b.body;
  EXPECT_NE(b.body.find(crypto::HashToHex(chain_b).substr(0, 16)), std::string::npos) << b.body;
  ASSIGN_OR_FAIL(json federation_b, chains[1].Client().GetJson("/v1/federation"));
  EXPECT_EQ(federation_b.value("current_epoch", uint64_t{9}), 0u) << "chain b changed: " << federation_b.dump();
  // Chain b's audit log keeps the refusal and the chain the change came from.
  std::vector<json> records;
  std::ifstream in(chains[1].dir() + "/audit.log");
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("operation", "") == "node.federation_change") records.push_back(j);
  }
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0]["args"].value("result", "ok"), "ok") << records[0].dump();
  EXPECT_EQ(records[0]["args"].value("chain_id", ""), crypto::HashToHex(chain_a)) << records[0].dump();
}

// Broke -> fixed: a halt or freeze reason with an ANSI escape or CR was
// accepted, stored (the freeze's in the chain) and replayed into every
// terminal that shows `emergency status`, `health-check`, the 503 of POST
// /v1/tx and the node's log. CheckEmergencyRequest now applies the federation
// change's rule (base/operator_text.h): 400 "reason holds a control character".
TEST_F(Break14, AnEmergencyReasonWithControlCharactersIsRefused) {
  const std::string token = leader_->AdminToken();
  for (const std::string& reason : {std::string("all clear\x1b[2J\x1b[H"), std::string("a\rforged line")}) {
    HttpReply r = PostText(*leader_, "/v1/admin/emergency",
                           json{{"action", "halt"}, {"reason", reason}, {"operator", "m"}}.dump(), token);
    EXPECT_EQ(r.status, 400) << r.body;
    if (r.status == 200) {
      HttpReply resume = PostText(*leader_, "/v1/admin/emergency",
                                  json{{"action", "resume"}, {"reason", "undo"}, {"operator", "m"}}.dump(), token);
      EXPECT_EQ(resume.status, 200) << resume.body;
    }
  }
  EXPECT_FALSE(Halted());
}

// Broke -> fixed: a halt that landed while the leader was building a block
// was acknowledged with height H, and block H+1, signed after the operator
// was told the leader stopped, committed anyway: the leader checked the halt
// once, not under a lock Halt took. Node::HaltProduction now waits for the
// block being built. Each round halts through the admin API, waits three
// block intervals and counts the rounds whose tip moved past the
// acknowledged height.
TEST_F(Break14, NoBlockIsSignedAfterTheHaltIsAcknowledged) {
  const std::string token = leader_->AdminToken();
  int late_blocks = 0;
  std::string first;
  for (int round = 0; round < 12; ++round) {
    HttpReply halt = PostText(*leader_, "/v1/admin/emergency",
                              json{{"action", "halt"}, {"reason", "round " + std::to_string(round)}, {"operator", "t"}}.dump(),
                              token);
    ASSERT_EQ(halt.status, 200) << halt.body;
    const uint64_t acknowledged = json::parse(halt.body).value("height", uint64_t{0});
    usleep(150000);  // three block intervals
    ASSIGN_OR_FAIL(uint64_t tip, leader_->Height());
    if (tip != acknowledged) {
      ++late_blocks;
      if (first.empty()) first = "halt acknowledged at height " + std::to_string(acknowledged) + ", tip " + std::to_string(tip);
    }
    HttpReply resume = PostText(*leader_, "/v1/admin/emergency",
                                json{{"action", "resume"}, {"reason", "next round"}, {"operator", "t"}}.dump(), token);
    ASSERT_EQ(resume.status, 200) << resume.body;
    usleep(static_cast<useconds_t>(7000 * (round + 1)));  // the halts land at varying points of the interval
  }
  EXPECT_EQ(late_blocks, 0) << late_blocks << " of 12 halts were followed by a block; first: " << first;
}

}  // namespace
}  // namespace ailee::it
