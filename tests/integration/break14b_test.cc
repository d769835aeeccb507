// Issue 14 broken on purpose again (session 10, brk): the chain binding of a
// federation change (chain_id = hash of block 1, commit 8fd99b4) against a
// hostile caller and an unlucky operator, on real nodes. break10_test.cc is
// issue 10's; this file is issue 14's second round.
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/hex.h"
#include "harness_gtest.h"
#include "state/block.h"
#include "state/transaction.h"
#include "state/encoding.h"
#include "state/federation_change.h"
#include "state/records.h"
#include "state_tamper.h"

namespace ailee::it {
namespace {

using nlohmann::json;

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply PostText(const TestNode& node, const std::string& path, const std::string& body, const std::string& bearer) {
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

// A threshold change of the genesis epoch (one signer, threshold 1) of chain
// `chain_id` adding `added`, approved by the genesis signer.
Result<state::FederationChange> AddSigner(const crypto::Hash256& chain_id, const SignerKey& genesis_signer,
                                          const SignerKey& added, std::string reason) {
  state::Federation outgoing;
  outgoing.signers.emplace(genesis_signer.id, genesis_signer.key.public_key());
  outgoing.threshold = 1;
  state::FederationChange change;
  change.chain_id = chain_id;
  change.outgoing_epoch = 0;
  change.outgoing_fingerprint = state::FederationFingerprint(outgoing);
  change.incoming = outgoing;
  change.incoming.signers.emplace(added.id, added.key.public_key());
  change.authorization = state::ChangeAuthorization::kThreshold;
  change.reason = std::move(reason);
  change.operator_id = "brk";
  RETURN_IF_ERROR(
      state::ApproveChange(change, genesis_signer.id, [&](std::string_view m) { return genesis_signer.key.Sign(m); }));
  return change;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Break14b : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { scenario_ = new Scenario("break14b"); }
  static void TearDownTestSuite() {
    delete scenario_;
    scenario_ = nullptr;
  }
  // A leader of its own chain (its own key copy, so its fence is its own).
  static Result<TestNode> StartLeader(const std::string& id) {
    ASSIGN_OR_RETURN(NodeSpec spec, scenario_->WithOwnKeyCopy(NodeSpec::Leader(id, 50, 10)));
    TestNode node = scenario_->AddNode(spec);
    RETURN_IF_ERROR(node.Start());
    return node;
  }
  static Scenario* scenario_;
};
Scenario* Break14b::scenario_ = nullptr;

// The chain_id field as an attacker or a hand-edited file writes it: not hex,
// too short, too long, a number, all zeros. Each is bad input (400) naming
// chain_id, never a 500, and the chain's federation stays epoch 0.
TEST_F(Break14b, AMalformedChainIdIsRefusedAsBadInput) {
  ASSIGN_OR_FAIL(TestNode leader, StartLeader("malformed"));
  ASSIGN_OR_FAIL(SignerKey signer06, MakeSignerKey(scenario_->dir().Join("keys06"), "signer-06"));
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, leader.ChainId());
  ASSIGN_OR_FAIL(state::FederationChange change, AddSigner(chain_id, scenario_->signer(), signer06, "add signer-06"));
  const json good = state::FederationChangeToJson(change);
  const std::string hex = good["chain_id"].get<std::string>();
  const std::vector<json> bad_ids = {json("zz" + hex.substr(2)), json(hex.substr(0, 62)), json(hex + "00"),
                                     json(""),                   json(12345),            json(nullptr),
                                     json(std::string(64, '0')), json(" " + hex.substr(1))};
  for (const json& id : bad_ids) {
    json body = good;
    body["chain_id"] = id;
    HttpReply r = PostText(leader, "/v1/admin/federation-change", body.dump(), leader.AdminToken());
    EXPECT_EQ(r.status, 400) << "chain_id " << id.dump() << ": " << r.body;
    EXPECT_NE(r.body.find("chain"), std::string::npos) << "chain_id " << id.dump() << ": " << r.body;
  }
  ASSIGN_OR_FAIL(json federation, leader.Client().GetJson("/v1/federation"));
  EXPECT_EQ(federation.value("current_epoch", uint64_t{9}), 0u) << federation.dump();
  EXPECT_EQ(leader.Terminate(), 0);
}

// An unlucky operator: a leader with epoch 1 whose stored block 1 is lost
// (disk damage, a hand-made copy). The node can no longer check its stored
// change against its chain; it must say block 1 is the problem, not send the
// operator to edit federation.signers in the config (the genesis federation
// is right, and "fixing" it would make things worse).
TEST_F(Break14b, ALostBlock1WithAStoredEpochNamesBlock1NotTheConfig) {
  ASSIGN_OR_FAIL(TestNode leader, StartLeader("lost-block1"));
  ASSIGN_OR_FAIL(SignerKey signer07, MakeSignerKey(scenario_->dir().Join("keys07"), "signer-07"));
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, leader.ChainId());
  ASSIGN_OR_FAIL(state::FederationChange change, AddSigner(chain_id, scenario_->signer(), signer07, "add signer-07"));
  HttpReply r = PostText(leader, "/v1/admin/federation-change", state::FederationChangeToJson(change).dump(),
                         leader.AdminToken());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(leader.Terminate(), 0);
  ASSERT_OK(state::tamper::DeleteRawValue(leader.data_dir(), state::kCfBlocks, state::EncodeU64(1)));

