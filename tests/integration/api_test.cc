// The node's HTTP API as clients and operators see it: rejected transactions
// change nothing (alone and in a POST /v1/txs batch, with its bounds), reads, metrics, the admin checkpoint's token, control
// records only through the admin endpoint (federation change), and the
// create-checkpoint / verify-checkpoint round trip including damage; the
// archiver's progress reports (token, never backwards, never above the tip)
// and every metric the node serves documented in docs/metrics.md.
#include <httplib.h>

#include <map>
#include <regex>
#include <sstream>

#include "base/fs.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "harness_gtest.h"
#include "state/federation_change.h"
#include "state/transaction.h"

namespace ailee::it {
namespace {

using nlohmann::json;

struct HttpReply {
  int status = 0;
  json body;
};

// Raw POST so malformed bodies can be sent as they are.
HttpReply PostRaw(const TestNode& node, const std::string& path, const std::string& body,
                  const std::string& bearer = "") {
  httplib::Client c("127.0.0.1", node.port());
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  auto res = c.Post(path, headers, body, "application/json");
  if (!res) return {};
  return {res->status, json::parse(res->body, nullptr, false)};
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario("api");
    node_ = new TestNode(scenario_->AddNode(NodeSpec::Leader("node-1", 100, 5)));
    Status st = node_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    // ctest runs each test in its own process: start from a few blocks.
    st = node_->WaitForHeight(2, Millis(5000));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static void TearDownTestSuite() {
    if (node_) {
      EXPECT_EQ(node_->Terminate(), 0) << FileTail(node_->log_path());
    }
    delete node_;
    delete scenario_;
    node_ = nullptr;
    scenario_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(node_ && node_->Running()) << "node not running"; }

  static json Account(const std::string& id) {
    auto a = node_->Client().GetJson("/v1/accounts/" + id);
    return a.ok() ? *a : json();
  }
  // Waits two block intervals so that anything accepted would be in a block.
  static void LetBlocksPass() {
    ASSIGN_OR_FAIL(uint64_t h, node_->Height());
    EXPECT_OK(node_->WaitForHeight(h + 2, Millis(5000)));
  }

  static Scenario* scenario_;
  static TestNode* node_;
};
Scenario* ApiTest::scenario_ = nullptr;
TestNode* ApiTest::node_ = nullptr;

TEST_F(ApiTest, RejectedTransactionsAre400AndChangeNothing) {
  ASSIGN_OR_FAIL(auto alice, scenario_->FundAccount(*node_, 10000));
  const std::string alice_id = state::AccountIdHex(alice.public_key);
  auto bob = crypto::Ed25519Generate();
  auto stranger = crypto::Ed25519Generate();
  const json before = Account(alice_id);
  ASSERT_EQ(before["balance"], 10000);
  ASSERT_EQ(before["nonce"], 0);

  struct Case {
    std::string name;
    std::string body;
    std::string error_mentions;
  };
  json bad_sig = state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 10, 0));
  std::string sig = bad_sig["signature"];
  sig[10] = sig[10] == '0' ? '1' : '0';
  bad_sig["signature"] = sig;
  const std::vector<Case> cases = {
      {"bad signature", bad_sig.dump(), "signature"},
      {"unknown account", state::TransactionToJson(state::MakeTransfer(stranger, alice.public_key, 1, 0)).dump(),
       "unknown account"},
      {"insufficient balance", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 10001, 0)).dump(),
       "insufficient balance"},
      {"nonce from the future", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 1, 7)).dump(),
       "nonce"},
      {"malformed JSON", R"({"type":"transfer","from":)", ""},
      {"missing fields", R"({"type":"transfer"})", ""},
      {"unknown type", R"({"type":"mint","to":"00","amount":1})", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HttpReply r = PostRaw(*node_, "/v1/tx", c.body);
    EXPECT_EQ(r.status, 400) << r.body.dump();
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << r.body.dump();
    std::string error = r.body["error"];
    EXPECT_FALSE(error.empty());
    if (!c.error_mentions.empty()) {
      EXPECT_NE(error.find(c.error_mentions), std::string::npos) << error;
    }
  }
  LetBlocksPass();
  EXPECT_EQ(Account(alice_id), before) << "a rejected transaction changed the sender";
  EXPECT_TRUE(Account(state::AccountIdHex(bob.public_key)).is_null()) << "a rejected transfer created its recipient";
  EXPECT_TRUE(Account(state::AccountIdHex(stranger.public_key)).is_null());

  // A valid transfer goes through once; replaying it is rejected.
  const json good = state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 100, 0, "rent"));
  HttpReply ok = PostRaw(*node_, "/v1/tx", good.dump());
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(ok.body["status"], "pending");
  ASSERT_TRUE(WaitUntil([&] { return Account(alice_id).value("nonce", 0) == 1; }, Millis(5000)));
  const json after = Account(alice_id);
  EXPECT_EQ(after["balance"], 9900);
  EXPECT_EQ(Account(state::AccountIdHex(bob.public_key))["balance"], 100);

  HttpReply replay = PostRaw(*node_, "/v1/tx", good.dump());
  EXPECT_EQ(replay.status, 400) << replay.body.dump();
  EXPECT_NE(replay.body.value("error", "").find("nonce"), std::string::npos) << replay.body.dump();
  LetBlocksPass();
  EXPECT_EQ(Account(alice_id), after) << "a replayed transaction changed the sender";
  EXPECT_EQ(Account(state::AccountIdHex(bob.public_key))["balance"], 100);
}

