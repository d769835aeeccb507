// federation propose/sign offline: the proposal file round-trips; an
// approval is refused for a non-member and for a key that is not the
// member's it claims (nothing written); a tampered `outgoing` is refused;
// a break-glass change is approved by the incoming signers; re-signing
// replaces an approval instead of counting it twice. The federation in
// force: a signer a later epoch added is live, one that left is refused
// naming the height, an unknown one is not found; with no source readable
// the genesis alone is in force and says so.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/fs.h"
#include "crypto/hash.h"
#include "keys/signer.h"
#include "ops/federation/in_force.h"
#include "ops/federation/proposal.h"
#include "ops/federation/sign.h"

namespace ailee::ops::federation {
namespace {

struct Key {
  std::string id, path;
  crypto::PublicKey pub;
};

class FederationProposalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-fed-proposal-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    for (const char* id : {"signer-01", "signer-02", "signer-03", "signer-04"}) keys_.push_back(MakeKey(id));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Key MakeKey(const std::string& id) {
    auto k = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    EXPECT_TRUE(k.ok());
    auto pem = k->ToPem();
    const std::string path = dir_ + "/" + id + ".key";
    EXPECT_TRUE(fs::WriteFileAtomic(path, pem->view(), 0600).ok());
    return {id, path, k->public_key()};
  }
  std::unique_ptr<keys::Signer> SignerOf(const Key& k) {
    auto s = keys::FileSigner::Open(k.path);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  state::Federation FederationOf(std::initializer_list<int> members, int threshold) {
    state::Federation f;
    f.threshold = threshold;
    for (int i : members) f.signers.emplace(keys_[i].id, keys_[i].pub);
    return f;
  }
  // 2-of-3 {01,02,03} -> {02,03,04}, written to `path`.
  std::string WriteProposalFile(state::ChangeAuthorization auth) {
    Proposal p;
    p.outgoing_epoch = 0;
    p.outgoing = FederationOf({0, 1, 2}, 2);
    p.change.chain_id = kChainId;
    p.change.outgoing_epoch = 0;
    p.change.outgoing_fingerprint = state::FederationFingerprint(p.outgoing);
    p.change.incoming = FederationOf({1, 2, 3}, 2);
    p.change.authorization = auth;
    p.change.reason = "signer-01 key exposed";
    p.change.operator_id = "alice";
    const std::string path = dir_ + "/change.json";
    EXPECT_TRUE(WriteProposal(path, p).ok());
    return path;
  }

  const crypto::Hash256 kChainId = crypto::Sha256("block 1 of the chain the proposals are for");
  std::string dir_;
  std::vector<Key> keys_;
};

TEST_F(FederationProposalTest, RoundTripsAndDescribesWhatChanges) {
  const std::string path = WriteProposalFile(state::ChangeAuthorization::kThreshold);
  auto p = ReadProposal(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->change.incoming, FederationOf({1, 2, 3}, 2));
  ProposalStatus st = Assess(*p);
  EXPECT_EQ(st.added, std::vector<std::string>{"signer-04"});
  EXPECT_EQ(st.removed, std::vector<std::string>{"signer-01"});
  EXPECT_EQ(st.approvers, (std::vector<std::string>{"signer-01", "signer-02", "signer-03"}));
  EXPECT_EQ(st.approvals_needed, 2);
  EXPECT_FALSE(st.ready());
  EXPECT_EQ(p->change.chain_id, kChainId);
  // What a signer is shown names the chain first.
  EXPECT_EQ(
      DescribeProposal(*p, st).rfind("chain " + crypto::HashToHex(kChainId).substr(0, 16) + "..., epoch 0 -> 1:", 0),
      0u)
      << DescribeProposal(*p, st);
}

TEST_F(FederationProposalTest, ThresholdChangeIsApprovedByOutgoingMembersUntilReady) {
  const std::string path = WriteProposalFile(state::ChangeAuthorization::kThreshold);
  auto s1 = SignProposal({path, "signer-01"}, *SignerOf(keys_[0]));
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_FALSE(s1->status.ready());
  // Signing again replaces the approval: still one.
  auto again = SignProposal({path, "signer-01"}, *SignerOf(keys_[0]));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replaced);
  EXPECT_EQ(again->status.approved_by.size(), 1u);
  auto s2 = SignProposal({path, "signer-02"}, *SignerOf(keys_[1]));
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(s2->status.ready());
  auto back = ReadProposal(path);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(Assess(*back).ready());
}

TEST_F(FederationProposalTest, NonMemberAndWrongKeyAreRefusedAndNothingIsWritten) {
  const std::string path = WriteProposalFile(state::ChangeAuthorization::kThreshold);
  auto before = fs::ReadFile(path);
  // signer-04 is incoming, not outgoing: it cannot approve a threshold change.
  auto outsider = SignProposal({path, "signer-04"}, *SignerOf(keys_[3]));
  ASSERT_FALSE(outsider.ok());
  EXPECT_NE(outsider.status().message().find("approval by signer-04, which is not a member of the outgoing federation"),
            std::string::npos)
      << outsider.status().ToString();
  // signer-03's key presented as signer-02's.
  auto impostor = SignProposal({path, "signer-02"}, *SignerOf(keys_[2]));
  ASSERT_FALSE(impostor.ok());
  EXPECT_NE(impostor.status().message().find("is not signer-02's"), std::string::npos) << impostor.status().ToString();
  EXPECT_EQ(*fs::ReadFile(path), *before);
}

TEST_F(FederationProposalTest, BreakGlassIsApprovedByIncomingMembers) {
  const std::string path = WriteProposalFile(state::ChangeAuthorization::kBreakGlass);
  EXPECT_FALSE(SignProposal({path, "signer-01"}, *SignerOf(keys_[0])).ok()) << "the compromised signer cannot approve";
  ASSERT_TRUE(SignProposal({path, "signer-04"}, *SignerOf(keys_[3])).ok());
  auto s = SignProposal({path, "signer-02"}, *SignerOf(keys_[1]));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->status.ready());
  EXPECT_EQ(s->status.approved_by, (std::vector<std::string>{"signer-04", "signer-02"}));
}

