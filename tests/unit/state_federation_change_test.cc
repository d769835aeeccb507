// Federation changes and epochs without a database: encodings, JSON, the
// authorisation rules and the history's bookkeeping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "state/control_records.h"
#include "state/federation_change.h"
#include "state/federation_history.h"
#include "state/transaction.h"
#include "state_federation_testing.h"

namespace ailee::state {
namespace {

using testing::MakeChange;
using testing::MakeFederation;
using testing::SignAs;
using testing::TestChainId;

const Federation& Genesis() {
  static const Federation f = MakeFederation({"signer-01", "signer-02", "signer-03"}, 2);
  return f;
}

FederationChange Rotation(uint64_t height = 10) {
  return MakeChange(TestChainId(), Genesis(), 0, MakeFederation({"signer-02", "signer-03", "signer-04"}, 2), height,
                    {"signer-01", "signer-02"});
}

TEST(FederationEncoding, FederationRoundTripsAndIsCanonical) {
  const std::string bytes = EncodeFederation(Genesis());
  auto back = DecodeFederation(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Genesis());
  EXPECT_EQ(EncodeFederation(*back), bytes);
  EXPECT_EQ(FederationFingerprint(*back), FederationFingerprint(Genesis()));
  Federation other = Genesis();
  other.threshold = 3;
  EXPECT_FALSE(other == Genesis());
  EXPECT_NE(FederationFingerprint(other), FederationFingerprint(Genesis()));
  EXPECT_FALSE(DecodeFederation(bytes + "x").ok());
  EXPECT_FALSE(DecodeFederation(bytes.substr(0, bytes.size() - 1)).ok());
}

TEST(FederationEncoding, ChangeRoundTripsStrictlyInBinaryAndJson) {
  FederationChange c = MakeChange(TestChainId(), Genesis(), 0, MakeFederation({"signer-02", "signer-04"}, 1), 7,
                                  {"signer-04"}, ChangeAuthorization::kBreakGlass, "signer-01's host was compromised");
  const std::string bytes = EncodeFederationChange(c);
  auto back = DecodeFederationChange(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == c);
  EXPECT_EQ(DecodeFederationChange(bytes + std::string(1, '\0')).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeFederationChange(bytes.substr(0, bytes.size() - 3)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeFederationChange("ailee.fedchange.v3" + bytes.substr(18)).status().code(), StatusCode::kDataLoss);

  auto from_json = FederationChangeFromJson(nlohmann::json::parse(FederationChangeToJson(c).dump()));
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  EXPECT_TRUE(*from_json == c);
  nlohmann::json extra = FederationChangeToJson(c);
  extra["activation"] = 1;
  EXPECT_EQ(FederationChangeFromJson(extra).status().code(), StatusCode::kInvalidArgument);
  nlohmann::json bad_auth = FederationChangeToJson(c);
  bad_auth["authorization"] = "operator";
  EXPECT_EQ(FederationChangeFromJson(bad_auth).status().code(), StatusCode::kInvalidArgument);
}

TEST(FederationEncoding, TheChainIdIsSignedAndRoundTrips) {
  FederationChange c = Rotation();
  c.chain_id = crypto::Sha256("block 1 of chain a");
  ASSERT_TRUE(ApproveChange(c, "signer-01", SignAs("signer-01")).ok());
  const std::string bytes = EncodeFederationChange(c);
  EXPECT_EQ(bytes.substr(0, 18), "ailee.fedchange.v2");
  EXPECT_EQ(bytes.substr(18, 32), crypto::HashToString(c.chain_id));  // right after the domain
  auto back = DecodeFederationChange(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->chain_id, c.chain_id);
  EXPECT_TRUE(*back == c);
  const nlohmann::json j = nlohmann::json::parse(FederationChangeToJson(c).dump());  // as it travels
  EXPECT_EQ(j["chain_id"], crypto::HashToHex(c.chain_id));
  auto from_json = FederationChangeFromJson(j);
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  EXPECT_TRUE(*from_json == c);
  // Two chains, two signing byte strings: an approval for one is not one for the other.
  FederationChange other = c;
  other.chain_id = crypto::Sha256("block 1 of chain b");
  EXPECT_NE(ChangeSigningBytes(other), ChangeSigningBytes(c));
  nlohmann::json short_id = j;
  short_id["chain_id"] = "abcd";
  EXPECT_EQ(FederationChangeFromJson(short_id).status().code(), StatusCode::kInvalidArgument);
}

// A v1 record (before a change named its chain) is refused, not read with
// a made-up chain id: pre-release format, no migration.
TEST(FederationEncoding, AVersion1RecordIsRefusedAsDataLoss) {
  const std::string v2 = EncodeFederationChange(Rotation());
  // A v1 record: the v1 domain, no chain id, the rest as v2.
  const std::string v1 = "ailee.fedchange.v1" + v2.substr(18 + 32);
  auto decoded = DecodeFederationChange(v1);
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("format v1"), std::string::npos) << decoded.status().ToString();
  EXPECT_NE(decoded.status().message().find("no migration"), std::string::npos) << decoded.status().ToString();
  // Its JSON form had no chain_id: refused naming what to do.
  nlohmann::json j = nlohmann::json::parse(FederationChangeToJson(Rotation()).dump());
  j.erase("chain_id");
  auto parsed = FederationChangeFromJson(j);
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("propose it again"), std::string::npos) << parsed.status().ToString();
}

TEST(FederationEncoding, ControlTransactionsRoundTripAndKeepTheirShape) {
  for (const Transaction& tx : {MakeFederationChangeTx(Rotation()), MakePegFreezeTx(true, "incident 7", "bob"),
                                MakePegFreezeTx(false, "all clear", "bob")}) {
    SCOPED_TRACE(std::string(TxTypeName(tx.type)));
    EXPECT_TRUE(CheckShape(tx).ok()) << CheckShape(tx).ToString();
    auto decoded = DecodeTransaction(EncodeTransaction(tx));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(*decoded == tx);
    auto parsed = ParseTransactionJson(TransactionToJson(tx).dump());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(*parsed == tx);
    EXPECT_EQ(TxId(*parsed), TxId(tx));
  }
  EXPECT_EQ(CheckShape(MakePegFreezeTx(true, "", "bob")).code(), StatusCode::kInvalidArgument);
  Transaction smuggled = MakePegFreezeTx(true, "x", "bob");
  smuggled.amount = 5;  // a control record carries no value
  EXPECT_EQ(CheckShape(smuggled).code(), StatusCode::kInvalidArgument);
  Transaction transfer_with_change = MakeFederationChangeTx(Rotation());
  transfer_with_change.type = TxType::kTransfer;
  EXPECT_EQ(CheckShape(transfer_with_change).code(), StatusCode::kInvalidArgument);
}

TEST(FederationChangeCheck, AThresholdOfTheOutgoingFederationAuthorises) {
  EXPECT_TRUE(CheckChangeAuthorized(Rotation(10), Genesis(), 10).ok())
      << CheckChangeAuthorized(Rotation(10), Genesis(), 10).ToString();
}

void ExpectRefused(const FederationChange& c, const std::string& part, uint64_t height = 10) {
  Status st = CheckChangeAuthorized(c, Genesis(), height);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
}

TEST(FederationChangeCheck, RefusesTooFewDuplicateAndNonMemberApprovals) {
  Federation incoming = MakeFederation({"signer-02", "signer-03", "signer-04"}, 2);
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01"}),
                "1 approval from the outgoing federation, threshold is 2");
  FederationChange dup = MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01"});
  dup.approvals.push_back(dup.approvals.front());  // the same approval twice counts once
  ExpectRefused(dup, "1 approval from the outgoing federation, threshold is 2");
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01", "signer-09"}),
                "approval by signer-09, which is not a member of the outgoing federation");
  // signer-04 is incoming, not outgoing: no say in a threshold change.
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01", "signer-04"}),
                "approval by signer-04, which is not a member of the outgoing federation");
  FederationChange forged = MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01", "signer-02"});
  forged.approvals[1].signature = *testing::SignerKey("signer-09").Sign(ChangeSigningBytes(forged));
  ExpectRefused(forged, "the approval by signer-02 does not verify");
  // An approval covers the record: changing it afterwards voids them.
  FederationChange altered = Rotation();
  altered.incoming.threshold = 1;
  ExpectRefused(altered, "does not verify");
}