// POST /v1/txs judges each transaction as /v1/tx would: the bad one is
// refused (and never in a block) while the rest are accepted; its bounds
// answer 413, a body that is not an array 400, nothing changing.
TEST_F(ApiTest, TxBatchRefusesTheBadTransactionAcceptsTheRestAndEnforcesItsBounds) {
  ASSIGN_OR_FAIL(auto dave, scenario_->FundAccount(*node_, 5000));
  const std::string dave_id = state::AccountIdHex(dave.public_key);
  auto erin = crypto::Ed25519Generate();
  const std::string erin_id = state::AccountIdHex(erin.public_key);
  json forged = state::TransactionToJson(state::MakeTransfer(dave, erin.public_key, 1000, 2));
  std::string sig = forged["signature"];
  sig[10] = sig[10] == '0' ? '1' : '0';
  forged["signature"] = sig;
  const json batch = json::array({state::TransactionToJson(state::MakeTransfer(dave, erin.public_key, 10, 0)),
                                  state::TransactionToJson(state::MakeTransfer(dave, erin.public_key, 20, 1)),
                                  forged, json{{"type", "transfer"}}});
  HttpReply r = PostRaw(*node_, "/v1/txs", batch.dump());
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["accepted"], 2);
  EXPECT_EQ(r.body["rejected"], 2);
  ASSERT_EQ(r.body["results"].size(), 4u) << r.body.dump();
  EXPECT_EQ(r.body["results"][0]["status"], "pending");
  EXPECT_EQ(r.body["results"][1]["status"], "pending");
  EXPECT_EQ(r.body["results"][2]["http_status"], 400);
  EXPECT_NE(r.body["results"][2].value("error", "").find("signature"), std::string::npos) << r.body.dump();
  EXPECT_EQ(r.body["results"][3]["http_status"], 400);
  ASSERT_TRUE(WaitUntil([&] { return Account(dave_id).value("nonce", 0) == 2; }, Millis(5000)));
  LetBlocksPass();
  EXPECT_EQ(Account(dave_id)["nonce"], 2) << "the forged transfer (nonce 2) reached a block";
  EXPECT_EQ(Account(erin_id)["balance"], 30);

  const json one = state::TransactionToJson(state::MakeTransfer(dave, erin.public_key, 1, 2));
  json too_many = json::array();
  for (int i = 0; i < 1001; ++i) too_many.push_back(one);
  HttpReply many = PostRaw(*node_, "/v1/txs", too_many.dump());
  EXPECT_EQ(many.status, 413) << many.body.dump();
  EXPECT_NE(many.body.value("error", "").find("at most 1000"), std::string::npos) << many.body.dump();
  HttpReply big = PostRaw(*node_, "/v1/txs", "[" + std::string(9u << 20, ' ') + "]");
  EXPECT_EQ(big.status, 413) << big.body.dump();
  EXPECT_NE(big.body.value("error", "").find("bytes"), std::string::npos) << big.body.dump();
  for (const std::string& body : std::vector<std::string>{"", "{}", "[]", one.dump()}) {
    HttpReply bad = PostRaw(*node_, "/v1/txs", body);
    EXPECT_EQ(bad.status, 400) << body << " -> " << bad.body.dump();
    EXPECT_NE(bad.body.value("error", "").find("JSON array"), std::string::npos) << bad.body.dump();
  }
  LetBlocksPass();
  EXPECT_EQ(Account(dave_id)["nonce"], 2) << "a refused batch changed the sender";
}

