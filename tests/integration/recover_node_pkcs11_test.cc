// recover-node for a leader whose signer key lives on a PKCS#11 token
// (SoftHSM2): the host is lost and the token is replaced by a fresh one
// with the same label. recover-node imports the key from the key backup
// (passphrase from 2-of-3 share files, then from a passphrase file),
// restores the signing fence at signer.pkcs11.fence_file (outside the
// config's directory, as the shipped unit needs it), passes test-signer, and the
// node signs again above its follower's tip; a token that kept the key keeps
// it. Refused, nothing imported: too few shares, a backup of another key (by
// fingerprint), a CR LF passphrase file (as `keys restore` refuses it), and
// another key on the token under the signer's label (by fingerprint).
#include <algorithm>
#include <cstdlib>

#include "recover_world.h"

namespace ailee::it {
namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kToken = "ailee-rn";
constexpr const char* kPin = "1234";

CommandResult SoftHsm(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/softhsm2-util");
  return Run(args, Millis(30000));
}

// A fresh token with the same label: what replacing a broken HSM looks like.
void FreshToken() {
  SoftHsm({"--delete-token", "--token", kToken});
  CommandResult init = SoftHsm({"--init-token", "--free", "--label", kToken, "--pin", kPin, "--so-pin", "5678"});
  ASSERT_EQ(init.exit_code, 0) << init;
}

struct Pkcs11World {
  RecoverWorld w;
  std::string hsm_conf = w.s.dir().Join("softhsm2.conf");
  std::string key_pass = w.s.dir().Join("key.pass");
  std::string backups = w.s.dir().Join("key-backups");
  std::string shares = w.s.dir().Join("key-shares");
  std::string tool_audit = w.s.dir().Join("keys-audit.log");
  std::string fed_key() const { return w.s.signer().id + "=" + w.s.signer().pub_file; }
  std::string pin_file() const { return w.s.dir().Join("leader/pkcs11.pin"); }
  // Where the packaged config puts it: a directory of its own the node may
  // write (/var/lib/ailee/keys), not /etc/ailee (read-only under the unit).
  std::string fence_dir() const { return w.s.dir().Join("leader-keys"); }
  std::string fence_path() const { return fence_dir() + "/signer-01.fence"; }

  CommandResult Keys(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--json", "keys"});
    args.insert(args.end(), {"--federation-key", fed_key(), "--audit-log", tool_audit});
    return w.s.CliRaw(args);
  }

  // Key backed up (passphrase also split 2/3), imported into the token; the
  // leader signs with it through PKCS#11.
  void Build() {
    ASSERT_OK(WriteFile(hsm_conf, "directories.tokendir = " + w.s.dir().Join("tokens") +
                                      "\nobjectstore.backend = file\nlog.level = ERROR\n", 0600));
    stdfs::create_directories(w.s.dir().Join("tokens"));
    ::setenv("SOFTHSM2_CONF", hsm_conf.c_str(), 1);  // for every process started from here on
    FreshToken();
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_OK(WriteFile(key_pass, "pkcs11 signer backup passphrase\n", 0600));
    // Ends in a newline, as an editor leaves it: the node reads the first
    // line like test-signer and recover-node do (it read the file whole, and
    // its login failed after recover-node's test-signer had passed).
    ASSERT_OK(WriteFile(pin_file(), std::string(kPin) + "\n", 0600));
    ASSERT_OK(WriteFile(w.s.dir().Join("pin"), kPin, 0600));  // the test's own, for TokenEmpty
    CommandResult imported = Keys({"restore", "--id", "signer-01", "--from", BackUp(w.s.signer().key_file, "first"),
                                   "--passphrase-file", key_pass, "--to-pkcs11", "--pkcs11-module", kModule,
                                   "--token-label", kToken, "--key-label", "signer-01", "--pin-file", pin_file()});
    ASSERT_EQ(imported.exit_code, 0) << imported;
    w.leader_config_files = {"pkcs11.pin"};  // comes back with the config, encrypted as a secret
    stdfs::create_directories(fence_dir());
    w.Build("signer:\n  id: signer-01\n  pkcs11:\n    module: " + std::string(kModule) + "\n    token_label: " +
            kToken + "\n    key_label: signer-01\n    pin_file: pkcs11.pin\n    fence_file: " + fence_path() + "\n");
  }