  const size_t log_before = ReadAll(leader.log_path()).size();
  Status started = leader.Start(Millis(8000));
  std::string said = ReadAll(leader.log_path()).substr(log_before);
  if (started.ok()) {
    // Running with a problem is acceptable if status names block 1.
    auto st = leader.StatusJson();
    if (st.ok()) said += st->dump();
    leader.Terminate();
  }
  EXPECT_NE(said.find("block 1"), std::string::npos) << said;
  EXPECT_EQ(said.find("federation.signers edited"), std::string::npos)
      << "a lost block 1 is blamed on the config's genesis federation: " << said;
  // verify-state names the lost block and does not blame the genesis either.
  CommandResult v = scenario_->Cli(leader, {"verify-state", leader.data_dir()});
  EXPECT_NE(v.exit_code, 0) << v;
  const std::string out = v.out + v.err;
  EXPECT_NE(out.find("block 1"), std::string::npos) << v;
  EXPECT_EQ(out.find("genesis federation given"), std::string::npos) << "verify-state blames the genesis: " << v;
}

// An unlucky operator after a compromise: signer-01 (here the scenario's
// genesis signer) was replaced by a rotation, then the leader's data dir lost
// block 1 and no node is running. `test-signer` for the retired signer fell
// back to "the config's genesis only", where the retired signer is a member,
// and passed: the retired, compromised key was reported fit to sign (and
// recover-node, which uses the same resolution, would bring it back). A data
// dir that holds a database whose history does not verify is not "nothing
// could be read": the federation in force is unknown and the command says so.
TEST_F(Break14b, ARetiredSignerIsNotPassedWhenTheDataDirHistoryDoesNotVerify) {
  ASSIGN_OR_FAIL(TestNode leader, StartLeader("retired-fallback"));
  ASSIGN_OR_FAIL(SignerKey signer08, MakeSignerKey(scenario_->dir().Join("keys08"), "signer-08"));
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, leader.ChainId());
  const SignerKey& genesis = scenario_->signer();
  ASSIGN_OR_FAIL(state::FederationChange change, AddSigner(chain_id, genesis, signer08, "replace the genesis signer"));
  change.incoming.signers.erase(genesis.id);
  change.approvals.clear();
  ASSERT_OK(state::ApproveChange(change, genesis.id, [&](std::string_view m) { return genesis.key.Sign(m); }));
  HttpReply r = PostText(leader, "/v1/admin/federation-change", state::FederationChangeToJson(change).dump(),
                         leader.AdminToken());
  ASSERT_EQ(r.status, 200) << r.body;
  leader.Terminate();

  // The data dir intact: refused, the signer left (compromise_test covers it).
  CommandResult intact = scenario_->Cli(leader, {"test-signer", "--id", genesis.id, "--key", genesis.key_file});
  ASSERT_NE(intact.exit_code, 0) << intact;
  ASSERT_NE((intact.out + intact.err).find("left the federation"), std::string::npos) << intact;

  ASSERT_OK(state::tamper::DeleteRawValue(leader.data_dir(), state::kCfBlocks, state::EncodeU64(1)));
  CommandResult damaged = scenario_->Cli(leader, {"test-signer", "--id", genesis.id, "--key", genesis.key_file});
  EXPECT_NE(damaged.exit_code, 0) << "the retired signer passed test-signer: " << damaged;
  EXPECT_NE((damaged.out + damaged.err).find("block 1"), std::string::npos) << damaged;
}