// The load generator's batched mode with requests signed before the clock
// and several connections at once (each with its own senders): every
// transfer is accepted in nonce order and lands in a block; none is dropped
// at production for a nonce out of step.
TEST_F(ApiTest, PresignedBatchesOnSeveralConnectionsAllLandInBlocks) {
  ASSIGN_OR_FAIL(auto before, node_->StatusJson());
  CommandResult load = scenario_->Cli(*node_, {"-q", "--json", "load", "--accounts", "30", "--batch", "20",
                                               "--connections", "3", "--presign", "300", "--max-tx", "420",
                                               "--duration", "0", "--rate", "100000", "--seed", "7"});
  ASSERT_EQ(load.exit_code, 0) << load;
  json report = JsonOut(load);
  EXPECT_EQ(report["rejected"], 0) << load;
  // 300 signed ahead, the rest as they were sent; the lanes stop together.
  EXPECT_GE(report["accepted"].get<uint64_t>(), 420u) << load;
  const uint64_t accepted = report["accepted"];
  ASSERT_TRUE(WaitUntil([&] {
    auto now = node_->StatusJson();
    return now.ok() && (*now)["mempool"] == 0 &&
           (*now)["transactions"].get<uint64_t>() >= before["transactions"].get<uint64_t>() + 30 + accepted;
  }, Millis(10000))) << "accepted transfers missing from blocks";
  ASSIGN_OR_FAIL(std::string log, fs::ReadFile(node_->log_path()));
  EXPECT_EQ(log.find("dropped tx"), std::string::npos) << FileTail(node_->log_path());
}

// The leader verifies a transfer's signature once, at admission; building
// the block takes the mempool's word for it (the tx id names the exact bytes
// verified). A second verification would count twice.
TEST_F(ApiTest, EachTransferSignatureIsVerifiedOnceOnTheLeader) {
  ASSIGN_OR_FAIL(auto alice, scenario_->FundAccount(*node_, 10000));
  const std::string alice_id = state::AccountIdHex(alice.public_key);
  auto bob = crypto::Ed25519Generate();
  LetBlocksPass();  // the peg-in's own verifications are done
  auto verifications = [] {
    auto text = node_->Client().GetText("/metrics");
    std::smatch m;
    static const std::regex kLine("\nailee_tx_signature_verifications_total (\\d+)\n");
    return text.ok() && std::regex_search(*text, m, kLine) ? std::stoull(m[1]) : ~0ull;
  };
  const uint64_t before = verifications();
  ASSERT_NE(before, ~0ull) << "no ailee_tx_signature_verifications_total in /metrics";
  json batch = json::array();
  for (uint64_t n = 0; n < 5; ++n) batch.push_back(state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 10, n)));
  ASSERT_EQ(PostRaw(*node_, "/v1/txs", batch.dump()).status, 200);
  ASSERT_EQ(PostRaw(*node_, "/v1/tx", state::TransactionToJson(state::MakeTransfer(alice, bob.public_key, 10, 5)).dump()).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return Account(alice_id)["nonce"] == 6; }, Millis(5000))) << "transfers not in a block";
  LetBlocksPass();
  EXPECT_EQ(verifications(), before + 6) << "each of the 6 transfers should be verified exactly once";
}