  // `keys backup` of `key_file` (with the fence beside it, if any) into
  // <dir>/<name>, the passphrase split 2/3 into <dir>/<name>-shares.
  std::string BackUp(const std::string& key_file, const std::string& name) const {
    const std::string out = w.s.dir().Join(name);
    CommandResult b = Keys({"backup", "--id", "signer-01", "--key", key_file, "--out", out, "--passphrase-file",
                            key_pass, "--shares", "2/3", "--shares-out", out + "-shares"});
    EXPECT_EQ(b.exit_code, 0) << b;
    return out;
  }
  // The n-th (from 1) of its share files (their numbers are random, gfsplit's).
  std::string Share(const std::string& backup, size_t n) const {
    std::vector<std::string> files;
    for (const auto& e : stdfs::directory_iterator(backup + "-shares")) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return n <= files.size() ? files[n - 1] : "";
  }

  // The leader's host is lost (config, pin, fence, data dir) and its token
  // replaced by an empty one.
  void LoseLeader(TestNode& l) {
    l.Kill();
    for (int pid : NodesWithConfig(l.config_path())) StopSpawned(pid);
    ASSERT_TRUE(WaitUntil([&] {
      auto a = w.follower->Height();
      auto b = w.follower->Height();
      return a.ok() && b.ok() && *a == *b;
    }, Millis(5000)));
    stdfs::remove_all(l.dir());
    stdfs::remove(fence_path());  // its directory is the package's, made again by a reinstall
    FreshToken();
  }

  // The token holds no key (checked with test-signer, which fails to find it).
  bool TokenEmpty() const {
    CommandResult t = w.s.CliRaw({"test-signer", "--id", "signer-01", "--pkcs11-module", kModule, "--token-label",
                                  kToken, "--key-label", "signer-01", "--pin-file", w.s.dir().Join("pin"),
                                  "--federation-key", fed_key(), "--audit-log", tool_audit});
    return t.exit_code == 4;
  }

