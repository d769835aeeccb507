// Which config files are secrets (config_secrets.h), scanned over every byte
// a real repository holds (each blob decrypted through the repository API,
// the snapshot documents, the raw objects of the store) and every byte of an
// export; and whose snapshot "latest" is in a repository shared by hosts.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "base/fs.h"
#include "crypto/asymmetric.h"
#include "crypto/hash.h"
#include "ops/config/backup.h"
#include "ops/config/restore.h"
#include "ops/config/secrets.h"
#include "ops/config/snapshot.h"
#include "ops_config_test_util.h"
#include "repo/backup.h"
#include "repo/key_slots.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

using testing::Get;
using testing::ModeOf;
using testing::Put;

class ConfigSecretsTest : public testing::OpsRepoTest {
 protected:
  void SetUp() override {
    OpsRepoTest::SetUp();
    testing::WriteNodeConfigTree(dir_);
    cfg_dir_ = dir_ + "/etc/ailee";
    options_.config_path = cfg_dir_ + "/config.yaml";
    options_.node_id = "node-1";
    options_.paths = {cfg_dir_};
    options_.secret_paths = {cfg_dir_ + "/secrets.yaml"};
    options_.secrets_passphrase = &pass_;
    options_.scratch_dir = dir_;
    options_.host = "node-host";
  }

  // Every place a value could sit in clear in the repository.
  std::vector<std::string> SecretsInRepository() {
    std::vector<std::string> found;
    auto check = [&](const std::string& where, std::string_view data) {
      for (const auto& [name, value] : secrets_) {
        if (data.find(value) != std::string_view::npos) found.push_back(name + " in " + where);
      }
    };
    auto listing = repo::ListSnapshots(*repo_);
    EXPECT_TRUE(listing.ok());
    for (const auto& snap : listing->snapshots) {
      check("snapshot " + snap.id_hex() + " meta", snap.meta.dump());
      for (const auto& e : snap.files) {
        for (const auto& id : e.chunks) {
          auto blob = repo_->LoadBlob(id);
          EXPECT_TRUE(blob.ok()) << e.path;
          if (blob.ok()) check("blob of " + e.path, *blob);
        }
      }
    }
    auto keys = store_->List("");
    EXPECT_TRUE(keys.ok());
    EXPECT_FALSE(keys->empty());
    for (const auto& info : *keys) {
      auto obj = store_->Get(info.key);
      EXPECT_TRUE(obj.ok()) << info.key;
      if (obj.ok()) check("raw object " + info.key, *obj);
    }
    return found;
  }

  std::vector<std::string> SecretsInArchive(const std::string& archive) {
    std::string raw = archive + ".tar";
    EXPECT_EQ(std::system(("gzip -dc '" + archive + "' > '" + raw + "'").c_str()), 0);
    std::string data = Get(raw);
    std::vector<std::string> found;
    for (const auto& [name, value] : secrets_) {
      if (data.find(value) != std::string::npos) found.push_back(name + " in " + archive);
    }
    return found;
  }

  crypto::SecureBytes pass_{std::string_view("secret pass phrase")};
  std::string cfg_dir_;
  ConfigBackupOptions options_;
  std::map<std::string, std::string> secrets_;
};

TEST(ConfigSecretRules, EachRuleNamesWhy) {
  SecretRules rules;
  rules.listed["/etc/ailee/signer.key"] = "signer.key_file";
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/signer.key", 0644, "x"), "named by signer.key_file");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/secrets.yaml", 0644, "x"), "named secrets.yaml");
  EXPECT_NE(SecretReason(rules, "/root/.aws/config", 0644, "[default]\n").find(".aws"), std::string::npos);
  EXPECT_NE(SecretReason(rules, "/etc/ailee/pin", 0600, "1234").find("mode 0600"), std::string::npos);
  EXPECT_NE(SecretReason(rules, "/etc/ailee/pin", 0400, "1234").find("mode 0400"), std::string::npos);
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/a.pem", 0644, "x\n-----BEGIN EC PRIVATE KEY-----\nAAA\n"), "holds a PEM private key");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/a.pem", 0644, "-----BEGIN ENCRYPTED PRIVATE KEY-----"), "holds a PEM private key");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/id", 0644, "-----BEGIN OPENSSH PRIVATE KEY-----"), "holds an OpenSSH private key");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/x.ini", 0644, "AWS_SECRET_ACCESS_KEY=abc"), "holds an aws_secret_access_key");
  // Not secrets: public keys, certificates, group-readable plain files.
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/a.pub", 0644, "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n"), "");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/c.crt", 0644, "-----BEGIN CERTIFICATE-----\n"), "");
  EXPECT_EQ(SecretReason(rules, "/etc/ailee/config.yaml", 0640, "node: {id: a}\n"), "");
}

