// Stateless formats: transaction encoding and JSON, Merkle root, anchor
// payload, LtHash algebra, block wire encoding.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "state/block.h"
#include "state/encoding.h"
#include "state/records.h"
#include "state/state_root.h"
#include "state/transaction.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::BtcTxid;
using testing::TestFederation;
using testing::User;

TEST(TransactionFormat, EncodingRoundTripsAndIdCoversSignature) {
  TestFederation fed;
  std::vector<Transaction> txs = {MakeTransfer(User(0), User(1).public_key, 5, 0, "hello"),
                                  fed.PegIn(User(0).public_key, 100, 1, 0),
                                  MakePegOut(User(0), "bc1qexampleaddress", 7, 1)};
  for (const auto& tx : txs) {
    auto back = DecodeTransaction(EncodeTransaction(tx));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, tx);
    EXPECT_TRUE(CheckSignature(tx, fed.federation).ok());
    auto json = TransactionFromJson(TransactionToJson(tx));
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    EXPECT_EQ(*json, tx);
    Transaction other = tx;
    other.signature[0] ^= 1;
    EXPECT_NE(TxId(other), TxId(tx));
    EXPECT_EQ(CheckSignature(other, fed.federation).code(), StatusCode::kInvalidArgument);
  }
  std::string enc = EncodeTransaction(txs[0]);
  EXPECT_FALSE(DecodeTransaction(enc + "x").ok());
  EXPECT_FALSE(DecodeTransaction(enc.substr(0, enc.size() - 1)).ok());
}

TEST(TransactionFormat, SigningBytesAreTheDocumentedLayout) {
  Transaction tx = MakeTransfer(User(0), User(1).public_key, 0x0102, 3, "m");
  std::string want = "ailee.tx.v1";
  want += '\x01';
  PutBytes(&want, User(0).public_key);
  PutBytes(&want, User(1).public_key);
  PutU64(&want, 0x0102);
  PutU64(&want, 3);
  PutBytes(&want, "m");
  EXPECT_EQ(SigningBytes(tx), want);
  std::string full = want;
  PutBytes(&full, tx.signature);
  EXPECT_EQ(TxId(tx), crypto::Sha256(full));
}

Status FromJsonText(const std::string& text) { return ParseTransactionJson(text).status(); }

TEST(TransactionFormat, JsonErrorsNameTheField) {
  const std::string from = HexEncode(User(0).public_key), to = HexEncode(User(1).public_key);
  const std::string sig(128, 'a');
  auto base = [&](const std::string& amount, const std::string& to_field) {
    return R"({"type":"transfer","from":")" + from + R"(","to":)" + to_field + R"(,"amount":)" + amount +
           R"(,"nonce":0,"signature":")" + sig + R"("})";
  };
  EXPECT_TRUE(FromJsonText(base("5", "\"" + to + "\"")).ok());
  struct Case {
    std::string text, needle;
  } cases[] = {
      {base("18446744073709551616", "\"" + to + "\""), "amount"},  // 2^64: overflow
      {base("-1", "\"" + to + "\""), "amount"},
      {base("1.5", "\"" + to + "\""), "amount"},
      {base("0", "\"" + to + "\""), "amount"},
      {base("5", "\"zz" + to.substr(2) + "\""), "to"},
      {base("5", "\"" + to.substr(2) + "\""), "to"},
      {base("5", "7"), "to"},
      {R"({"type":"transfer","from":")" + from + R"(","amount":1,"nonce":0,"signature":"aa"})", "to"},
      {R"({"type":"mint","amount":1})", "type"},
      {R"({"type":"peg_in","signer":"s","to":")" + to + R"(","amount":1,"nonce":0,"btc_txid":"abcd","signature":"aa"})",
       "btc_txid"},
      {R"({"type":"transfer","from":")" + from + R"(","to":")" + to +
           R"(","amount":1,"nonce":0,"signature":"aa","memo":")" + std::string(kMaxMemoBytes + 1, 'x') + R"("})",
       "memo"},
      {R"({"type":"peg_out","from":")" + from + R"(","btc_address":"bad address","amount":1,"nonce":0,"signature":"aa"})",
       "btc_address"},
      {"{not json", "JSON"},
  };
  for (const auto& c : cases) {
    Status st = FromJsonText(c.text);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(st.message().find(c.needle), std::string::npos) << st.message();
  }
}

