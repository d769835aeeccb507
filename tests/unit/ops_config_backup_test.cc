// Config backup and restore against a real repository, real files and real
// gpg: the diff, modes, secrets readable by stock gpg, rollback of an
// invalid config, and the cost of an unchanged backup.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "ops/config/backup.h"
#include "ops/config/restore.h"
#include "ops/config/snapshot.h"
#include "ops_config_test_util.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

using testing::Get;
using testing::ModeOf;
using testing::Put;

class ConfigBackupTest : public testing::OpsRepoTest {
 protected:
  void SetUp() override {
    OpsRepoTest::SetUp();
    testing::WriteNodeConfigTree(dir_);
    cfg_dir_ = dir_ + "/etc/ailee";
    options_.config_path = cfg_dir_ + "/config.yaml";
    options_.node_id = "node-1";
    options_.paths = {cfg_dir_, dir_ + "/opt/ailee-core/.env"};
    options_.secret_paths = {cfg_dir_ + "/secrets.yaml"};
    options_.secrets_passphrase = &pass_;
    options_.scratch_dir = dir_;
    options_.host = "node-host";
  }

  ConfigBackupResult Backup() {
    auto r = BackupConfig(*repo_, options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    clock_.Advance(60000);
    return r.ok() ? *r : ConfigBackupResult{};
  }

  ConfigRestoreReport Restore(const std::string& ref, bool dry_run) {
    ConfigRestoreOptions o;
    o.dry_run = dry_run;
    o.secrets_passphrase = &pass_;
    o.scope.node_id = "node-1";  // "latest" is this node's
    auto r = RestoreConfig(*repo_, ref, "/", o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ConfigRestoreReport{};
  }

  static const ConfigChange* Find(const ConfigRestoreReport& r, const std::string& path) {
    for (const auto& c : r.changes) {
      if (c.path == path) return &c;
    }
    return nullptr;
  }

  crypto::SecureBytes pass_{std::string_view("secret pass phrase")};
  std::string cfg_dir_;
  ConfigBackupOptions options_;
};

TEST_F(ConfigBackupTest, ChangeThenRestoreShowsDiffAndPutsFilesAndModesBack) {
  auto b = Backup();
  EXPECT_EQ(b.secrets, std::vector<std::string>{cfg_dir_ + "/secrets.yaml"});
  EXPECT_EQ(b.files, 4u);  // config, pub key, notes, .env

  // The snapshot mirrors absolute paths and holds the secret only as ciphertext.
  auto snap = repo::FindSnapshot(*repo_, "latest", {"config", ""});
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->kind, "config");
  EXPECT_EQ(snap->meta["node_id"], "node-1");
  EXPECT_EQ(snap->meta["secrets"][0], cfg_dir_ + "/secrets.yaml");
  bool has_cipher = false;
  for (const auto& f : snap->files) {
    EXPECT_EQ(f.path.find("secrets.yaml", 0) != std::string::npos && f.path.rfind(".secrets/", 0) != 0, false) << f.path;
    has_cipher |= f.path == ".secrets" + cfg_dir_ + "/secrets.yaml.gpg";
  }
  EXPECT_TRUE(has_cipher);

  Put(cfg_dir_ + "/config.yaml", testing::ValidConfigYaml() + "# local edit\n", 0644);
  ASSERT_EQ(::chmod((dir_ + "/opt/ailee-core/.env").c_str(), 0666), 0);
  ASSERT_EQ(::unlink((cfg_dir_ + "/notes.txt").c_str()), 0);
  Put(cfg_dir_ + "/extra.conf", "new\n");
  Put(cfg_dir_ + "/secrets.yaml", "admin_token: tampered\n", 0644);

  auto dry = Restore("latest", true);
  const auto* c = Find(dry, cfg_dir_ + "/config.yaml");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ConfigChange::Kind::kChanged);
  EXPECT_NE(c->detail.find("mode 0644 -> 0640"), std::string::npos) << c->detail;
  EXPECT_NE(c->detail.find("sha256"), std::string::npos) << c->detail;
  EXPECT_NE(c->text_diff.find("-# local edit"), std::string::npos) << c->text_diff;
  EXPECT_EQ(Find(dry, dir_ + "/opt/ailee-core/.env")->detail, "mode 0666 -> 0640");
  EXPECT_EQ(Find(dry, cfg_dir_ + "/notes.txt")->kind, ConfigChange::Kind::kAdded);
  EXPECT_EQ(Find(dry, cfg_dir_ + "/extra.conf")->kind, ConfigChange::Kind::kRemoved);
  EXPECT_EQ(Find(dry, cfg_dir_ + "/secrets.yaml")->kind, ConfigChange::Kind::kChanged);
  EXPECT_EQ(Find(dry, cfg_dir_ + "/keys/signer-01.pub")->kind, ConfigChange::Kind::kUnchanged);
  // A dry run writes nothing.
  EXPECT_NE(Get(cfg_dir_ + "/config.yaml").find("# local edit"), std::string::npos);
  EXPECT_FALSE(fs::Exists(cfg_dir_ + "/notes.txt"));

