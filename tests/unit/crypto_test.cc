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
  EXPECT_EQ(s.Finish().value(), Sha256("abc"));
  s.Update("xyz");
  EXPECT_EQ(s.Finish().value(), Sha256("xyz")) << "Finish starts the stream afresh";
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

TEST(AeadTest, InPlaceFormsAreByteCompatible) {
  SecureBytes key(RandomBytes(32));
  const std::string plain = RandomBytes(100000);
  std::string sealed(plain.size() + kAeadOverhead, '\0');
  ASSERT_TRUE(AeadSealInto(key, plain, "ad", sealed.data()).ok());
  EXPECT_EQ(*AeadOpen(key, sealed, "ad"), plain);

  auto in_place = *AeadSeal(key, plain, "ad");
  auto opened = AeadOpenInPlace(key, in_place.data(), in_place.size(), "ad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->data(), in_place.data() + kAeadNonceSize);
  EXPECT_EQ(*opened, plain);

  auto tampered = *AeadSeal(key, plain, "ad");
  tampered[tampered.size() - 1] ^= 1;
  EXPECT_EQ(AeadOpenInPlace(key, tampered.data(), tampered.size(), "ad").status().code(), StatusCode::kDataLoss);
  auto wrong_ad = *AeadSeal(key, plain, "ad");
  EXPECT_EQ(AeadOpenInPlace(key, wrong_ad.data(), wrong_ad.size(), "other").status().code(), StatusCode::kDataLoss);
  char shortbuf[10] = {};
  EXPECT_EQ(AeadOpenInPlace(key, shortbuf, sizeof shortbuf, "ad").status().code(), StatusCode::kDataLoss);
}

TEST(KdfTest, HkdfSha256KnownAnswer) {
  // RFC 5869, test case 2 (the one with at least 32 bytes of input key material).
  std::string ikm, salt, info;
  for (int i = 0x00; i <= 0x4f; ++i) ikm.push_back(static_cast<char>(i));
  for (int i = 0x60; i <= 0xaf; ++i) salt.push_back(static_cast<char>(i));
  for (int i = 0xb0; i <= 0xff; ++i) info.push_back(static_cast<char>(i));
  auto okm = DeriveKeyHkdfSha256(ikm, salt, info, 82);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : okm->view()) {
    hex.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    hex.push_back(kHex[static_cast<uint8_t>(c) & 15]);
  }
  EXPECT_EQ(hex,
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  EXPECT_EQ(DeriveKeyHkdfSha256(std::string(31, 'k'), salt, info).status().code(), StatusCode::kInvalidArgument);
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