  CommandResult Recover(const TestNode& l, std::vector<std::string> args) const {
    std::vector<std::string> a = {"--repo", "file://" + w.repo_dir, "--secrets-passphrase-file", w.secrets_file,
                                  "--peer-admin-token-file", w.follower->admin_token_path()};
    a.insert(a.end(), args.begin(), args.end());
    return w.Recover(l, a);
  }
};

// Recovered, signing again: complete, imported, fence and test-signer, and
// the leader's new blocks extend the follower's chain (no height twice).
void ExpectSigningAgain(Pkcs11World& p, const CommandResult& out, uint64_t follower_tip, uint64_t fence_height) {
  ASSERT_EQ(out.exit_code, 0) << out;
  nlohmann::json r = JsonOut(out);
  Spawned node{r.value("node_pid", 0)};
  EXPECT_EQ(r["complete"], true) << out;
  const nlohmann::json key = r["phases"][1];
  EXPECT_EQ(key["outcome"], "imported") << out;
  EXPECT_EQ(key["detail"]["test_signer"], "ok") << out;
  EXPECT_EQ(key["detail"]["token"], kToken) << out;
  EXPECT_EQ(key["detail"]["fence_height"].get<uint64_t>(), fence_height) << out;
  EXPECT_NE(key["detail"]["signer_key"].get<std::string>().find("pkcs11:"), std::string::npos) << out;
  EXPECT_TRUE(Exists(p.fence_path())) << "the fence is back at signer.pkcs11.fence_file, where the node reads it";
  auto& l = *p.w.leader;
  ASSERT_OK(p.w.follower->WaitForHeight(follower_tip + 5, Millis(30000)));
  ASSIGN_OR_FAIL(auto lb, l.BlocksByHeight());
  ASSIGN_OR_FAIL(auto fb, p.w.follower->BlocksByHeight());
  for (const auto& [h, block] : fb) {
    if (lb.count(h)) {
      EXPECT_EQ(lb.at(h), block) << "two different blocks at height " << h;
    }
  }
  const std::string log = ReadText(p.w.audit);
  EXPECT_NE(log.find("recover-node.key"), std::string::npos);
  EXPECT_NE(log.find("fingerprint:" + key["detail"]["fingerprint"].get<std::string>()), std::string::npos);
}

TEST(RecoverNodePkcs11, LeaderHostAndTokenLostKeyImportedFromSharesThenFromAPassphraseFile) {
  if (!Exists(kModule)) GTEST_SKIP() << "SoftHSM2 is not installed";
  Pkcs11World p;
  p.Build();
  if (::testing::Test::HasFatalFailure()) return;
  auto& l = *p.w.leader;
  ASSERT_EQ(p.w.s.Cli(l, {"backup", "config", "--secrets-passphrase-file", p.w.secrets_file}).exit_code, 0);
  // The operator's backup of the key and its fence, taken while it signs.
  ASSERT_OK(WriteFile(p.w.s.dir().Join("copy/signer-01.key"), ReadText(p.w.s.signer().key_file), 0600));
  const std::string fence = ReadText(p.fence_path());
  ASSERT_OK(WriteFile(p.w.s.dir().Join("copy/signer-01.key.fence"), fence, 0600));
  const uint64_t fence_height = std::stoull(fence.substr(std::string("ailee-signing-fence 1\nheight ").size()));
  ASSERT_GT(fence_height, 0u);
  const std::string backup = p.BackUp(p.w.s.dir().Join("copy/signer-01.key"), "with-fence");
  stdfs::remove_all(p.w.s.dir().Join("copy"));

  p.LoseLeader(l);
  if (::testing::Test::HasFatalFailure()) return;
  const uint64_t tip = p.w.follower->Height().value();

  // One share of a 2-of-3 split: refused, naming the count; nothing imported.
  CommandResult one = p.Recover(l, {"--key-backup", backup, "--key-shares", p.Share(backup, 2), "--yes"});
  EXPECT_EQ(one.exit_code, 2) << one;
  EXPECT_NE(one.err.find("too few shares: got 1 distinct, this backup needs 2 of 3"), std::string::npos) << one;
  EXPECT_TRUE(p.TokenEmpty());

  // A backup of another key under this signer's id: refused by fingerprint.
  ASSIGN_OR_FAIL(SignerKey other, MakeSignerKey(p.w.s.dir().Join("other"), "signer-01"));
  CommandResult ob = p.w.s.CliRaw({"keys", "backup", "--id", "signer-01", "--key", other.key_file, "--out",
                                   p.w.s.dir().Join("other-backup"), "--passphrase-file", p.key_pass,
                                   "--federation-key", "signer-01=" + other.pub_file, "--audit-log", p.tool_audit});
  ASSERT_EQ(ob.exit_code, 0) << ob;
  CommandResult wrong = p.Recover(l, {"--key-backup", p.w.s.dir().Join("other-backup"), "--key-passphrase-file",
                                      p.key_pass, "--yes"});
  EXPECT_EQ(wrong.exit_code, 3) << wrong;
  EXPECT_NE(wrong.err.find("fingerprint " + other.key.public_key().FingerprintHex()), std::string::npos) << wrong;
  EXPECT_TRUE(p.TokenEmpty());

  // A CR LF passphrase file: refused as `keys restore` refuses it.
  const std::string crlf = p.w.s.dir().Join("key-crlf.pass");
  ASSERT_OK(WriteFile(crlf, "pkcs11 signer backup passphrase\r\n", 0600));
  CommandResult restore_crlf = p.Keys({"restore", "--id", "signer-01", "--from", backup, "--to-file",
                                       p.w.s.dir().Join("crlf.key"), "--passphrase-file", crlf});
  CommandResult recover_crlf = p.Recover(l, {"--key-backup", backup, "--key-passphrase-file", crlf, "--yes"});
  EXPECT_EQ(recover_crlf.exit_code, restore_crlf.exit_code) << recover_crlf << restore_crlf;
  EXPECT_NE(recover_crlf.err.find("has a CR (carriage return"), std::string::npos) << recover_crlf;
  EXPECT_TRUE(p.TokenEmpty());
  EXPECT_FALSE(Exists(p.w.s.dir().Join("crlf.key")));

  // The token holds another key under the label: refused by fingerprint, not used, not replaced.
  CommandResult planted = p.w.s.CliRaw({"keys", "restore", "--id", "signer-01", "--from", p.w.s.dir().Join("other-backup"),
                                        "--passphrase-file", p.key_pass, "--to-pkcs11", "--pkcs11-module", kModule,
                                        "--token-label", kToken, "--key-label", "signer-01", "--pin-file",
                                        p.w.s.dir().Join("pin"), "--federation-key", "signer-01=" + other.pub_file,
                                        "--audit-log", p.tool_audit});
  ASSERT_EQ(planted.exit_code, 0) << planted;
  CommandResult impostor = p.Recover(l, {"--key-backup", backup, "--key-passphrase-file", p.key_pass, "--yes"});
  EXPECT_EQ(impostor.exit_code, 3) << impostor;
  EXPECT_NE(impostor.err.find("has fingerprint " + other.key.public_key().FingerprintHex() +
                              ", not federation signer signer-01"), std::string::npos) << impostor;
  FreshToken();

  // The config is back from the failed runs: the plan names the token and the import.
  CommandResult dry = p.Recover(l, {"--key-backup", backup, "--key-shares", p.Share(backup, 1), p.Share(backup, 3), "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry;
  const nlohmann::json plan = JsonOut(dry)["plan"][1];
  EXPECT_NE(plan["action"].get<std::string>().find("import signer-01"), std::string::npos) << dry;
  EXPECT_NE(plan["action"].get<std::string>().find("token 'ailee-rn'"), std::string::npos) << dry;
  EXPECT_NE(plan["action"].get<std::string>().find("2 share file(s)"), std::string::npos) << dry;
  EXPECT_EQ(plan["source"], backup) << dry;
  EXPECT_TRUE(p.TokenEmpty());

  CommandResult shared = p.Recover(l, {"--key-backup", backup, "--key-shares", p.Share(backup, 1), p.Share(backup, 3),
                                       "--start", "--yes"});
  ExpectSigningAgain(p, shared, tip, fence_height);
  if (::testing::Test::HasFatalFailure()) return;

  // Lost once more: the passphrase from a file does the same.
  p.LoseLeader(l);
  if (::testing::Test::HasFatalFailure()) return;
  const uint64_t tip2 = p.w.follower->Height().value();
  CommandResult with_file = p.Recover(l, {"--key-backup", backup, "--key-passphrase-file", p.key_pass, "--start", "--yes"});
  ExpectSigningAgain(p, with_file, tip2, fence_height);  // stops the node it started
  if (::testing::Test::HasFatalFailure()) return;

  // Only the node stopped, host and token intact: the token's key is kept.
  CommandResult kept = p.Recover(l, {"--start", "--yes"});
  ASSERT_EQ(kept.exit_code, 0) << kept;
  nlohmann::json rk = JsonOut(kept);
  Spawned node{rk.value("node_pid", 0)};
  EXPECT_EQ(rk["phases"][1]["outcome"], "kept") << kept;
  EXPECT_EQ(rk["phases"][1]["detail"]["test_signer"], "ok") << kept;
}

}  // namespace
}  // namespace ailee::it