TEST(FederationChangeCheck, RefusesAnIncomingFederationThatCannotWork) {
  ExpectRefused(
      MakeChange(TestChainId(), Genesis(), 0, MakeFederation({"signer-02"}, 2), 10, {"signer-01", "signer-02"}),
      "leaves 1 signer, fewer than the threshold 2");
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, MakeFederation({}, 1), 10, {"signer-01", "signer-02"}),
                "has no signer");
  Federation twins = MakeFederation({"signer-02", "signer-04"}, 1);
  twins.signers.emplace("signer-05", testing::SignerKey("signer-04").public_key());
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, twins, 10, {"signer-01", "signer-02"}), "same public key");
  ExpectRefused(
      MakeChange(TestChainId(), Genesis(), 0, MakeFederation({"signer-02"}, 0), 10, {"signer-01", "signer-02"}),
      "threshold must be at least 1");
  FederationChange long_reason = Rotation();
  long_reason.reason.assign(kMaxChangeReasonBytes + 1, 'r');
  ExpectRefused(long_reason, "reason is 1025 bytes");
}

TEST(FederationChangeCheck, RefusesReplayAgainstAnotherEpochOrHeight) {
  // Made for another federation (e.g. the epoch after the one it replaced).
  Federation later = MakeFederation({"signer-02", "signer-03", "signer-04"}, 2);
  Status st = CheckChangeAuthorized(Rotation(10), later, 10);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("outgoing_fingerprint"), std::string::npos) << st.message();
  ExpectRefused(Rotation(10), "activation_height 11 must be 13", 12);
}