// NOT FIXED (DISABLED_, fails when enabled: production answers 200 and goes
// to epoch 1): the chain binding of 8fd99b4 names a chain by the hash of its
// block 1, so it tells apart chains that started apart (a staging network)
// but not a copy of the chain itself: a PITR restore, a drill's restored node
// or a recover-node copy started as a leader shares block 1 with production.
// A rotation rehearsed on such a copy (approved by the real signers, "drill"
// in its reason) is accepted by production as is, and the other way round.
// docs/state-format.md and docs/emergency.md step 5 say so (and tell
// operators never to approve on a copy); the refusal message and Break14's
// comment no longer suggest a copy is caught. Where:
// state::ChangeSigningBytes and FederationHistory::CheckNext
// (src/state/federation_change.cc, federation_history.cc) bind only
// chain_id = hash(block 1). A fix needs the change to name a block a copy
// that went on producing does not share (e.g. the hash of the tip it was
// proposed at, checked to be an ancestor of the including block, with a
// bounded validity window): a format change (v3) through propose/sign/apply
// and verify-state, not small.
TEST_F(Break14b, DISABLED_AChangeRehearsedOnACopyOfTheChainIsRefusedByTheOriginal) {
  ASSIGN_OR_FAIL(TestNode prod, StartLeader("prod"));
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, prod.ChainId());
  ASSERT_EQ(prod.Terminate(), 0);
  // The copy: production's data dir, started as a leader of its own (a
  // PITR / drill restore that went on producing).
  ASSIGN_OR_FAIL(NodeSpec spec, scenario_->WithOwnKeyCopy(NodeSpec::Leader("drill-copy", 50, 10)));
  spec.node_args.push_back("--allow-lone-start");  // a new host for the copy: its key has no fence yet
  TestNode copy = scenario_->AddNode(spec);
  std::error_code ec;
  std::filesystem::remove_all(copy.data_dir(), ec);
  std::filesystem::create_directories(copy.dir(), ec);
  std::filesystem::copy(prod.data_dir(), copy.data_dir(), std::filesystem::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << ec.message();
  std::filesystem::remove(copy.data_dir() + "/LOCK", ec);
  ASSERT_OK(prod.Start());
  ASSERT_OK(copy.Start());
  ASSIGN_OR_FAIL(crypto::Hash256 copy_id, copy.ChainId());
  ASSERT_EQ(copy_id, chain_id) << "the copy shares block 1";

  ASSIGN_OR_FAIL(SignerKey signer09, MakeSignerKey(scenario_->dir().Join("keys09"), "signer-09"));
  ASSIGN_OR_FAIL(state::FederationChange rehearsal,
                 AddSigner(copy_id, scenario_->signer(), signer09, "drill: rehearse adding signer-09"));
  const std::string body = state::FederationChangeToJson(rehearsal).dump();
  HttpReply on_copy = PostText(copy, "/v1/admin/federation-change", body, copy.AdminToken());
  ASSERT_EQ(on_copy.status, 200) << on_copy.body;
  HttpReply on_prod = PostText(prod, "/v1/admin/federation-change", body, prod.AdminToken());
  EXPECT_EQ(on_prod.status, 400) << "production accepted the change rehearsed on its copy: " << on_prod.body;
  ASSIGN_OR_FAIL(json federation, prod.Client().GetJson("/v1/federation"));
  EXPECT_EQ(federation.value("current_epoch", uint64_t{9}), 0u) << federation.dump();
  prod.Terminate();
  copy.Terminate();
}

// An unlucky operator: block 1's stored record was overwritten by another
// block's (a misdirected repair, a bad copy) - it still decodes. The node
// took the hash of whatever header is stored under height 1 as the chain id,
// so it accepted a change naming block 2's hash (which its followers, whose
// block 1 is intact, would refuse: the network splits at that block) and
// refused the change approved for the real chain as "approved for another
// chain". A stored block 1 is the chain's id only if it says height 1 and
// block 2 (when there is one) links to it.
TEST_F(Break14b, ABlock1OverwrittenByAnotherBlockDoesNotBecomeTheChainId) {
  ASSIGN_OR_FAIL(TestNode leader, StartLeader("wrong-block1"));
  ASSIGN_OR_FAIL(crypto::Hash256 chain_id, leader.ChainId());
  ASSERT_OK(leader.WaitForHeight(3, Millis(5000)));
  ASSIGN_OR_FAIL(json doc, leader.Client().GetJson("/v1/blocks/2"));
  auto raw = HexDecode(doc.value("encoded", ""));
  ASSERT_TRUE(raw.has_value());
  ASSIGN_OR_FAIL(state::Block block2, state::DecodeBlock(*raw));
  state::BlockRecord record{block2.header, {}};
  for (const auto& tx : block2.transactions) record.tx_ids.push_back(state::TxId(tx));
  ASSERT_EQ(leader.Terminate(), 0);
  ASSERT_OK(state::tamper::OverwriteRawValue(leader.data_dir(), state::kCfBlocks, state::EncodeU64(1),
                                             state::EncodeBlockRecord(record)));
  ASSERT_OK(leader.Start());

  ASSIGN_OR_FAIL(SignerKey signer10, MakeSignerKey(scenario_->dir().Join("keys10"), "signer-10"));
  ASSIGN_OR_FAIL(state::FederationChange forged,
                 AddSigner(block2.header.Hash(), scenario_->signer(), signer10, "names block 2 as the chain"));
  HttpReply r = PostText(leader, "/v1/admin/federation-change", state::FederationChangeToJson(forged).dump(),
                         leader.AdminToken());
  EXPECT_NE(r.status, 200) << "a change naming block 2's hash as the chain was committed: " << r.body;
  ASSIGN_OR_FAIL(state::FederationChange real,
                 AddSigner(chain_id, scenario_->signer(), signer10, "names the real chain"));
  HttpReply real_reply = PostText(leader, "/v1/admin/federation-change", state::FederationChangeToJson(real).dump(),
                                  leader.AdminToken());
  EXPECT_NE(real_reply.status, 200) << real_reply.body;
  EXPECT_EQ(real_reply.body.find("approved for another chain"), std::string::npos)
      << "the damaged block 1 is not named: " << real_reply.body;
  EXPECT_NE(real_reply.body.find("block 1"), std::string::npos) << real_reply.body;
  leader.Terminate();
}

}  // namespace
}  // namespace ailee::it