TEST_F(ApiTest, ReadsBlocksAccountsAndMetrics) {
  ASSERT_OK(node_->WaitForHeight(6, Millis(5000)));
  auto client = node_->Client();
  ASSIGN_OR_FAIL(json b1, client.GetJson("/v1/blocks/1"));
  EXPECT_EQ(b1["header"]["height"], 1);
  EXPECT_EQ(b1["header"]["prev_hash"], std::string(64, '0'));
  ASSIGN_OR_FAIL(json b2, client.GetJson("/v1/blocks/2"));
  EXPECT_EQ(b2["header"]["prev_hash"], b1["header"]["hash"]);
  ASSIGN_OR_FAIL(json b5, client.GetJson("/v1/blocks/5"));
  EXPECT_TRUE(b5.contains("anchor")) << "commitment_interval 5: block 5 carries an anchor";

  auto missing = client.GetJson("/v1/blocks/999999999");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  ASSIGN_OR_FAIL(json page, client.GetJson("/v1/blocks?from=2&limit=3"));
  ASSERT_EQ(page["blocks"].size(), 3u);
  EXPECT_EQ(page["blocks"][0]["height"], 2);
  // A byte budget ends a page early, but never before its first block.
  ASSIGN_OR_FAIL(json small, client.GetJson("/v1/blocks?from=2&limit=3&max_bytes=1"));
  ASSERT_EQ(small["blocks"].size(), 1u);
  EXPECT_EQ(small["blocks"][0]["height"], 2);
  EXPECT_EQ(small["tip"], page["tip"]);
  const size_t one = page["blocks"][0]["encoded"].get<std::string>().size();
  ASSIGN_OR_FAIL(json two, client.GetJson("/v1/blocks?from=2&limit=3&max_bytes=" + std::to_string(one + 1)));
  EXPECT_EQ(two["blocks"].size(), 2u) << "the page ends once the budget is passed, not before";
  auto bad = client.GetJson("/v1/blocks?from=2&max_bytes=lots");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();

  ASSIGN_OR_FAIL(auto carol, scenario_->FundAccount(*node_, 777));
  ASSIGN_OR_FAIL(json acct, client.GetJson("/v1/accounts/" + state::AccountIdHex(carol.public_key)));
  EXPECT_EQ(acct["balance"], 777);
  EXPECT_EQ(acct["nonce"], 0);
  auto nobody = client.GetJson("/v1/accounts/" + std::string(64, 'a'));
  EXPECT_EQ(nobody.status().code(), StatusCode::kNotFound) << nobody.status().ToString();
  auto short_id = client.GetJson("/v1/accounts/abcd");
  EXPECT_EQ(short_id.status().code(), StatusCode::kInvalidArgument) << short_id.status().ToString();

  ASSIGN_OR_FAIL(std::string metrics, client.GetText("/metrics"));
  EXPECT_NE(metrics.find("\nailee_block_height "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ailee_transactions_total "), std::string::npos);
  EXPECT_NE(metrics.find("ailee_database_size_bytes "), std::string::npos);
}

TEST_F(ApiTest, AdminCheckpointNeedsTheToken) {
  const std::string target = scenario_->dir().Join("admin-ckpt");
  const json body = {{"path", target}};
  HttpReply none = PostRaw(*node_, "/v1/admin/checkpoint", body.dump());
  EXPECT_EQ(none.status, 403) << none.body.dump();
  HttpReply wrong = PostRaw(*node_, "/v1/admin/checkpoint", body.dump(), std::string(64, 'f'));
  EXPECT_EQ(wrong.status, 403) << wrong.body.dump();
  EXPECT_FALSE(fs::Exists(target)) << "a refused request created the checkpoint";

  ASSIGN_OR_FAIL(std::string token, fs::ReadFile(node_->admin_token_path()));
  while (!token.empty() && token.back() == '\n') token.pop_back();
  HttpReply good = PostRaw(*node_, "/v1/admin/checkpoint", body.dump(), token);
  ASSERT_EQ(good.status, 200) << good.body.dump();
  EXPECT_GT(good.body["height"].get<uint64_t>(), 0u);
  EXPECT_TRUE(fs::IsDirectory(target));
  // Consistent at a block boundary: the checkpoint verifies on its own and
  // its tip is what the node said.
  CommandResult v = scenario_->Cli(*node_, {"--json", "verify-state", target});
  ASSERT_EQ(v.exit_code, 0) << v;
  json report = JsonOut(v);
  EXPECT_EQ(report["height"], good.body["height"]);
  EXPECT_EQ(report["state_root"], good.body["state_root"]);

  HttpReply again = PostRaw(*node_, "/v1/admin/checkpoint", body.dump(), token);
  EXPECT_EQ(again.status, 409) << "an existing checkpoint must not be overwritten: " << again.body.dump();
}

std::string AdminToken(const TestNode& node) {
  auto token = fs::ReadFile(node.admin_token_path());
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  std::string t = token.ok() ? *token : "";
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

TEST_F(ApiTest, ControlRecordsGoThroughTheAdminEndpointOnly) {
  const SignerKey& signer = scenario_->signer();
  // Anyone can reach POST /v1/tx: it must not take a freeze or a change.
  HttpReply freeze = PostRaw(*node_, "/v1/tx", R"({"type":"peg_freeze","frozen":true,"reason":"x","operator":"y"})");
  EXPECT_EQ(freeze.status, 403) << freeze.body.dump();
  EXPECT_NE(freeze.body.value("error", "").find("admin interface"), std::string::npos) << freeze.body.dump();

  ASSIGN_OR_FAIL(json history, node_->Client().GetJson("/v1/federation"));
  ASSERT_EQ(history["current_epoch"], 0) << history.dump();
  state::Federation genesis;
  genesis.signers.emplace(signer.id, signer.key.public_key());
  state::FederationChange change;
  ASSIGN_OR_FAIL(change.chain_id, node_->ChainId());
  change.outgoing_epoch = 0;
  change.outgoing_fingerprint = state::FederationFingerprint(genesis);
  change.incoming = genesis;  // a re-keying drill: the same member, a new epoch
  change.operator_id = "api-test";
  ASSERT_TRUE(state::ApproveChange(change, signer.id, [&](std::string_view m) { return signer.key.Sign(m); }).ok());
  const std::string body = state::FederationChangeToJson(change).dump();
  HttpReply as_tx = PostRaw(*node_, "/v1/tx", json{{"type", "federation_change"}, {"change", json::parse(body)}}.dump());
  EXPECT_EQ(as_tx.status, 403) << as_tx.body.dump();

  EXPECT_EQ(PostRaw(*node_, "/v1/admin/federation-change", body).status, 403);
  state::FederationChange unapproved = change;
  unapproved.approvals.clear();
  HttpReply weak = PostRaw(*node_, "/v1/admin/federation-change", state::FederationChangeToJson(unapproved).dump(),
                           AdminToken(*node_));
  EXPECT_EQ(weak.status, 400) << weak.body.dump();
  EXPECT_NE(weak.body.value("error", "").find("0 approvals from the outgoing federation, threshold is 1"),
            std::string::npos)
      << weak.body.dump();
  ASSIGN_OR_FAIL(json unchanged, node_->Client().GetJson("/v1/federation"));
  EXPECT_EQ(unchanged["current_epoch"], 0);

  HttpReply applied = PostRaw(*node_, "/v1/admin/federation-change", body, AdminToken(*node_));
  ASSERT_EQ(applied.status, 200) << applied.body.dump();
  EXPECT_EQ(applied.body["epoch"], 1);
  EXPECT_EQ(applied.body["activation_height"].get<uint64_t>(), applied.body["height"].get<uint64_t>() + 1);
  ASSIGN_OR_FAIL(json after, node_->Client().GetJson("/v1/federation"));
  EXPECT_EQ(after["current_epoch"], 1) << after.dump();
  EXPECT_EQ(after.value("chain_id", ""), crypto::HashToHex(change.chain_id)) << after.dump();
  EXPECT_EQ(after["epochs"][1]["change_height"], applied.body["height"]);
  // The same record again is a replay of epoch 0's change: refused.
  HttpReply replay = PostRaw(*node_, "/v1/admin/federation-change", body, AdminToken(*node_));
  EXPECT_EQ(replay.status, 400) << replay.body.dump();
  // The node goes on producing under epoch 1.
  LetBlocksPass();
}

// The value of the unlabelled sample `name` in a /metrics text, if served.
std::optional<double> Sample(const std::string& metrics, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(metrics, m, std::regex("(^|\n)" + name + " ([^\n]+)"))) return std::nullopt;
  return std::stod(m[2].str());
}

TEST_F(ApiTest, ArchiveProgressNeedsTheTokenAndNeverMovesBackOrAboveTheTip) {
  node::NodeClient client = node_->Client();
  ASSIGN_OR_FAIL(std::string before, client.GetText("/metrics"));
  EXPECT_FALSE(Sample(before, "ailee_node_archive_height")) << "no report yet, so no archive height: " << before;

  const std::string path = "/v1/admin/archive-progress";
  const json report = {{"node_id", "node-1"}, {"archived_height", 2}, {"sealed_at_ms", 1764729901000}};
  EXPECT_EQ(PostRaw(*node_, path, report.dump()).status, 403);
  EXPECT_EQ(PostRaw(*node_, path, report.dump(), std::string(64, 'f')).status, 403);
  ASSIGN_OR_FAIL(std::string refused, client.GetText("/metrics"));
  EXPECT_FALSE(Sample(refused, "ailee_node_archive_height")) << "an unauthenticated report was stored";

  const std::string token = AdminToken(*node_);
  HttpReply good = PostRaw(*node_, path, report.dump(), token);
  ASSERT_EQ(good.status, 200) << good.body.dump();
  ASSIGN_OR_FAIL(std::string after, client.GetText("/metrics"));
  EXPECT_EQ(Sample(after, "ailee_node_archive_height"), 2.0) << after;
  auto tip = Sample(after, "ailee_block_height");
  ASSERT_TRUE(tip);
  EXPECT_GE(Sample(after, "ailee_node_archive_lag_blocks").value_or(-1), *tip - 2) << after;
  EXPECT_GE(Sample(after, "ailee_node_archive_report_age_seconds").value_or(-1), 0.0) << after;

  struct Case {
    std::string name;
    json body;
  };
  const std::vector<Case> refused_cases = {
      {"backwards", {{"node_id", "node-1"}, {"archived_height", 1}, {"sealed_at_ms", 1}}},
      {"above the tip", {{"node_id", "node-1"}, {"archived_height", 1000000000}, {"sealed_at_ms", 1}}},
      {"another node's archive", {{"node_id", "node-2"}, {"archived_height", 3}, {"sealed_at_ms", 1}}},
      {"negative height", {{"node_id", "node-1"}, {"archived_height", -5}, {"sealed_at_ms", 1}}},
      {"no height", {{"node_id", "node-1"}}},
  };
  for (const auto& c : refused_cases) {
    SCOPED_TRACE(c.name);
    HttpReply r = PostRaw(*node_, path, c.body.dump(), token);
    EXPECT_EQ(r.status, 400) << r.body.dump();
  }
  EXPECT_EQ(PostRaw(*node_, path, "{not json", token).status, 400);
  ASSIGN_OR_FAIL(std::string last, client.GetText("/metrics"));
  EXPECT_EQ(Sample(last, "ailee_node_archive_height"), 2.0) << "a refused report changed the stored one: " << last;
}

// name -> {type, help} from the HELP and TYPE lines of a /metrics text.
std::map<std::string, std::pair<std::string, std::string>> ServedMetrics(const std::string& text) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, std::regex("# TYPE (\\S+) (\\S+)"))) out[m[1]].first = m[2];
    if (std::regex_match(line, m, std::regex("# HELP (\\S+) (.*)"))) out[m[1]].second = m[2];
  }
  return out;
}