TEST(ConfigSecretRules, ConfigNamedSecretsListsEveryFieldThatHoldsASecret) {
  config::NodeConfig cfg;
  cfg.node.admin_token_file = "/var/lib/ailee/admin.token";
  cfg.signer = config::SignerSection{"signer-01", "/etc/ailee/keys/signer.key", std::nullopt};
  cfg.backup.passphrase_file = "/etc/ailee/backup.pass";
  cfg.backup.s3.credentials_file = "/etc/ailee/aws/credentials";
  auto named = ConfigNamedSecrets(cfg);
  EXPECT_EQ(named["/etc/ailee/keys/signer.key"], "signer.key_file");
  EXPECT_EQ(named["/etc/ailee/backup.pass"], "backup.passphrase_file");
  EXPECT_EQ(named["/var/lib/ailee/admin.token"], "node.admin_token_file");
  EXPECT_EQ(named["/etc/ailee/aws/credentials"], "backup.s3.credentials_file");
  cfg.signer = config::SignerSection{"signer-01", "", config::Pkcs11KeyRef{"/usr/lib/p11.so", "t", "k", "/etc/ailee/pin", ""}};
  EXPECT_EQ(ConfigNamedSecrets(cfg)["/etc/ailee/pin"], "signer.pkcs11.pin_file");
}

TEST_F(ConfigSecretsTest, UnlistedSecretFilesAreEncryptedInRepositoryAndExportAndRestoredWithTheirModes) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  std::string pem_text(pem->view());
  Put(cfg_dir_ + "/keys/signer.key", pem_text, 0640);                        // named by the config
  Put(cfg_dir_ + "/keys/extra.pem", pem_text, 0644);                         // in a listed directory, 0644
  Put(cfg_dir_ + "/backup.pass", "repository-passphrase-4711\n", 0640);      // named by the config
  Put(cfg_dir_ + "/pkcs11.pin", "pin-90210\n", 0400);                        // owner-only
  Put(cfg_dir_ + "/aws/credentials", "[default]\naws_secret_access_key = SECRETKEYVALUE0042\n", 0644);
  options_.named_secrets = {{cfg_dir_ + "/keys/signer.key", "signer.key_file"}, {cfg_dir_ + "/backup.pass", "backup.passphrase_file"}};
  secrets_ = {{"signer key", pem_text.substr(pem_text.find('\n') + 1, 40)},
              {"backup.pass", "repository-passphrase-4711"},
              {"pkcs11.pin", "pin-90210"},
              {"aws secret", "SECRETKEYVALUE0042"},
              {"secrets.yaml", "s3cr3t-token-value"}};

  // Nor a plaintext hash a guess could be checked against (a PIN is short).
  for (const auto& rel : {"/keys/signer.key", "/backup.pass", "/pkcs11.pin", "/aws/credentials", "/secrets.yaml"}) {
    secrets_[std::string("sha256 of ") + rel] = crypto::HashToHex(crypto::Sha256(Get(cfg_dir_ + rel))).substr(0, 12);
  }

  auto b = BackupConfig(*repo_, options_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->secrets.size(), 6u);  // the five above and secrets.yaml
  auto found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  std::string archive = dir_ + "/export.tar.gz";
  ConfigExportOptions eo;
  eo.scope.node_id = "node-1";
  auto e = ExportConfig(*repo_, "latest", archive, eo);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->secrets, 6u);
  found = SecretsInArchive(archive);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  // A dry run against changed secrets prints no hash of either version.
  Put(cfg_dir_ + "/pkcs11.pin", "pin-11111\n", 0400);
  secrets_["sha256 of the changed pin"] = crypto::HashToHex(crypto::Sha256(Get(cfg_dir_ + "/pkcs11.pin"))).substr(0, 12);
  ConfigRestoreOptions dry;
  dry.dry_run = true;
  dry.secrets_passphrase = &pass_;
  dry.scope.node_id = "node-1";
  auto d = RestoreConfig(*repo_, "latest", "/", dry);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  for (const auto& c : d->changes) {
    if (c.path != cfg_dir_ + "/pkcs11.pin") continue;
    EXPECT_EQ(c.kind, ConfigChange::Kind::kChanged);
    for (const auto& [name, value] : secrets_) EXPECT_EQ(c.detail.find(value), std::string::npos) << name << ": " << c.detail;
  }
  Put(cfg_dir_ + "/pkcs11.pin", "pin-90210\n", 0400);

  ConfigRestoreOptions ro;
  ro.secrets_passphrase = &pass_;
  ro.scope.node_id = "node-1";
  ro.validate = false;
  std::string target = dir_ + "/restored";
  auto r = RestoreConfig(*repo_, "latest", target, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secrets_written, 6u);
  for (const auto& [rel, mode] : std::map<std::string, unsigned>{{"/keys/signer.key", 0640}, {"/keys/extra.pem", 0644},
                                                                 {"/backup.pass", 0640}, {"/pkcs11.pin", 0400},
                                                                 {"/aws/credentials", 0644}, {"/secrets.yaml", 0600}}) {
    EXPECT_EQ(Get(target + cfg_dir_ + rel), Get(cfg_dir_ + rel)) << rel;
    EXPECT_EQ(ModeOf(target + cfg_dir_ + rel), mode) << rel;
  }
}