TEST_F(FederationProposalTest, EditedOutgoingOrChangeIsRefused) {
  const std::string path = WriteProposalFile(state::ChangeAuthorization::kThreshold);
  ASSERT_TRUE(SignProposal({path, "signer-01"}, *SignerOf(keys_[0])).ok());
  auto doc = nlohmann::json::parse(*fs::ReadFile(path));
  // An attacker swaps signer-02's key in `outgoing` for one they hold, to
  // approve as signer-02: the fingerprint the change signs no longer matches.
  nlohmann::json forged = doc;
  for (auto& s : forged["outgoing"]["signers"])
    if (s["id"] == "signer-02") s["public_key_pem"] = keys_[3].pub.Pem();
  auto p = ProposalFromJson(forged);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not the federation the change replaces"), std::string::npos)
      << p.status().ToString();
  // A raised threshold after signing: the approval no longer verifies.
  nlohmann::json edited = doc;
  edited["change"]["incoming"]["threshold"] = 3u;
  auto e = ProposalFromJson(edited);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ProposalStatus st = Assess(*e);
  EXPECT_TRUE(st.approved_by.empty());
  ASSERT_EQ(st.bad_approvals.size(), 1u);
  EXPECT_NE(st.bad_approvals[0].find("signature does not verify"), std::string::npos);
  // Retargeted at another chain after signing: the approval covers the chain id.
  nlohmann::json retargeted = doc;
  retargeted["change"]["chain_id"] = crypto::HashToHex(crypto::Sha256("a staging chain's block 1"));
  auto r = ProposalFromJson(retargeted);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Assess(*r).approved_by.empty());
  // A file written before changes named their chain says so.
  nlohmann::json old_format = doc;
  old_format["change"].erase("chain_id");
  auto o = ProposalFromJson(old_format);
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("no \"chain_id\""), std::string::npos) << o.status().ToString();
  EXPECT_NE(o.status().message().find("propose it again"), std::string::npos) << o.status().ToString();
}

TEST_F(FederationProposalTest, InForceKnowsLaterSignersAndRefusesRetiredOnes) {
  // Epoch 1 from height 11: {01,02,03} 2-of-3 -> {02,03,04}, approved by 01 and 02.
  const state::Federation genesis = FederationOf({0, 1, 2}, 2);
  state::FederationChange change;
  change.chain_id = kChainId;
  change.outgoing_fingerprint = state::FederationFingerprint(genesis);
  change.activation_height = 11;
  change.incoming = FederationOf({1, 2, 3}, 2);
  for (int i : {0, 1}) {
    auto signer = SignerOf(keys_[i]);
    ASSERT_TRUE(state::ApproveChange(change, keys_[i].id, [&](std::string_view m) { return signer->Sign(m); }).ok());
  }
  state::FederationHistory history(genesis);
  history.SetChainId(kChainId);
  ASSERT_TRUE(history.Append(change, 10, crypto::Hash256{}).ok());
  FederationInForce fed(history, "test history", {}, {{"signer-99", keys_[0].pub}});

  auto added = fed.LiveKey("signer-04");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->epoch, 1u);
  EXPECT_EQ(added->key.FingerprintHex(), keys_[3].pub.FingerprintHex());
  EXPECT_EQ(added->against, "epoch 1 (in force since height 11; test history)");
  auto retired = fed.LiveKey("signer-01");
  ASSERT_EQ(retired.status().code(), StatusCode::kFailedPrecondition) << retired.status().ToString();
  EXPECT_NE(retired.status().message().find("signer-01 left the federation at height 11"), std::string::npos)
      << retired.status().ToString();
  EXPECT_EQ(fed.LiveKey("signer-07").status().code(), StatusCode::kNotFound);
  auto given = fed.LiveKey("signer-99");
  ASSERT_TRUE(given.ok());
  EXPECT_NE(given->against.find("--federation-key signer-99"), std::string::npos);
  // Backups of every listed key still check (signer-01's is needed for history).
  EXPECT_EQ(fed.KnownKeys().size(), 5u);

  // Nothing readable: the genesis alone, and the description says so.
  InForceOptions none;
  none.genesis = genesis;
  none.node_urls = {"http://127.0.0.1:1"};
  auto alone = ResolveFederationInForce(none);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_EQ(alone->epoch().number, 0u);
  EXPECT_NE(alone->Describe().find("the config's genesis only"), std::string::npos) << alone->Describe();
  EXPECT_EQ(alone->LiveKey("signer-04").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ailee::ops::federation