// The same from docs/metrics.md's table under "## The node's `/metrics`".
std::map<std::string, std::pair<std::string, std::string>> DocumentedMetrics() {
  auto doc = fs::ReadFile(std::string(AILEE_SOURCE_DIR) + "/docs/metrics.md");
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  std::map<std::string, std::pair<std::string, std::string>> out;
  if (!doc.ok()) return out;
  const size_t start = doc->find("## The node's `/metrics`");
  const size_t end = doc->find("\n## ", start + 1);
  EXPECT_NE(start, std::string::npos) << "docs/metrics.md has no section on the node's /metrics";
  std::istringstream in(doc->substr(start, end - start));
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, std::regex("\\| `(ailee_\\w+)` \\| (\\w+) \\| (.*) \\|"))) {
      out[m[1]] = {m[2], m[3]};
    }
  }
  return out;
}

// Every metric a leader (with an archive report) and a follower serve is in
// docs/metrics.md with its type and help, and the doc lists nothing the
// node does not serve: the two cannot drift apart.
TEST_F(ApiTest, EveryMetricTheNodeServesIsDocumented) {
  // The tip: never below a report an earlier test of this program made (an
  // archive never shrinks), never above the tip.
  ASSIGN_OR_FAIL(uint64_t tip, node_->Height());
  HttpReply report = PostRaw(*node_, "/v1/admin/archive-progress", json{{"archived_height", tip}}.dump(),
                             AdminToken(*node_));
  ASSERT_EQ(report.status, 200) << report.body.dump();
  TestNode follower = scenario_->AddNode(NodeSpec::Follower("node-2", node_->url(), 100, 5));
  ASSERT_OK(follower.Start());
  ASSIGN_OR_FAIL(std::string leader_text, node_->Client().GetText("/metrics"));
  ASSIGN_OR_FAIL(std::string follower_text, follower.Client().GetText("/metrics"));
  auto served = ServedMetrics(leader_text);
  for (const auto& [name, th] : ServedMetrics(follower_text)) served[name] = th;
  EXPECT_EQ(follower.Terminate(), 0);
  ASSERT_GE(served.size(), 10u);
  EXPECT_TRUE(served.count("ailee_sync_lag_blocks")) << "the follower's metric is missing";
  const auto documented = DocumentedMetrics();
  for (const auto& [name, th] : served) {
    SCOPED_TRACE(name);
    auto d = documented.find(name);
    ASSERT_NE(d, documented.end()) << "served but not in docs/metrics.md";
    EXPECT_EQ(d->second.first, th.first) << "type";
    // The doc may add a remark after the help text ("(followers only)").
    std::string help = th.second;
    if (!help.empty() && help.back() == '.') help.pop_back();
    EXPECT_EQ(d->second.second.rfind(help, 0), 0u) << "help: the node says \"" << th.second << "\", the doc \""
                                                  << d->second.second << "\"";
  }
  for (const auto& [name, th] : documented) EXPECT_TRUE(served.count(name)) << name << ": documented, not served";
}