TEST(FederationChangeCheck, BreakGlassNeedsTheIncomingThresholdAndAReason) {
  Federation incoming = MakeFederation({"signer-02", "signer-03", "signer-04"}, 2);
  FederationChange ok = MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-03", "signer-04"},
                                   ChangeAuthorization::kBreakGlass, "signer-01 compromised");
  EXPECT_TRUE(CheckChangeAuthorized(ok, Genesis(), 10).ok()) << CheckChangeAuthorized(ok, Genesis(), 10).ToString();
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-03", "signer-04"},
                           ChangeAuthorization::kBreakGlass),
                "needs a reason");
  // The outgoing members alone (the compromised set) cannot break glass.
  ExpectRefused(MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-01", "signer-02"},
                           ChangeAuthorization::kBreakGlass, "signer-01 compromised"),
                "approval by signer-01, which is not a member of the incoming federation");
  ExpectRefused(
      MakeChange(TestChainId(), Genesis(), 0, incoming, 10, {"signer-04"}, ChangeAuthorization::kBreakGlass, "why"),
      "1 approval from the incoming federation, threshold is 2");
}

TEST(FederationChangeCheck, ApproveReplacesTheSignersEarlierApproval) {
  FederationChange c = Rotation();
  ASSERT_EQ(c.approvals.size(), 2u);
  ASSERT_TRUE(ApproveChange(c, "signer-01", SignAs("signer-01")).ok());
  EXPECT_EQ(c.approvals.size(), 2u);
}

TEST(FederationHistoryTest, EpochsCoverTheirHeightsAndNameWhereASignerStands) {
  FederationHistory h(Genesis());
  h.SetChainId(TestChainId());
  ASSERT_TRUE(h.Append(Rotation(10), 10, crypto::Sha256("tx1")).ok());
  const Federation& second = h.Current().federation;
  FederationChange glass = MakeChange(TestChainId(), second, 1, MakeFederation({"signer-03", "signer-05"}, 1), 20,
                                      {"signer-05"}, ChangeAuthorization::kBreakGlass, "signer-02 and signer-04 lost");
  ASSERT_TRUE(h.Append(glass, 20, crypto::Sha256("tx2")).ok());
  EXPECT_EQ(h.epochs().size(), 3u);
  EXPECT_EQ(h.EpochAt(1).number, 0u);
  EXPECT_EQ(h.EpochAt(10).number, 0u);  // the change's own block is signed under the old epoch
  EXPECT_EQ(h.EpochAt(11).number, 1u);
  EXPECT_EQ(h.EpochAt(21).number, 2u);
  EXPECT_EQ(h.At(500).Find("signer-05") != nullptr, true);
  EXPECT_EQ(h.DescribeSigner("signer-03", 30), "member of epoch 2 (since height 21)");
  EXPECT_EQ(h.DescribeSigner("signer-01", 30), "left the federation at height 11 (epoch 1, threshold)");
  EXPECT_EQ(h.DescribeSigner("signer-04", 30),
            "left the federation at height 21 (epoch 2, break_glass: signer-02 and signer-04 lost)");
  EXPECT_EQ(h.DescribeSigner("signer-05", 15), "not yet a member at height 15 (joins at height 21, epoch 2)");
  EXPECT_EQ(h.DescribeSigner("signer-09", 15), "never a member");

  // A replay of the first change, or a change for a stale epoch, is refused.
  EXPECT_EQ(h.Append(Rotation(30), 30, crypto::Sha256("tx3")).code(), StatusCode::kInvalidArgument);
  FederationChange again =
      MakeChange(TestChainId(), h.Current().federation, 2, MakeFederation({"signer-03"}, 1), 21, {"signer-03"});
  Status one_per_block = h.CheckNext(again, 20);
  EXPECT_NE(one_per_block.message().find("one per block"), std::string::npos) << one_per_block.message();

  nlohmann::json j = FederationHistoryToJson(h);
  EXPECT_EQ(j["current_epoch"], 2);
  EXPECT_EQ(j["epochs"][2]["authorization"], "break_glass");
  EXPECT_EQ(j["epochs"][2]["start_height"], 21);
  EXPECT_EQ(j["epochs"][0]["authorization"], "genesis");
}

