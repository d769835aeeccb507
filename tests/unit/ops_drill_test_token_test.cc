// The key drill's PKCS#11 test token (ops/drill/test_token.h) on SoftHSM2:
// the production signer's token is refused before the module is loaded; a
// label already on the token is refused (the drill never adds to, or later
// destroys, an object it did not make); import then destroy leaves nothing;
// OpenTestToken destroys only objects whose owner process is gone.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/scratch.h"
#include "keys_testing.h"
#include "ops/drill/test_token.h"

namespace ailee::ops {
namespace {

using keys::keytest::SoftHsm;

const crypto::SecureBytes kPin("1234");
constexpr const char* kPrefix = "ailee-key-drill-";

class DrillTestTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SoftHsm::Available()) GTEST_SKIP() << "softhsm2 absent (scripts/install-deps.sh installs it)";
    hsm_ = std::make_unique<SoftHsm>();
    auto r = hsm_->InitToken("drill");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  DrillTestToken Token() const { return {SoftHsm::kModule, "drill", &kPin, "prod"}; }
  std::unique_ptr<SoftHsm> hsm_;
};

TEST_F(DrillTestTokenTest, TheProductionTokenIsRefusedBeforeTheModuleIsLoaded) {
  DrillTestToken t = Token();
  t.production_token_label = "drill";
  t.module = "/nonexistent/module.so";  // loading it would fail with NotFound, not this
  Status st = CheckTestToken(t);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("production signer's token"), std::string::npos) << st.ToString();
  EXPECT_EQ(OpenTestToken(t, kPrefix).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DrillTestTokenTest, ALabelInUseIsRefusedAndImportThenDestroyLeavesNothing) {
  auto opened = OpenTestToken(Token(), kPrefix);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  keys::Pkcs11Token& token = *opened->token;
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const std::string label = fs::ScratchName(kPrefix);
  // Someone's object under the label the drill would use, even the same key.
  ASSERT_TRUE(token.ImportKeyPair(key, {label, ""}).ok());
  EXPECT_EQ(ImportDrillKey(token, key, label).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*token.KeyLabels(), std::vector<std::string>{label}) << "the refused import touched the object";
  ASSERT_TRUE(DestroyDrillKey(token, label).ok());

  ASSERT_TRUE(ImportDrillKey(token, key, label).ok());
  EXPECT_EQ(*token.KeyLabels(), std::vector<std::string>{label});
  ASSERT_TRUE(DestroyDrillKey(token, label).ok());
  EXPECT_TRUE(token.KeyLabels()->empty());
}

TEST_F(DrillTestTokenTest, OnlyObjectsOfGoneOwnersAreDestroyedOnOpen) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = std::string(kPrefix) + std::to_string(child) + "s1-0123456789ab";
  const std::string live = fs::ScratchName(kPrefix);
  const std::string other = "signer-01";  // not a drill's at all
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  {
    auto t = keys::Pkcs11Token::Open(SoftHsm::kModule, "drill", kPin);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    for (const auto& l : {dead, live, other}) ASSERT_TRUE((*t)->ImportKeyPair(key, {l, ""}).ok()) << l;
  }
  auto opened = OpenTestToken(Token(), kPrefix);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->removed, std::vector<std::string>{dead});
  std::vector<std::string> expected = {live, other};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(*opened->token->KeyLabels(), expected);
}

}  // namespace
}  // namespace ailee::ops