TEST_F(ApiTest, CreateCheckpointVerifiesAndAFlippedByteIsNamed) {
  const std::string ckpt = scenario_->dir().Join("ckpt-cli");
  CommandResult c = scenario_->Cli(*node_, {"create-checkpoint", "--output", ckpt});
  ASSERT_EQ(c.exit_code, 0) << c;
  EXPECT_NE(c.out.find("online"), std::string::npos) << "expected an online checkpoint from the running node\n" << c;
  CommandResult v = scenario_->Cli(*node_, {"verify-checkpoint", ckpt});
  ASSERT_EQ(v.exit_code, 0) << v;

  // Damage one data file. Checkpoint SSTs are hard links to the live node's
  // files, so write a modified copy and rename it over the link instead of
  // editing in place (which would corrupt the running node).
  ASSIGN_OR_FAIL(auto names, fs::ListDir(ckpt));
  std::string victim;
  for (const auto& n : names) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".sst") { victim = n; break; }
  }
  if (victim.empty()) {
    for (const auto& n : names) {
      if (n.rfind("MANIFEST", 0) == 0) { victim = n; break; }
    }
  }
  ASSERT_FALSE(victim.empty()) << "no data file in the checkpoint";
  const std::string path = fs::JoinPath(ckpt, victim);
  ASSIGN_OR_FAIL(std::string data, fs::ReadFile(path));
  ASSERT_FALSE(data.empty());
  data[data.size() / 2] ^= 0x01;
  ASSERT_OK(fs::WriteFileAtomic(path, data, 0644));

  CommandResult bad = scenario_->Cli(*node_, {"verify-checkpoint", ckpt});
  EXPECT_EQ(bad.exit_code, 3) << bad;
  EXPECT_NE((bad.out + bad.err).find(victim), std::string::npos) << "output does not name " << victim << "\n" << bad;

  // The live node is unaffected.
  CommandResult health = scenario_->Cli(*node_, {"health-check", "--deep"});
  EXPECT_EQ(health.exit_code, 0) << health;
}

