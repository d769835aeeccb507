// ailee-cli keys generate / keys retire end to end, with the real tools:
// a new key file is 0400, never written over or through anything at its
// path, backed up so that stock gpg opens it, and signs; a key generated on
// a SoftHSM2 token stays there (sensitive, never extractable) and its label
// is never reused; a retired key's fence refuses to sign (also a running
// leader's, also after the key is restored from a backup) and nothing of
// the old key is deleted.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "crypto/hash.h"
#include "keys/pkcs11.h"
#include "keys/retirement.h"
#include "keys/signing_fence.h"
#include "keys_testing.h"

namespace ailee::keys {
namespace {

using keytest::ProcResult;
using keytest::SoftHsm;
using keytest::TempDir;

class KeysRotateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KEYTEST_REQUIRE_CLI();
  }
  ProcResult Cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    return cli.Cli(args, env);
  }
  std::string Audit() { return cli.Audit(); }
  keytest::CliRoot cli{"generate pass phrase"};
  const TempDir& root = cli.root;
  const std::string& pass_file = cli.pass_file;
};

TEST_F(KeysRotateCliTest, GenerateToFileIs0400BackedUpForStockGpgAndSigns) {
  const std::string key = root / "keys/signer-04.key";
  auto g = Cli({"--json", "keys", "generate", "--id", "signer-04", "--key-file", key, "--out", root / "b1", "--out",
                root / "b2", "--passphrase-file", pass_file, "--public-key-out", root / "signer-04.pub"});
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  auto j = nlohmann::json::parse(g.out);
  struct stat sb {};
  ASSERT_EQ(::stat(key.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0400u);
  crypto::SecureBytes pem(*fs::ReadFile(key));
  auto priv = crypto::PrivateKey::FromPem(pem);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  EXPECT_EQ(j["fingerprint"], priv->public_key().FingerprintHex());
  EXPECT_EQ(j["key_type"], "ed25519");  // no federation configured: the default type
  EXPECT_EQ(j["public_key_pem"], priv->public_key().Pem());
  EXPECT_EQ(*fs::ReadFile(root / "signer-04.pub"), priv->public_key().Pem());
  EXPECT_EQ(j["test_signer"]["ok"], true);
  ASSERT_EQ(j["backups"].size(), 2u);
  // Stock gpg opens each copy with the passphrase file's line.
  for (const auto& b : j["backups"]) {
    auto dec = keytest::GpgDecrypt(b.get<std::string>(), "generate pass phrase");
    ASSERT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, *fs::ReadFile(key));
  }
  // The federation change's public key is what test-signer checks against.
  auto ts = Cli({"test-signer", "--id", "signer-04", "--key", key, "--federation-key", "signer-04=" + (root / "signer-04.pub")});
  EXPECT_EQ(ts.exit_code, 0) << ts.out << ts.err;
  EXPECT_NE(Audit().find("key.generate"), std::string::npos);

  // Shares: a random passphrase only the 2-of-3 shares hold; the keys verify path recombines it.
  auto sh = Cli({"keys", "generate", "--id", "signer-05", "--key-file", root / "keys/signer-05.key", "--out",
                 root / "b5", "--shares", "2/3", "--shares-out", root / "shares"});
  ASSERT_EQ(sh.exit_code, 0) << sh.out << sh.err;
  auto names = *fs::ListDir(root / "shares");
  ASSERT_EQ(names.size(), 3u);
  auto v = Cli({"keys", "verify", "--id", "signer-05", "--no-federation-check", root / "b5", "--shares",
                root / ("shares/" + names[0]), root / ("shares/" + names[2])});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(KeysRotateCliTest, GenerateRefusesWhatIsAtThePathAndACrLfPassphraseFile) {
  const std::string target = root / "precious";
  ASSERT_TRUE(fs::WriteFileAtomic(target, "precious\n").ok());
  const std::string file = root / "keys/file.key", link = root / "keys/link.key", dangling = root / "keys/dangling.key",
                    fifo = root / "keys/fifo.key";
  ASSERT_TRUE(fs::WriteFileAtomic(file, "old key\n", 0400).ok());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(::symlink((root / "nowhere").c_str(), dangling.c_str()), 0);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& path : {file, link, dangling, fifo}) {
    auto g = Cli({"keys", "generate", "--id", "signer-04", "--key-file", path, "--out", root / "b", "--passphrase-file",
                  pass_file});
    EXPECT_EQ(g.exit_code, 7) << path << ": " << g.out << g.err;
    EXPECT_NE(g.err.find("refusing to overwrite it or write through it"), std::string::npos) << g.err;
  }
  EXPECT_EQ(*fs::ReadFile(target), "precious\n");
  EXPECT_EQ(*fs::ReadFile(file), "old key\n");
  EXPECT_FALSE(fs::Exists(root / "nowhere"));
  EXPECT_FALSE(fs::Exists(root / "b"));

  // CR LF passphrase file: refused like keys backup refuses it, before a key exists.
  ASSERT_TRUE(fs::WriteFileAtomic(root / "crlf", "generate pass phrase\r\n", 0600).ok());
  const std::string key = root / "keys/new.key";
  auto c = Cli({"keys", "generate", "--id", "signer-04", "--key-file", key, "--out", root / "b", "--passphrase-file",
                root / "crlf"});
  EXPECT_EQ(c.exit_code, 2) << c.out << c.err;
  EXPECT_NE(c.err.find("sed -i"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::Exists(key));
  EXPECT_FALSE(fs::Exists(root / "b"));

  // A backup that cannot be made (its target exists) leaves no key behind.
  ::mkdir((root / "taken").c_str(), 0700);
  ASSERT_TRUE(fs::WriteFileAtomic(root / "taken/signer-04.key.gpg", "someone else's").ok());
  auto t = Cli({"keys", "generate", "--id", "signer-04", "--key-file", key, "--out", root / "taken",
                "--passphrase-file", pass_file, "--public-key-out", root / "s4.pub"});
  EXPECT_EQ(t.exit_code, 7) << t.out << t.err;
  EXPECT_FALSE(fs::Exists(key));
  EXPECT_FALSE(fs::Exists(root / "s4.pub"));
  EXPECT_EQ(*fs::ReadFile(root / "taken/signer-04.key.gpg"), "someone else's");
}

TEST_F(KeysRotateCliTest, GenerateOnTokenNeverExtractableSignsAndLabelNotReused) {
  if (!SoftHsm::Available()) GTEST_FAIL() << "softhsm2 absent: run scripts/install-deps.sh";
  SoftHsm hsm;
  ASSERT_EQ(hsm.InitToken("rot").exit_code, 0);
  const std::vector<std::string> env = {"AILEE_PKCS11_PIN=1234", std::string("SOFTHSM2_CONF=") + std::getenv("SOFTHSM2_CONF")};
  const std::vector<std::string> token = {"--pkcs11", "--module", SoftHsm::kModule, "--token-label", "rot", "--key-label",
                                          "ailee-signer-04"};
  std::vector<std::string> args = {"--json", "keys", "generate", "--id", "signer-04", "--out", root / "pub",
                                   "--public-key-out", root / "signer-04.pub"};
  args.insert(args.end(), token.begin(), token.end());
  auto g = Cli(args, env);
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  auto j = nlohmann::json::parse(g.out);
  EXPECT_EQ(j["token_key"]["extractable"], false);
  EXPECT_EQ(j["token_key"]["never_extractable"], true);
  EXPECT_EQ(j["token_key"]["sensitive"], true);
  EXPECT_EQ(j["backups"].size(), 0u);
  ASSERT_EQ(j["public_records"].size(), 1u);
  auto record = nlohmann::json::parse(*fs::ReadFile(j["public_records"][0].get<std::string>()));
  EXPECT_EQ(record["fingerprint_sha256_spki"], j["fingerprint"]);
  EXPECT_NE(record["private_key"].get<std::string>().find("no backup"), std::string::npos);

  // On the token, as the token itself says; the public key is the one printed.
  {
    auto t = Pkcs11Token::Open(SoftHsm::kModule, "rot", crypto::SecureBytes(std::string_view("1234")));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto flags = (*t)->PrivateKeyFlags({"ailee-signer-04", ""});
    ASSERT_TRUE(flags.ok()) << flags.status().ToString();
    EXPECT_TRUE(flags->sensitive && flags->never_extractable && flags->local && !flags->extractable);
    auto pub = (*t)->PublicKey({"ailee-signer-04", ""});
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub->FingerprintHex(), j["fingerprint"]);
  }
  auto ts = Cli({"test-signer", "--id", "signer-04", "--pkcs11-module", SoftHsm::kModule, "--token-label", "rot",
                 "--key-label", "ailee-signer-04", "--federation-key", "signer-04=" + (root / "signer-04.pub")},
                env);
  EXPECT_EQ(ts.exit_code, 0) << ts.out << ts.err;

  // Same label again: refused, the first key untouched.
  std::vector<std::string> again = {"keys", "generate", "--id", "signer-04", "--out", root / "pub2"};
  again.insert(again.end(), token.begin(), token.end());
  auto a = Cli(again, env);
  EXPECT_EQ(a.exit_code, 7) << a.out << a.err;
  EXPECT_NE(a.err.find("already holds a key"), std::string::npos) << a.err;
  EXPECT_EQ(ts.exit_code, Cli({"test-signer", "--id", "signer-04", "--pkcs11-module", SoftHsm::kModule, "--token-label",
                               "rot", "--key-label", "ailee-signer-04", "--federation-key",
                               "signer-04=" + (root / "signer-04.pub")},
                              env)
                              .exit_code);
  // The EC types go through CKM_EC_KEY_PAIR_GEN.
  std::vector<std::string> p256 = {"--json", "keys", "generate", "--id", "signer-06", "--key-type", "p256", "--out",
                                   root / "pub6", "--pkcs11", "--module", SoftHsm::kModule, "--token-label", "rot"};
  auto p = Cli(p256, env);
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  auto pj = nlohmann::json::parse(p.out);
  EXPECT_EQ(pj["key_type"], "p256");
  EXPECT_NE(pj["key"].get<std::string>().find("object=ailee-signer-06"), std::string::npos) << pj.dump(2);
  // Nothing to split for a key that cannot be exported.
  again.insert(again.end(), {"--shares", "2/3", "--shares-out", root / "sh"});
  EXPECT_EQ(Cli(again, env).exit_code, 2);
}