TEST(BlockFormat, MerkleRootIsDomainSeparatedAndPromotesOddNode) {
  EXPECT_EQ(MerkleRoot({}), crypto::Hash256{});
  crypto::Hash256 a = crypto::Sha256("a"), b = crypto::Sha256("b"), c = crypto::Sha256("c");
  auto leaf = [](const crypto::Hash256& h) { return crypto::Sha256(std::string(1, '\0') + crypto::HashToString(h)); };
  auto node = [](const crypto::Hash256& l, const crypto::Hash256& r) {
    return crypto::Sha256(std::string(1, '\x01') + crypto::HashToString(l) + crypto::HashToString(r));
  };
  EXPECT_EQ(MerkleRoot({a}), leaf(a));
  EXPECT_EQ(MerkleRoot({a, b, c}), node(node(leaf(a), leaf(b)), leaf(c)));
  EXPECT_NE(MerkleRoot({a, b}), MerkleRoot({b, a}));
}

TEST(BlockFormat, AnchorPayloadLayoutAndChecks) {
  TestFederation fed;
  crypto::Hash256 hash = crypto::Sha256("block"), root = crypto::Sha256("root");
  auto a = MakeAnchor(0x0102030405060708ull, hash, root, fed.key, fed.id);
  ASSERT_TRUE(a.ok());
  const std::string& p = a->op_return_payload;
  ASSERT_EQ(p.size(), 80u);
  EXPECT_EQ(p.substr(0, 4), "AIL1");
  EXPECT_EQ(HexEncode(p.substr(4, 8)), "0102030405060708");
  EXPECT_EQ(p.substr(12, 32), crypto::HashToString(hash));
  EXPECT_EQ(p.substr(44, 32), crypto::HashToString(root));
  EXPECT_EQ(p.substr(76, 4), crypto::HashToString(crypto::Sha256(p.substr(0, 76))).substr(0, 4));
  EXPECT_TRUE(CheckAnchor(*a, &fed.federation).ok());

  for (size_t i : {0u, 10u, 50u, 78u}) {
    AnchorCommitment bad = *a;
    bad.op_return_payload[i] ^= 1;
    EXPECT_EQ(CheckAnchor(bad, nullptr).code(), StatusCode::kDataLoss) << i;
  }
  AnchorCommitment wrong_root = *a;
  wrong_root.state_root[0] ^= 1;  // payload no longer matches the recorded root
  EXPECT_EQ(CheckAnchor(wrong_root, nullptr).code(), StatusCode::kDataLoss);
  AnchorCommitment bad_sig = *a;
  bad_sig.signature[3] ^= 1;
  EXPECT_TRUE(CheckAnchor(bad_sig, nullptr).ok());  // without a federation the signature is not checked
  EXPECT_EQ(CheckAnchor(bad_sig, &fed.federation).code(), StatusCode::kDataLoss);
  auto decoded = DecodeAnchor(EncodeAnchor(*a));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, *a);
}