// A snapshot an older version made, with a private key stored plain.
TEST_F(ConfigSecretsTest, ExportOfASnapshotHoldingASecretInClearIsEncryptedOrRefused) {
  std::string staging = dir_ + "/old-staging";
  Put(staging + cfg_dir_ + "/keys/extra.pem", "-----BEGIN PRIVATE KEY-----\nOLDPLAINKEYMATERIAL\n-----END PRIVATE KEY-----\n", 0644);
  ConfigManifest m;
  m.node_id = "node-1";
  m.config_path = cfg_dir_ + "/config.yaml";
  ConfigFile f;
  f.path = cfg_dir_ + "/keys/extra.pem";
  f.stored = f.path.substr(1);
  f.mode = 0644;
  f.size = Get(staging + cfg_dir_ + "/keys/extra.pem").size();
  m.files.push_back(f);
  repo::BackupOptions bo;
  bo.kind = kConfigSnapshotKind;
  bo.host = "node-host";
  bo.meta = ConfigManifestToJson(m);
  ASSERT_TRUE(repo::BackupTree(*repo_, staging, bo).ok());
  secrets_ = {{"old key", "OLDPLAINKEYMATERIAL"}};

  ConfigExportOptions eo;
  eo.scope.node_id = "node-1";
  std::string archive = dir_ + "/old.tar.gz";
  auto refused = ExportConfig(*repo_, "latest", archive, eo);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(cfg_dir_ + "/keys/extra.pem (holds a PEM private key)"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("--secrets-passphrase-file"), std::string::npos);
  EXPECT_FALSE(fs::Exists(archive));

  eo.secrets_passphrase = &pass_;
  auto e = ExportConfig(*repo_, "latest", archive, eo);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->encrypted_now, std::vector<std::string>{cfg_dir_ + "/keys/extra.pem"});
  auto found = SecretsInArchive(archive);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  ConfigImportOptions io;
  io.secrets_passphrase = &pass_;
  io.validate = false;
  auto imp = ImportConfigArchive(archive, dir_ + "/imported", io);
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_EQ(Get(dir_ + "/imported" + cfg_dir_ + "/keys/extra.pem"), Get(staging + cfg_dir_ + "/keys/extra.pem"));
}