TEST_F(ApiTest, SecondNodeOnTheSameDataDirIsRefused) {
  // Same config (same data dir, same port): must fail, not corrupt.
  Process second;
  ASSIGN_OR_FAIL(second, Process::Spawn({NodeBinary(), "--config", node_->config_path()},
                                        scenario_->dir().Join("second.log")));
  auto code = second.Wait(Millis(15000));
  ASSERT_TRUE(code.has_value()) << "a second node on the same data dir kept running";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(node_->Running());
  EXPECT_TRUE(node_->Client().GetJson("/v1/health").ok());
}

}  // namespace
}  // namespace ailee::it

namespace ailee::it {
namespace {

using nlohmann::json;

// The load generator against a leader whose mempool holds only 50
// transactions: its refusals and what the generator does about them.
class LoadRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scenario_ = std::make_unique<Scenario>("load-refusal");
    NodeSpec spec = NodeSpec::Leader("node-1", 100, 5);
    spec.mempool_capacity = 50;
    node_ = std::make_unique<TestNode>(scenario_->AddNode(spec));
    ASSERT_OK(node_->Start());
    ASSERT_OK(node_->WaitForHeight(2, Millis(5000)));
  }
  void TearDown() override {
    if (node_) {
      EXPECT_EQ(node_->Terminate(), 0) << FileTail(node_->log_path());
    }
  }

