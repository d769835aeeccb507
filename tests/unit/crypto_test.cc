#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/asymmetric.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace ailee::crypto {
namespace {

TEST(HashTest, Sha256KnownAnswer) {
  EXPECT_EQ(HashToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  EXPECT_EQ(s.Finish(), Sha256("abc"));
}

TEST(AeadTest, RoundTripAndTamperDetection) {
  SecureBytes key(RandomBytes(32));
  auto sealed = AeadSeal(key, "secret data", "obj-1");
  ASSERT_TRUE(sealed.ok());
  auto opened = AeadOpen(key, *sealed, "obj-1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "secret data");

  EXPECT_EQ(AeadOpen(key, *sealed, "obj-2").status().code(), StatusCode::kDataLoss);
  std::string flipped = *sealed;
  flipped[15] ^= 1;
  EXPECT_EQ(AeadOpen(key, flipped, "obj-1").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key, sealed->substr(0, 20), "obj-1").status().code(), StatusCode::kDataLoss);
  SecureBytes other(RandomBytes(32));
  EXPECT_EQ(AeadOpen(other, *sealed, "obj-1").status().code(), StatusCode::kDataLoss);
}

TEST(KdfTest, Argon2idIsDeterministicPerSaltAndPassphrase) {
  std::string salt(16, 's');
  auto a = DeriveKeyArgon2id("pw", salt, Argon2Params::ForTests());
  auto b = DeriveKeyArgon2id("pw", salt, Argon2Params::ForTests());
  auto c = DeriveKeyArgon2id("pw2", salt, Argon2Params::ForTests());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(*a == *b);
  EXPECT_FALSE(*a == *c);
}

TEST(Ed25519Test, SignVerify) {
  auto kp = Ed25519Generate();
  std::string sig = Ed25519Sign(kp, "msg");
  EXPECT_TRUE(Ed25519Verify(kp.public_key, "msg", sig));
  EXPECT_FALSE(Ed25519Verify(kp.public_key, "msh", sig));
}

class AsymmetricTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(AsymmetricTest, PemRoundTripSignVerifyFingerprint) {
  auto key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  auto again = PrivateKey::FromPem(*pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->type(), GetParam());
  EXPECT_EQ(again->public_key().FingerprintHex(), key->public_key().FingerprintHex());
  auto sig = again->Sign("challenge");
  ASSERT_TRUE(sig.ok());
  auto pub = PublicKey::FromPem(key->public_key().Pem());
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Verify("challenge", *sig));
  EXPECT_FALSE(pub->Verify("challengf", *sig));
  auto raw = key->RawPrivate();
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 32u);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, AsymmetricTest,
                         ::testing::Values(KeyType::kEd25519, KeyType::kSecp256k1, KeyType::kP256));

}  // namespace
}  // namespace ailee::crypto