// The replay across chains: a staging network run with the production keys
// has an epoch 0 with the same members, so only the chain id tells them apart.
TEST(FederationHistoryTest, AChangeApprovedForAnotherChainIsRefusedNamingBoth) {
  const crypto::Hash256 staging = crypto::Sha256("block 1 of the staging chain");
  FederationHistory production(Genesis());
  production.SetChainId(TestChainId());
  FederationChange replayed =
      MakeChange(staging, Genesis(), 0, MakeFederation({"signer-02", "signer-03", "signer-04"}, 2), 10,
                 {"signer-01", "signer-02"});
  Status st = production.CheckNext(replayed, 10);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("approved for another chain"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(crypto::HashToHex(staging).substr(0, 16)), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(crypto::HashToHex(TestChainId()).substr(0, 16)), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("a staging chain"), std::string::npos) << st.message();
  EXPECT_EQ(production.Append(replayed, 10, crypto::Sha256("tx")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(production.epochs().size(), 1u);
  // Relabelled for this chain without new approvals: they no longer verify.
  FederationChange relabelled = replayed;
  relabelled.chain_id = TestChainId();
  Status relabel = production.CheckNext(relabelled, 10);
  EXPECT_EQ(relabel.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(relabel.message().find("does not verify"), std::string::npos) << relabel.message();
  // The staging chain itself takes it.
  FederationHistory staging_history(Genesis());
  staging_history.SetChainId(staging);
  EXPECT_TRUE(staging_history.CheckNext(replayed, 10).ok()) << staging_history.CheckNext(replayed, 10).ToString();
}

TEST(FederationHistoryTest, BlockOneCannotCarryAChangeAndAnUnknownChainChecksNone) {
  FederationHistory h(Genesis());
  h.SetChainId(TestChainId());
  // Block 1's hash is the chain id, and block 1's content (its transactions)
  // decides that hash: no change can name it from inside.
  Status in_block_one = h.CheckNext(Rotation(1), 1);
  EXPECT_EQ(in_block_one.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(in_block_one.message().find("block 1 cannot carry a federation change"), std::string::npos)
      << in_block_one.message();
  EXPECT_TRUE(h.CheckNext(Rotation(2), 2).ok()) << h.CheckNext(Rotation(2), 2).ToString();
  // A history that was never told its chain (block 1 missing) accepts nothing.
  FederationHistory unknown(Genesis());
  Status st = unknown.CheckNext(Rotation(10), 10);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("the chain's id (the hash of its block 1) is not known"), std::string::npos)
      << st.message();
  // The history's JSON names the chain once it is known.
  EXPECT_EQ(FederationHistoryToJson(h)["chain_id"], crypto::HashToHex(TestChainId()));
  EXPECT_FALSE(FederationHistoryToJson(unknown).contains("chain_id"));
}

TEST(ControlRecords, EncodingsRoundTripAndAreStrict) {
  FederationHistory h(Genesis());
  h.SetChainId(TestChainId());
  ASSERT_TRUE(h.Append(Rotation(10), 10, crypto::Sha256("tx1")).ok());
  const FederationEpoch& e = h.Current();
  const std::string bytes = EncodeEpochRecord(e);
  auto back = DecodeEpochRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->number, 1u);
  EXPECT_EQ(back->start_height, 11u);
  EXPECT_TRUE(back->federation == e.federation);
  EXPECT_TRUE(*back->change == *e.change);
  EXPECT_EQ(back->change_tx_id, e.change_tx_id);
  EXPECT_EQ(*ControlRecordLastHeight(bytes), 10u);
  EXPECT_FALSE(DecodeEpochRecord(bytes + "x").ok());
  EXPECT_FALSE(DecodePegFreezeRecord(bytes).ok());

  PegFreezeRecord f{true, 42, "incident", "bob"};
  auto fb = DecodePegFreezeRecord(EncodePegFreezeRecord(f));
  ASSERT_TRUE(fb.ok());
  EXPECT_TRUE(*fb == f);
  EXPECT_EQ(*ControlRecordLastHeight(EncodePegFreezeRecord(f)), 42u);
  EXPECT_EQ(ParseEpochKey(EpochKey(7)), std::optional<uint64_t>(7));
  EXPECT_EQ(ParseEpochKey("pegs_frozen"), std::nullopt);
}

}  // namespace
}  // namespace ailee::state