  json Load(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"-q", "--json", "load", "--duration", "0", "--rate", "100000"};
    all.insert(all.end(), args.begin(), args.end());
    CommandResult load = scenario_->Cli(*node_, all);
    EXPECT_EQ(load.exit_code, 0) << load;
    return load.exit_code == 0 ? JsonOut(load) : json();
  }
  // Waits until the node's chain holds `count` transactions and its mempool is empty.
  void ExpectAllInBlocks(uint64_t count) {
    EXPECT_TRUE(WaitUntil([&] {
      auto now = node_->StatusJson();
      return now.ok() && (*now)["mempool"] == 0 && (*now)["transactions"].get<uint64_t>() >= count;
    }, Millis(10000))) << "accepted transfers missing from blocks";
    auto log = fs::ReadFile(node_->log_path());
    EXPECT_TRUE(log.ok() && log->find("dropped tx") == std::string::npos) << FileTail(node_->log_path());
  }

  std::unique_ptr<Scenario> scenario_;
  std::unique_ptr<TestNode> node_;
};

// Presigned batches of 40 into a pool of 50: the second batch is partly
// refused as full; the generator sends those same transfers again after the
// next block, so every refusal is a resent one (none for a nonce out of
// step) and all of them land. The same with one transfer per request.
TEST_F(LoadRefusalTest, TransfersRefusedForAFullMempoolAreResentAndLand) {
  uint64_t expected = 0;
  for (const std::string batch : {"40", "0"}) {
    SCOPED_TRACE("--batch " + batch);
    ASSIGN_OR_FAIL(auto before, node_->StatusJson());
    json report = Load({"--accounts", "20", "--batch", batch, "--presign", "200", "--max-tx", "200", "--seed", "3"});
    ASSERT_FALSE(report.is_null());
    EXPECT_GT(report["resent"].get<uint64_t>(), 0u) << report.dump() << ": the mempool never filled";
    EXPECT_EQ(report["rejected"], report["resent"]) << report.dump() << ": refusals other than a full mempool";
    EXPECT_GE(report["accepted"].get<uint64_t>(), 200u) << report.dump();
    expected = before["transactions"].get<uint64_t>() + report["funded_accounts"].get<uint64_t>() +
               report["accepted"].get<uint64_t>();
    ExpectAllInBlocks(expected);
  }
}

// A sender whose transfer is refused (here: load account 0 holds 10 units,
// funded before the run, and its transfers are 1..1000) has later presigned
// transfers whose nonces no longer follow: the generator re-reads its nonce
// after the next block and drops them instead of sending them to be refused
// one by one. So the refusals are those of the one batch it was refused in
// (at most 20), not the ~25% of 300 presigned transfers that are account 0's.
TEST_F(LoadRefusalTest, ARefusedSendersLaterPresignedTransfersAreDropped) {
  const auto account0 = crypto::Ed25519PlainFromSeed(crypto::HashToString(crypto::Sha256("ailee-load/11/0")));
  ASSERT_OK(scenario_->PegIn(*node_, account0.public_key, 10));
  ASSIGN_OR_FAIL(auto before, node_->StatusJson());
  json report = Load({"--accounts", "4", "--batch", "20", "--presign", "300", "--max-tx", "150", "--seed", "11"});
  ASSERT_FALSE(report.is_null());
  EXPECT_EQ(report["funded_accounts"], 3) << "account 0 was funded before the run";
  const uint64_t refused = report["rejected"].get<uint64_t>() - report["resent"].get<uint64_t>();
  EXPECT_GT(refused, 0u) << report.dump() << ": account 0 was never refused";
  EXPECT_LE(refused, 20u) << report.dump() << ": account 0's later presigned transfers were sent and refused";
  ExpectAllInBlocks(before["transactions"].get<uint64_t>() + 3 + report["accepted"].get<uint64_t>());
}

}  // namespace
}  // namespace ailee::it