TEST(BlockFormat, BlockWireEncodingRoundTrips) {
  TestFederation fed;
  Block b;
  b.header.height = 4;
  b.header.prev_hash = crypto::Sha256("p");
  b.transactions = {fed.PegIn(User(2).public_key, 9, 3, 0), MakeTransfer(User(2), User(3).public_key, 1, 0)};
  b.header.tx_root = TxRoot(b.transactions);
  b.header.signer_id = fed.id;
  b.header.signature = *fed.key.Sign(crypto::HashToString(b.header.Hash()));
  b.anchor = *MakeAnchor(4, b.header.Hash(), b.header.state_root, fed.key, fed.id);
  auto back = DecodeBlock(EncodeBlock(b));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
  EXPECT_TRUE(CheckBlockSignature(back->header, fed.federation).ok());
  std::string enc = EncodeBlock(b);
  EXPECT_FALSE(DecodeBlock(enc + std::string(1, '\0')).ok());
  EXPECT_FALSE(DecodeBlock(enc.substr(0, enc.size() - 3)).ok());
  EXPECT_EQ(BlockToJson(b)["transactions"].size(), 2u);
}

TEST(StateRoot, EmptyRootIsHashOfZeroAccumulator) {
  EXPECT_EQ(EmptyStateRoot(), crypto::Sha256(std::string(2048, '\0')));
  EXPECT_EQ(LtHash().ToBytes(), std::string(2048, '\0'));
}

TEST(StateRoot, ElementIsAesCtrExpansionOfEntryDigest) {
  // Independent re-implementation of one element, straight from the doc.
  std::string buf;
  PutU8(&buf, 8);
  buf += "accounts";
  PutBytes(&buf, "key");
  PutBytes(&buf, "value");
  crypto::Hash256 d = crypto::Sha256(buf);
  EXPECT_EQ(StateEntryDigest("accounts", "key", "value"), d);
  unsigned char zeros[2048] = {}, out[2048];
  unsigned char iv[16] = {};
  int len = 0;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, d.data(), iv), 1);
  ASSERT_EQ(EVP_EncryptUpdate(ctx, out, &len, zeros, sizeof(zeros)), 1);
  EVP_CIPHER_CTX_free(ctx);
  LtHash h;
  h.Add("accounts", "key", "value");
  EXPECT_EQ(h.ToBytes(), std::string(reinterpret_cast<char*>(out), sizeof(out)));  // 0 + e = e, lanes little-endian
}

TEST(StateRoot, OrderIndependentAndRemoveIsInverse) {
  LtHash a, b;
  for (int i = 0; i < 50; ++i) a.Add("accounts", "k" + std::to_string(i), "v" + std::to_string(i));
  for (int i = 49; i >= 0; --i) b.Add("accounts", "k" + std::to_string(i), "v" + std::to_string(i));
  EXPECT_EQ(a.Root(), b.Root());
  LtHash c = a;
  c.Add("pegins", "x", "y");
  EXPECT_NE(c.Root(), a.Root());
  c.Remove("pegins", "x", "y");
  EXPECT_EQ(c.Root(), a.Root());
  // The CF name is part of the element: same key/value under another CF differs.
  LtHash d1, d2;
  d1.Add("accounts", "k", "v");
  d2.Add("pegouts", "k", "v");
  EXPECT_NE(d1.Root(), d2.Root());
  auto parsed = LtHash::FromBytes(a.ToBytes());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, a);
  EXPECT_EQ(LtHash::FromBytes("short").status().code(), StatusCode::kDataLoss);
}

TEST(Records, RoundTripAndRejectTrailingBytes) {
  Account a{1, 2, 3};
  EXPECT_EQ(*DecodeAccount(EncodeAccount(a)), a);
  EXPECT_EQ(EncodeAccount(a).size(), 25u);
  EXPECT_FALSE(DecodeAccount(EncodeAccount(a) + "x").ok());
  PegInRecord p{User(0).public_key, 5, "signer-1", crypto::Sha256("t"), 9};
  EXPECT_EQ(*DecodePegIn(EncodePegIn(p)), p);
  EXPECT_EQ(*RecordLastHeight(kCfPegIns, EncodePegIn(p)), 9u);
  std::vector<WriteSetEntry> ws = {{"accounts", "k", crypto::Sha256("v")}};
  EXPECT_EQ(*DecodeWriteSet(EncodeWriteSet(ws)), ws);
}

}  // namespace
}  // namespace ailee::state