// With a config: --pkcs11 takes the module, token and PIN file of its
// signer.pkcs11 and the federation's key type; `keys retire` of the config's
// own signer marks the fence the node would open (signer.pkcs11.fence_file).
TEST_F(KeysRotateCliTest, ConfigSignerSuppliesTheTokenAndTheFenceToRetire) {
  if (!SoftHsm::Available()) GTEST_FAIL() << "softhsm2 absent: run scripts/install-deps.sh";
  SoftHsm hsm;
  ASSERT_EQ(hsm.InitToken("cfg").exit_code, 0);
  auto old_key = *crypto::PrivateKey::Generate(crypto::KeyType::kP256);
  keytest::WritePublicKey(root / "keys", "signer-01.pub", old_key.public_key());
  ASSERT_TRUE(fs::WriteFileAtomic(root / "pin", "1234\n", 0600).ok());
  const std::string config = root / "config.yaml";
  ASSERT_TRUE(fs::WriteFileAtomic(config, "node:\n  id: node-1\n  data_dir: data\n"
                                          "federation:\n  threshold: 1\n  signers:\n"
                                          "    - id: signer-01\n      public_key_file: keys/signer-01.pub\n"
                                          "signer:\n  id: signer-01\n  pkcs11:\n    module: " +
                                              std::string(SoftHsm::kModule) +
                                              "\n    token_label: cfg\n    key_label: ailee-signer-01\n"
                                              "    pin_file: pin\n    fence_file: keys/signer-01.fence\n"
                                              "logging:\n  audit_log: audit.log\n")
                  .ok());
  const std::vector<std::string> env = {std::string("SOFTHSM2_CONF=") + std::getenv("SOFTHSM2_CONF")};
  auto g = Cli({"--config", config, "--json", "keys", "generate", "--id", "signer-04", "--pkcs11", "--out", root / "pub"}, env);
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  auto j = nlohmann::json::parse(g.out);
  EXPECT_EQ(j["key_type"], "p256");  // the federation's type
  EXPECT_NE(j["key"].get<std::string>().find("token=cfg;object=ailee-signer-04"), std::string::npos) << j.dump(2);

  auto r = Cli({"--config", config, "keys", "retire", "--id", "signer-01", "--reason", "replaced by signer-04"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto marker = ReadRetiredMarker(root / "keys/signer-01.fence.retired");
  ASSERT_TRUE(marker.ok() && *marker) << r.out;
  EXPECT_EQ((*marker)->fingerprint, old_key.public_key().FingerprintHex());  // from the federation
  EXPECT_FALSE(SigningFence::Open(root / "keys/signer-01.fence").ok());

  // A retired key's backup restored onto a token: marked beside the fence
  // the node would use for it (beside the config), so it does not sign.
  const std::string old_file = keytest::WriteKeyFile(root / "keys", "signer-01.key", old_key);
  const std::vector<std::string> pass = {"AILEE_KEY_PASSPHRASE=cfg test", env[0]};
  ASSERT_EQ(Cli({"--config", config, "keys", "backup", "--id", "signer-01", "--key", old_file, "--out", root / "b"}, pass)
                .exit_code, 0);
  ASSERT_EQ(Cli({"--config", config, "keys", "retire", "--id", "signer-01", "--reason", "r", "--backup", root / "b"})
                .exit_code, 0);
  auto rs = Cli({"--config", config, "keys", "restore", "--id", "signer-01", "--from", root / "b", "--to-pkcs11",
                 "--pkcs11-module", SoftHsm::kModule, "--token-label", "cfg", "--key-label", "restored-01",
                 "--pin-file", root / "pin"},
                pass);
  ASSERT_EQ(rs.exit_code, 0) << rs.out << rs.err;
  EXPECT_NE(rs.out.find("RETIRED"), std::string::npos) << rs.out;
  EXPECT_FALSE(SigningFence::Open(root / "pkcs11-cfg-restored-01.fence").ok());
}

TEST_F(KeysRotateCliTest, RetiredKeyNeverSignsAgainAndNothingIsDeleted) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const std::string key_file = keytest::WriteKeyFile(root / "keys", "signer-01.key", key);
  const std::string fence_path = FencePathForKeyFile(key_file);
  const crypto::Hash256 h1 = crypto::Sha256("block 1"), h2 = crypto::Sha256("block 2");
  {
    auto fence = SigningFence::Open(fence_path);
    ASSERT_TRUE(fence.ok()) << fence.status().ToString();
    ASSERT_TRUE((*fence)->Advance(1, h1, "").ok());
  }
  const std::vector<std::string> pass_env = {"AILEE_KEY_PASSPHRASE=retire test"};
  ASSERT_EQ(Cli({"keys", "backup", "--id", "signer-01", "--key", key_file, "--out", root / "b"}, pass_env).exit_code, 0);

  // A leader holding the fence while the key is retired stops at its next block.
  auto running = SigningFence::Open(fence_path);
  ASSERT_TRUE(running.ok());
  auto r = Cli({"--json", "keys", "retire", "--id", "signer-01", "--reason", "rotated out: laptop stolen", "--operator",
                "alice", "--key-file", key_file, "--backup", root / "b"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["fingerprint"], key.public_key().FingerprintHex());
  EXPECT_EQ(j["markers_written"].size(), 2u);
  Status advance = (*running)->Advance(2, h2, "");
  EXPECT_EQ(advance.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(advance.message().find("never signs again"), std::string::npos) << advance.message();
  running->reset();

  // A node starting on it is refused, naming why.
  auto reopened = SigningFence::Open(fence_path);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.status().message().find("laptop stolen"), std::string::npos) << reopened.status().message();
  // Nothing deleted: key, fence, backup, metadata, fence copy.
  for (const auto& p : {key_file, fence_path, root / "b/signer-01.key.gpg", root / "b/signer-01.key.json",
                        root / "b/signer-01.key.fence"})
    EXPECT_TRUE(fs::Exists(p)) << p;
  EXPECT_EQ(ReadFenceFile(fence_path)->height, 1u);

  // verify shows it; restored elsewhere, it is still retired.
  auto v = Cli({"--json", "keys", "verify", "--id", "signer-01", "--no-federation-check", root / "b"}, pass_env);
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(nlohmann::json::parse(v.out)["copies"][0]["retired"].get<std::string>().find("by alice"), std::string::npos);
  const std::string restored = root / "keys/restored.key";
  auto rs = Cli({"keys", "restore", "--id", "signer-01", "--from", root / "b", "--to-file", restored,
                 "--no-federation-check"},
                pass_env);
  ASSERT_EQ(rs.exit_code, 0) << rs.out << rs.err;
  EXPECT_FALSE(SigningFence::Open(FencePathForKeyFile(restored)).ok());

  // Again: a no-op that keeps the first reason; an empty reason is refused.
  auto again = Cli({"--json", "keys", "retire", "--id", "signer-01", "--reason", "second", "--key-file", key_file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["reason"], "rotated out: laptop stolen");
  EXPECT_EQ(Cli({"keys", "retire", "--id", "signer-01", "--reason", "", "--key-file", key_file}).exit_code, 2);
  // Another signer's backup directory is refused before anything is marked.
  auto other = Cli({"keys", "retire", "--id", "signer-02", "--reason", "x", "--backup", root / "b"});
  EXPECT_EQ(other.exit_code, 4) << other.err;
  EXPECT_NE(Audit().find("key.retire"), std::string::npos);
}

}  // namespace
}  // namespace ailee::keys