  auto r = Restore("latest", false);
  EXPECT_TRUE(r.validated);
  EXPECT_FALSE(r.rolled_back);
  EXPECT_EQ(Get(cfg_dir_ + "/config.yaml"), testing::ValidConfigYaml());
  EXPECT_EQ(ModeOf(cfg_dir_ + "/config.yaml"), 0640u);
  EXPECT_EQ(ModeOf(dir_ + "/opt/ailee-core/.env"), 0640u);
  EXPECT_EQ(Get(cfg_dir_ + "/notes.txt"), "operator notes\n");
  EXPECT_EQ(Get(cfg_dir_ + "/secrets.yaml"), "admin_token: s3cr3t-token-value\n");
  EXPECT_EQ(ModeOf(cfg_dir_ + "/secrets.yaml"), 0600u);  // its recorded mode (was: always 0400)
  EXPECT_TRUE(fs::Exists(cfg_dir_ + "/extra.conf"));  // not in the snapshot: left in place
  for (const auto& name : testing::Names(cfg_dir_)) EXPECT_EQ(name.rfind(".ailee-", 0), std::string::npos) << name;

  auto again = Restore("latest", true);
  EXPECT_EQ(again.Count(ConfigChange::Kind::kChanged) + again.Count(ConfigChange::Kind::kAdded), 0u);
}

TEST_F(ConfigBackupTest, ExportIsPlainTarGzAndSecretsOpenWithStockGpg) {
  auto b = Backup();
  std::string archive = dir_ + "/config.tar.gz";
  ConfigExportOptions eo;
  eo.scope.node_id = "node-1";
  auto e = ExportConfig(*repo_, "latest", archive, eo);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->secrets, 1u);
  std::string x = dir_ + "/x";
  ASSERT_TRUE(fs::MakeDirs(x).ok());
  ASSERT_EQ(std::system(("tar xzf '" + archive + "' -C '" + x + "'").c_str()), 0);
  EXPECT_EQ(Get(x + cfg_dir_ + "/config.yaml"), testing::ValidConfigYaml());
  EXPECT_FALSE(fs::Exists(x + cfg_dir_ + "/secrets.yaml"));
  std::string gpg_file = x + "/.secrets" + cfg_dir_ + "/secrets.yaml.gpg";
  ASSERT_TRUE(fs::Exists(gpg_file));
  EXPECT_EQ(Get(gpg_file).find("s3cr3t"), std::string::npos);
  EXPECT_EQ(testing::StockGpgDecrypt(dir_, gpg_file, "secret pass phrase"), "admin_token: s3cr3t-token-value\n");
  auto manifest = nlohmann::json::parse(Get(x + "/MANIFEST.json"));
  EXPECT_EQ(manifest["format"], "ailee-config/1");

  // Import into a fresh target, decrypting the secrets.
  ConfigImportOptions io;
  io.secrets_passphrase = &pass_;
  io.validate = false;
  auto imp = ImportConfigArchive(archive, dir_ + "/imported", io);
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_EQ(imp->secrets_decrypted, 1u);
  EXPECT_EQ(Get(dir_ + "/imported" + cfg_dir_ + "/secrets.yaml"), "admin_token: s3cr3t-token-value\n");
  EXPECT_EQ(ModeOf(dir_ + "/imported" + cfg_dir_ + "/secrets.yaml"), 0400u);
}

TEST_F(ConfigBackupTest, InvalidRestoredConfigIsCaughtAndOldFilesKept) {
  Put(cfg_dir_ + "/config.yaml", testing::ValidConfigYaml(5), 0640);  // threshold 5 of 1 signer
  Backup();
  std::string good = testing::ValidConfigYaml() + "# current, valid\n";
  Put(cfg_dir_ + "/config.yaml", good, 0640);
  ASSERT_EQ(::unlink((cfg_dir_ + "/notes.txt").c_str()), 0);

  ConfigRestoreOptions o;
  o.secrets_passphrase = &pass_;
  o.scope.node_id = "node-1";
  auto r = RestoreConfig(*repo_, "latest", "/", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rolled_back);
  ASSERT_FALSE(r->problems.empty());
  EXPECT_NE(r->problems[0].find("threshold"), std::string::npos) << r->problems[0];
  EXPECT_EQ(r->ToStatus().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(cfg_dir_ + "/config.yaml"), good);
  EXPECT_FALSE(fs::Exists(cfg_dir_ + "/notes.txt"));  // added by the restore, removed again
  for (const auto& name : testing::Names(cfg_dir_)) EXPECT_EQ(name.rfind(".ailee-", 0), std::string::npos) << name;
}

TEST_F(ConfigBackupTest, UnchangedConfigBackupStoresNothingNew) {
  auto first = Backup();
  EXPECT_GT(first.backup.stats.bytes_new, 0u);
  auto second = Backup();
  EXPECT_EQ(second.parent, repo::IdHex(first.backup.snapshot_id));
  EXPECT_EQ(second.backup.stats.bytes_new, 0u);
  EXPECT_EQ(second.backup.stats.blobs_new, 0u);
  EXPECT_EQ(second.backup.stats.bytes_read, 0u);  // every file reused from the parent unread
  EXPECT_EQ(second.secrets_reused, 1u);

  // A changed secret is re-encrypted; a changed passphrase re-encrypts too.
  Put(cfg_dir_ + "/secrets.yaml", "admin_token: rotated\n", 0600);
  auto third = Backup();
  EXPECT_EQ(third.secrets_reused, 0u);
  EXPECT_GT(third.backup.stats.blobs_new, 0u);
}

TEST_F(ConfigBackupTest, RefusesToStoreSecretsWithoutPassphrase) {
  options_.secrets_passphrase = nullptr;
  auto r = BackupConfig(*repo_, options_);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("secrets.yaml"), std::string::npos);
}

}  // namespace
}  // namespace ailee::ops
