// The node's HTTP API as clients and operators see it: rejected transactions
// change nothing, reads, metrics, the admin checkpoint's token, and the
// create-checkpoint / verify-checkpoint round trip including damage.
#include <httplib.h>

#include "base/fs.h"
#include "harness_gtest.h"
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