// The restore diff of a plain file never prints secret content: neither a
// key an older snapshot stores plain nor one now in the file on disk.
TEST_F(ConfigSecretsTest, RestoreDiffNeverPrintsSecretShapedContent) {
  std::string staging = dir_ + "/old-staging";
  std::string rel = cfg_dir_ + "/keys/extra.pem";
  Put(staging + rel, "-----BEGIN PRIVATE KEY-----\nOLDPLAINKEYMATERIAL\n-----END PRIVATE KEY-----\n", 0644);
  ConfigManifest m;
  m.node_id = "node-1";
  m.config_path = cfg_dir_ + "/config.yaml";
  ConfigFile f;
  f.path = rel;
  f.stored = rel.substr(1);
  f.mode = 0644;
  f.size = Get(staging + rel).size();
  f.sha256 = crypto::HashToHex(crypto::Sha256(Get(staging + rel)));
  m.files.push_back(f);
  repo::BackupOptions bo;
  bo.kind = kConfigSnapshotKind;
  bo.host = "node-host";
  bo.meta = ConfigManifestToJson(m);
  ASSERT_TRUE(repo::BackupTree(*repo_, staging, bo).ok());
  std::string target = dir_ + "/t";
  Put(target + rel, "-----BEGIN PRIVATE KEY-----\nNEWERKEYMATERIALONDISK\n-----END PRIVATE KEY-----\n", 0644);

  ConfigRestoreOptions ro;
  ro.dry_run = true;
  ro.scope.node_id = "node-1";
  auto r = RestoreConfig(*repo_, "latest", target, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_EQ(r->changes[0].kind, ConfigChange::Kind::kChanged);
  EXPECT_EQ(r->changes[0].text_diff.find("KEYMATERIAL"), std::string::npos) << r->changes[0].text_diff;
  EXPECT_EQ(r->changes[0].detail.find("KEYMATERIAL"), std::string::npos) << r->changes[0].detail;
}

// A config that does not validate is still backed up, and the secret files
// it names are still encrypted.
TEST_F(ConfigSecretsTest, InvalidConfigStillHasTheFilesItNamesEncrypted) {
  Put(cfg_dir_ + "/config.yaml", testing::ValidConfigYaml(5) + "  passphrase_file: backup.pass\n", 0640);  // threshold 5 of 1
  Put(cfg_dir_ + "/backup.pass", "plain-looking-passphrase-77\n", 0640);
  secrets_ = {{"backup.pass", "plain-looking-passphrase-77"}};
  ConfigBackupOptions o = ConfigBackupOptionsForPath(cfg_dir_ + "/config.yaml");
  EXPECT_EQ(o.node_id, "node-1");
  o.secrets_passphrase = &pass_;
  o.scratch_dir = dir_;
  o.host = "node-host";
  auto b = BackupConfig(*repo_, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto it = std::find(b->secrets.begin(), b->secrets.end(), cfg_dir_ + "/backup.pass");
  ASSERT_NE(it, b->secrets.end());
  EXPECT_EQ(b->secret_reasons[it - b->secrets.begin()], "named by backup.passphrase_file");
  auto found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
}

// Without a config: "latest" is the newest snapshot this hostname recorded.
TEST_F(ConfigSecretsTest, LatestWithoutConfigIsThisHostnamesNewestNotAnotherHostsNewer) {
  options_.node_id = "";
  options_.host = repo::LocalHostname();
  ASSERT_TRUE(BackupConfig(*repo_, options_).ok());
  clock_.Advance(60000);
  Put(cfg_dir_ + "/notes.txt", "the other host's notes\n", 0644);
  options_.host = "other-host";
  ASSERT_TRUE(BackupConfig(*repo_, options_).ok());

  ConfigRestoreOptions ro;
  ro.dry_run = true;
  ro.secrets_passphrase = &pass_;
  auto r = RestoreConfig(*repo_, "latest", dir_ + "/t", ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto mine = repo::FindSnapshot(*repo_, "latest", {"config", repo::LocalHostname()});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(r->snapshot_id, mine->id_hex());
  ro.scope.host = "other-host";
  r = RestoreConfig(*repo_, "latest", dir_ + "/t", ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->snapshot_id, mine->id_hex());
}

// A node's backup never takes another node's snapshot as its parent: files
// reused by path, size and mtime would then be the other node's bytes.
TEST_F(ConfigSecretsTest, ParentIsThisNodesSnapshotNotAnotherNodesOnTheSameHost) {
  auto first = BackupConfig(*repo_, options_);
  ASSERT_TRUE(first.ok());
  clock_.Advance(60000);
  options_.node_id = "node-2";
  auto other = BackupConfig(*repo_, options_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->parent, "");
  clock_.Advance(60000);
  options_.node_id = "node-1";
  auto again = BackupConfig(*repo_, options_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->parent, repo::IdHex(first->backup.snapshot_id));
}

// The config names its passphrase file by another path than the one the
// backup walks: through a symlinked directory (/etc/ailee -> the real
// directory, a common layout) or a hard link. A group-readable passphrase
// file has no secret shape and no owner-only mode; only the config's naming
// makes it a secret, so the file must be recognised by what it is (device
// and inode), not by the spelling of its path.
TEST_F(ConfigSecretsTest, SecretNamedByTheConfigThroughASymlinkedDirOrHardLinkIsNotStoredInClear) {
  Put(cfg_dir_ + "/backup.pass", "alias-passphrase-31337\n", 0640);
  Put(cfg_dir_ + "/pin-store/pkcs11.pin", "alias-pin-2718\n", 0640);
  ASSERT_EQ(::link((cfg_dir_ + "/pin-store/pkcs11.pin").c_str(), (dir_ + "/pkcs11.pin").c_str()), 0);
  ASSERT_EQ(::symlink(cfg_dir_.c_str(), (dir_ + "/alias").c_str()), 0);
  options_.named_secrets = {{dir_ + "/alias/backup.pass", "backup.passphrase_file"},
                            {dir_ + "/pkcs11.pin", "signer.pkcs11.pin_file"}};
  secrets_ = {{"backup.pass", "alias-passphrase-31337"}, {"pkcs11.pin", "alias-pin-2718"}};
  auto b = BackupConfig(*repo_, options_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  for (const std::string rel : {"/backup.pass", "/pin-store/pkcs11.pin"}) {
    auto it = std::find(b->secrets.begin(), b->secrets.end(), cfg_dir_ + rel);
    EXPECT_NE(it, b->secrets.end()) << rel << " not encrypted";
  }
}

// The project's own secrets in the files a config backup exists for: an env
// file or a compose file that sets the repository, secrets or key-backup
// passphrase (the documented environment variables), group-readable, in any
// spelling an env file allows (export, quotes, CRLF, a BOM, lowercase).
TEST_F(ConfigSecretsTest, EnvAndComposeFilesSettingAileePassphrasesAreNotStoredInClear) {
  Put(cfg_dir_ + "/ailee.env", "\xEF\xBB\xBF# node environment\r\nexport AILEE_REPO_PASSPHRASE='envpass-1111'\r\n", 0644);
  Put(cfg_dir_ + "/compose/docker-compose.yml",
      "services:\n  node:\n    environment:\n      - ailee_secrets_passphrase=composepass-2222\n", 0644);
  Put(cfg_dir_ + "/keys.env", "  AILEE_KEY_PASSPHRASE = \"keypass-3333\"\n", 0640);
  Put(cfg_dir_ + "/rotate.env", "AILEE_NEW_REPO_PASSPHRASE=newpass-4444\n", 0644);
  // Naming a variable is not setting it: this file stays plain.
  Put(cfg_dir_ + "/README", "The passphrase comes from $AILEE_REPO_PASSPHRASE or a file.\n", 0644);
  secrets_ = {{"ailee.env", "envpass-1111"}, {"compose", "composepass-2222"}, {"keys.env", "keypass-3333"},
              {"rotate.env", "newpass-4444"}};
  auto b = BackupConfig(*repo_, options_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  EXPECT_EQ(std::find(b->secrets.begin(), b->secrets.end(), cfg_dir_ + "/README"), b->secrets.end());
}

// A config backup killed with SIGKILL while its staging view exists: the
// view (the config's files, the secrets' ciphertext) must not stay in the
// scratch directory forever; the next backup removes what its killed
// predecessor left, and never a live backup's view.
TEST_F(ConfigSecretsTest, KilledConfigBackupsStagingViewIsRemovedByTheNextBackup) {
  for (int i = 0; i < 20; ++i) Put(cfg_dir_ + "/pins/" + std::to_string(1000 + i) + ".pin", "pin-" + std::to_string(i) + "\n", 0600);
  auto staging_views = [&] {
    std::vector<std::string> out;
    auto names = fs::ListDir(dir_);
    EXPECT_TRUE(names.ok());
    if (!names.ok()) return out;
    for (const auto& name : *names) {
      if (name.rfind(".ailee-config-backup-", 0) == 0) out.push_back(name);
    }
    return out;
  };
  ASSERT_TRUE(staging_views().empty());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto b = BackupConfig(*repo_, options_);
    ::_exit(b.ok() ? 0 : 1);
  }
  bool seen = false;
  for (int i = 0; i < 600000 && !seen; ++i) {
    seen = !staging_views().empty();
    if (!seen) ::usleep(100);
    int ws = 0;
    if (!seen && ::waitpid(child, &ws, WNOHANG) == child) FAIL() << "the backup ended before it could be killed";
  }
  ::kill(child, SIGKILL);
  int ws = 0;
  ASSERT_EQ(::waitpid(child, &ws, 0), child);
  ASSERT_TRUE(seen) << "no staging view appeared";
  ASSERT_TRUE(WIFSIGNALED(ws)) << "the backup ended before it was killed";
  ASSERT_FALSE(staging_views().empty()) << "the killed backup left nothing to clean up";

  auto b = BackupConfig(*repo_, options_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(staging_views().empty()) << "left behind: " << ::testing::PrintToString(staging_views());
}

}  // namespace
}  // namespace ailee::ops
