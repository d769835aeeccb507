// Config loading and validation against real files in a temporary directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "base/fs.h"
#include "config/config.h"
#include "config/drill.h"

namespace ailee::config {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-config-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(fs::MakeDirs(dir_ + "/keys").ok());
    for (int i = 1; i <= 3; ++i) {
      auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
      ASSERT_TRUE(key.ok());
      std::string id = "signer-0" + std::to_string(i);
      ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/keys/" + id + ".pub", key->public_key().Pem()).ok());
      auto pem = key->ToPem();
      ASSERT_TRUE(pem.ok());
      ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/keys/" + id + ".key", pem->view(), 0600).ok());
      fingerprints_.push_back(key->public_key().FingerprintHex());
    }
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::string Write(const std::string& yaml) {
    std::string path = dir_ + "/config.yaml";
    EXPECT_TRUE(fs::WriteFileAtomic(path, yaml).ok());
    return path;
  }

  // A valid leader config; relative paths resolve against dir_.
  std::string ValidYaml() const {
    return "node:\n"
           "  id: node-1\n"
           "  data_dir: data\n"
           "  block_interval_ms: 500\n"
           "federation:\n"
           "  threshold: 2\n"
           "  signers:\n"
           "    - id: signer-01\n"
           "      public_key_file: keys/signer-01.pub\n"
           "      fingerprint: " + fingerprints_[0] + "\n"
           "    - id: signer-02\n"
           "      public_key_file: keys/signer-02.pub\n"
           "    - id: signer-03\n"
           "      public_key_file: keys/signer-03.pub\n"
           "signer:\n"
           "  id: signer-01\n"
           "  key_file: keys/signer-01.key\n"
           "logging:\n"
           "  audit_log: logs/audit.log\n"
           "backup:\n"
           "  secret_paths: [secrets.yaml]\n";
  }

  static bool HasProblem(const std::vector<ConfigProblem>& ps, const std::string& field,
                         const std::string& found_part = "") {
    return std::any_of(ps.begin(), ps.end(), [&](const ConfigProblem& p) {
      return p.field == field && p.found.find(found_part) != std::string::npos;
    });
  }

  static std::string Dump(const std::vector<ConfigProblem>& ps) { return FormatProblems(ps); }

  std::string dir_;
  std::vector<std::string> fingerprints_;
};

TEST_F(ConfigTest, ValidConfigLoadsWithDefaultsAndResolvedPaths) {
  auto cfg = LoadConfig(Write(ValidYaml()));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->node.id, "node-1");
  EXPECT_EQ(cfg->node.data_dir, dir_ + "/data");
  EXPECT_EQ(cfg->node.listen, "127.0.0.1:8545");
  EXPECT_EQ(cfg->node.listen_port, 8545);
  EXPECT_EQ(cfg->node.block_interval_ms, 500);
  EXPECT_EQ(cfg->node.commitment_interval, 100);
  EXPECT_EQ(cfg->node.mempool_capacity, 200000) << "the default changed";
  EXPECT_EQ(cfg->node.admin_token_file, dir_ + "/data/admin.token");
  EXPECT_EQ(cfg->federation.threshold, 2);
  ASSERT_EQ(cfg->federation.signers.size(), 3u);
  EXPECT_EQ(cfg->federation.signers[1].public_key_file, dir_ + "/keys/signer-02.pub");
  ASSERT_TRUE(cfg->signer.has_value());
  EXPECT_EQ(cfg->signer->key_file, dir_ + "/keys/signer-01.key");
  EXPECT_EQ(cfg->logging.audit_log, dir_ + "/logs/audit.log");
  EXPECT_EQ(cfg->logging.level, "info");
  EXPECT_EQ(cfg->backup.repository, "file:///var/backups/ailee/repo");
  EXPECT_EQ(cfg->backup.config_paths, std::vector<std::string>{dir_});
  EXPECT_EQ(cfg->backup.secret_paths, std::vector<std::string>{dir_ + "/secrets.yaml"});

  auto keys = FederationKeys(*cfg);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ(keys->at("signer-01").FingerprintHex(), fingerprints_[0]);
  auto priv = LoadSignerKey(*cfg);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  EXPECT_EQ(priv->public_key().FingerprintHex(), fingerprints_[0]);
  EXPECT_NE(Summary(*cfg).find("2-of-3"), std::string::npos);
}

TEST_F(ConfigTest, InlinePublicKeyAndFollowerWithoutSigner) {
  auto pub = fs::ReadFile(dir_ + "/keys/signer-02.pub");
  ASSERT_TRUE(pub.ok());
  std::string indented;
  for (char c : *pub) indented += c == '\n' ? std::string("\n        ") : std::string(1, c);
  std::string yaml = "node: {id: follower-1, data_dir: /var/lib/f1, listen: '[::1]:0'}\n"
                     "follow: http://127.0.0.1:8545\n"
                     "peers: [http://127.0.0.1:8546]\n"
                     "federation:\n"
                     "  threshold: 1\n"
                     "  signers:\n"
                     "    - id: signer-02\n"
                     "      public_key: |\n        " + indented + "\n";
  auto cfg = LoadConfig(Write(yaml));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->is_follower());
  EXPECT_FALSE(cfg->signer.has_value());
  EXPECT_EQ(cfg->node.listen_host, "::1");
  EXPECT_EQ(cfg->node.listen_port, 0);
  auto keys = FederationKeys(*cfg);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->at("signer-02").FingerprintHex(), fingerprints_[1]);
  EXPECT_EQ(LoadSignerKey(*cfg).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ConfigTest, ReportsEveryProblemAtOnceWithFieldPaths) {
  std::string yaml = "node:\n"
                     "  id: Node_1\n"
                     "  listen: 0.0.0.0:8545\n"
                     "  block_interval_ms: 5\n"
                     "  mempool_capacity: 0\n"
                     "  colour: blue\n"
                     "federation:\n"
                     "  threshold: 4\n"
                     "  signers:\n"
                     "    - id: signer-01\n"
                     "      public_key_file: keys/signer-01.pub\n"
                     "    - id: signer-02\n"
                     "      public_key_file: keys/missing.pub\n"
                     "    - id: signer-01\n"
                     "      public_key_file: keys/signer-03.pub\n"
                     "signer:\n"
                     "  id: signer-09\n"
                     "  key_file: keys/signer-01.key\n"
                     "logging: {level: loud}\n"
                     "backup: {min_copies: 3}\n";
  auto problems = ValidateConfigFile(Write(yaml));
  std::string all = Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "node.id", "Node_1")) << all;
  EXPECT_TRUE(HasProblem(problems, "node.data_dir", "nothing")) << all;
  EXPECT_TRUE(HasProblem(problems, "node.listen", "0.0.0.0:8545")) << all;
  EXPECT_TRUE(HasProblem(problems, "node.block_interval_ms", "5")) << all;
  EXPECT_TRUE(HasProblem(problems, "node.mempool_capacity", "0")) << all;
  EXPECT_TRUE(HasProblem(problems, "node.colour")) << all;
  EXPECT_TRUE(HasProblem(problems, "federation.threshold", "4")) << all;
  EXPECT_TRUE(HasProblem(problems, "federation.signers[1].public_key_file", "missing.pub")) << all;
  EXPECT_TRUE(HasProblem(problems, "federation.signers[2].id", "signer-01")) << all;
  EXPECT_TRUE(HasProblem(problems, "signer.id", "signer-09")) << all;
  EXPECT_TRUE(HasProblem(problems, "logging.level", "loud")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.min_copies", "3")) << all;
  EXPECT_EQ(problems.size(), 12u) << all;

  auto loaded = LoadConfig(dir_ + "/config.yaml");
  ASSERT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find("federation.signers[1].public_key_file: expected an existing file"),
            std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("12 problem(s)"), std::string::npos);
}

TEST_F(ConfigTest, MissingSignerKeyFile) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("keys/signer-01.key"), 18, "keys/absent.key");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "signer.key_file");
  EXPECT_EQ(problems[0].expected, "an existing file");
}

// The shipped unit lets the node write only below /var/lib/ailee: a PKCS#11
// signer's fence goes where signer.pkcs11.fence_file says (resolved like the
// other paths), and a directory that is not there is named.
TEST_F(ConfigTest, Pkcs11FenceFileIsResolvedAndItsDirectoryChecked) {
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/module.so", "not really a module").ok());
  auto with_fence = [&](const std::string& fence) {
    std::string yaml = ValidYaml();
    yaml.replace(yaml.find("  key_file: keys/signer-01.key\n"), 31,
                 "  pkcs11:\n    module: module.so\n    token_label: t\n    key_label: k\n    fence_file: " + fence + "\n");
    return Write(yaml);
  };
  auto cfg = LoadConfig(with_fence("keys/signer-01.fence"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_TRUE(cfg->signer && cfg->signer->pkcs11);
  EXPECT_EQ(cfg->signer->pkcs11->fence_file, dir_ + "/keys/signer-01.fence");

  auto problems = ValidateConfigFile(with_fence("no-such-dir/signer-01.fence"));
  EXPECT_TRUE(HasProblem(problems, "signer.pkcs11.fence_file", "no-such-dir")) << Dump(problems);
}

TEST_F(ConfigTest, FingerprintMismatch) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find(fingerprints_[0]), 64, fingerprints_[1]);
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "federation.signers[0].fingerprint");
  EXPECT_EQ(problems[0].found, fingerprints_[1]);
  EXPECT_NE(problems[0].expected.find(fingerprints_[0]), std::string::npos);
}

TEST_F(ConfigTest, SignerKeyThatIsNotTheFederationKey) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("keys/signer-01.key"), 18, "keys/signer-02.key");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "signer.key_file");
  EXPECT_NE(problems[0].found.find(fingerprints_[1]), std::string::npos);
}

TEST_F(ConfigTest, SignerNotInFederationWithAGenesisSignersKeyIsATypo) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("  id: signer-01\n  key_file"), 16, "  id: signer-07\n");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "signer.id");
  EXPECT_EQ(problems[0].found, "\"signer-07\"");
  EXPECT_NE(problems[0].expected.find("(signer-01)"), std::string::npos) << Dump(problems);
}

// A signer a later federation epoch added is not in the config's (genesis)
// federation: its key file must load; the node checks it against the chain.
TEST_F(ConfigTest, SignerAddedByALaterEpochIsAcceptedWhenItsKeyLoads) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/keys/signer-04.key", pem->view(), 0600).ok());
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("  id: signer-01\n  key_file: keys/signer-01.key"), 46,
               "  id: signer-04\n  key_file: keys/signer-04.key");
  auto problems = ValidateConfigFile(Write(yaml));
  EXPECT_TRUE(problems.empty()) << Dump(problems);
  auto cfg = LoadConfig(dir_ + "/config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto loaded = LoadSignerKey(*cfg);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_key().FingerprintHex(), key->public_key().FingerprintHex());

  // Its key file must still load.
  yaml.replace(yaml.find("keys/signer-04.key"), 18, "keys/missing-04.key");
  problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "signer.key_file");
}

TEST_F(ConfigTest, ThresholdAboveSignerCount) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("threshold: 2"), 12, "threshold: 5");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "federation.threshold");
  EXPECT_EQ(problems[0].expected, "at most 3 (the number of signers)");
  EXPECT_EQ(problems[0].found, "5");
}

TEST_F(ConfigTest, NonLoopbackListenNeedsAllowPublic) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("  data_dir: data\n"), 16, "  data_dir: data\n  listen: 10.1.2.3:8545\n");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "node.listen");

  yaml.replace(yaml.find("  listen:"), 9, "  allow_public: true\n  listen:");
  auto cfg = LoadConfig(Write(yaml));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->node.listen_host, "10.1.2.3");
}

TEST_F(ConfigTest, WorldReadableSignerKeyIsAProblem) {
  ASSERT_EQ(::chmod((dir_ + "/keys/signer-01.key").c_str(), 0644), 0);
  auto problems = ValidateConfigFile(Write(ValidYaml()));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "signer.key_file");
  EXPECT_EQ(problems[0].found, "mode 0644");
}

TEST_F(ConfigTest, GarbageKeyFilesAndDuplicateKeys) {
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/keys/signer-03.pub", "not a key\n").ok());
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("keys/signer-02.pub"), 18, "keys/signer-01.pub");
  auto problems = ValidateConfigFile(Write(yaml));
  EXPECT_TRUE(HasProblem(problems, "federation.signers[2].public_key_file", "unparsable")) << Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "federation.signers[1]", "signer-01")) << Dump(problems);
  EXPECT_EQ(problems.size(), 2u) << Dump(problems);
}

TEST_F(ConfigTest, SyntaxErrorsAndMissingFiles) {
  auto problems = ValidateConfigFile(Write("node: [unclosed\n"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].expected, "valid YAML");
  EXPECT_NE(problems[0].found.find("line"), std::string::npos);

  EXPECT_EQ(LoadConfig(dir_ + "/nope.yaml").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ValidateConfigFile(dir_ + "/nope.yaml").size(), 1u);

  problems = ValidateConfigFile(Write(""));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "");
}

TEST_F(ConfigTest, DuplicateFieldIsAProblem) {
  std::string yaml = ValidYaml();
  yaml.replace(yaml.find("  block_interval_ms: 500\n"), 24, "  block_interval_ms: 500\n  block_interval_ms: 700\n");
  auto problems = ValidateConfigFile(Write(yaml));
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "node.block_interval_ms");
  EXPECT_EQ(problems[0].message, "duplicate field");
}

TEST_F(ConfigTest, LeaderWithoutSignerAndBadUrls) {
  std::string yaml = "node: {id: n1, data_dir: /d}\n"
                     "federation: {threshold: 1, signers: [{id: signer-01, public_key_file: keys/signer-01.pub}]}\n"
                     "peers: [ftp://x, 'http://127.0.0.1:9000']\n"
                     "backup: {repository: 'bad scheme://x', secondary_repositories: [s3://bucket/p]}\n";
  auto problems = ValidateConfigFile(Write(yaml));
  EXPECT_TRUE(HasProblem(problems, "signer", "nothing")) << Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "peers[0]", "ftp://x")) << Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "backup.repository")) << Dump(problems);
  EXPECT_EQ(problems.size(), 3u) << Dump(problems);
}

TEST_F(ConfigTest, S3SectionLoadsAndEveryBadFieldIsNamed) {
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/aws-credentials", "[default]\n", 0600).ok());
  auto cfg = LoadConfig(Write(ValidYaml() +
                              "  s3:\n"
                              "    endpoint: http://127.0.0.1:9000\n"
                              "    region: eu-central-1\n"
                              "    path_style: true\n"
                              "    credentials_file: aws-credentials\n"
                              "    storage_class: STANDARD_IA\n"
                              "    storage_classes: {data/: GLACIER_IR}\n"
                              "    object_lock: {mode: COMPLIANCE, retention_days: 35}\n"
                              "    retry: {max_attempts: 4, budget_s: 30}\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const S3Section& s3 = cfg->backup.s3;
  EXPECT_EQ(s3.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(s3.region, "eu-central-1");
  EXPECT_EQ(s3.path_style, std::optional<bool>(true));
  EXPECT_EQ(s3.credentials_file, dir_ + "/aws-credentials");
  EXPECT_EQ(s3.storage_classes.at("data/"), "GLACIER_IR");
  EXPECT_EQ(s3.object_lock_mode, "COMPLIANCE");
  EXPECT_EQ(s3.retention_days, 35);
  EXPECT_EQ(s3.retry_max_attempts, 4);
  EXPECT_EQ(s3.retry_budget_s, 30);

  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/open-credentials", "[default]\n", 0644).ok());
  auto problems = ValidateConfigFile(Write(ValidYaml() +
                                           "  s3:\n"
                                           "    endpoint: ftp://x\n"
                                           "    credentials_file: open-credentials\n"
                                           "    object_lock: {mode: FOREVER}\n"
                                           "    part_size_mib: 1\n"
                                           "    secret_access_key: oops\n"));
  std::string all = Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "backup.s3.endpoint", "ftp://x")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.s3.credentials_file", "0644")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.s3.object_lock.mode", "FOREVER")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.s3.object_lock.retention_days")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.s3.part_size_mib", "1")) << all;
  EXPECT_TRUE(HasProblem(problems, "backup.s3.secret_access_key")) << all << " (keys never live in the config)";
  EXPECT_EQ(problems.size(), 6u) << all;
}

TEST_F(ConfigTest, CompressionNamesLevelsAndRejectsTheRest) {
  EXPECT_EQ(ParseCompression("auto"), std::optional<int>(kCompressionAuto));
  EXPECT_EQ(ParseCompression("off"), std::optional<int>(0));
  EXPECT_EQ(ParseCompression("fast"), std::optional<int>(1));
  EXPECT_EQ(ParseCompression("max"), std::optional<int>(9));
  EXPECT_EQ(ParseCompression("19"), std::optional<int>(19));
  for (const char* bad : {"", "0", "20", "-1", "3x", "zip", "AUTO"}) EXPECT_FALSE(ParseCompression(bad)) << bad;

  auto defaults = LoadConfig(Write(ValidYaml()));
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->backup.compression_level, kCompressionAuto);
  auto off = LoadConfig(Write(ValidYaml() + "  compression: \"off\"\n"));
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->backup.compression_level, 0);

  auto problems = ValidateConfigFile(Write(ValidYaml() + "  compression: zip\n"));
  EXPECT_TRUE(HasProblem(problems, "backup.compression", "zip")) << Dump(problems);
  EXPECT_EQ(problems.size(), 1u) << Dump(problems);
}

// monitoring.textfile_dir: resolved like every path, and named by
// validate-config when it is no directory (a job would only warn).
TEST_F(ConfigTest, MonitoringTextfileDirMustBeAnExistingDirectory) {
  auto none = LoadConfig(Write(ValidYaml()));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->monitoring.textfile_dir, "");

  ASSERT_TRUE(fs::MakeDirs(dir_ + "/textfile").ok());
  auto good = LoadConfig(Write(ValidYaml() + "monitoring:\n  textfile_dir: textfile\n"));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->monitoring.textfile_dir, dir_ + "/textfile");

  auto missing = ValidateConfigFile(Write(ValidYaml() + "monitoring:\n  textfile_dir: absent\n"));
  EXPECT_TRUE(HasProblem(missing, "monitoring.textfile_dir", dir_ + "/absent")) << Dump(missing);
  EXPECT_EQ(missing.size(), 1u) << Dump(missing);

  auto file = ValidateConfigFile(Write(ValidYaml() + "monitoring:\n  textfile_dir: keys/signer-01.pub\n"));
  EXPECT_TRUE(HasProblem(file, "monitoring.textfile_dir", "not a directory")) << Dump(file);

  auto unknown = ValidateConfigFile(Write(ValidYaml() + "monitoring:\n  textfile: textfile\n"));
  EXPECT_FALSE(unknown.empty()) << "an unknown key under monitoring is a problem";
}

// drill.targets: the objectives a drill is judged against (docs/drills.md),
// validated with the rest of the document and read by LoadDrillTargets.
TEST_F(ConfigTest, DrillTargetsAreReadAndValidated) {
  auto cfg = LoadConfig(Write(ValidYaml() + "drill:\n  targets:\n    rto_s: 600\n    rpo_blocks: 40\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto t = LoadDrillTargets(*cfg);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rto_s, 600);
  EXPECT_FALSE(t->rpo_s.has_value()) << "unset: the runbook's default applies";
  EXPECT_EQ(t->rpo_blocks, 40);

  auto none = LoadConfig(Write(ValidYaml()));
  ASSERT_TRUE(none.ok());
  auto empty = LoadDrillTargets(*none);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->rto_s || empty->rpo_s || empty->rpo_blocks);

  auto problems = ValidateConfigFile(Write(ValidYaml() + "drill:\n  targets:\n    rto_s: 0\n    rpo: 5\n  keys: 1\n"));
  const std::string all = Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "drill.targets.rto_s", "0")) << all;
  EXPECT_TRUE(HasProblem(problems, "drill.targets.rpo", "")) << all;
  EXPECT_TRUE(HasProblem(problems, "drill.keys", "")) << all;
}

// drill.test_token: the key drill's PKCS#11 test token; paths relative to
// the config's directory, module and label required.
TEST_F(ConfigTest, DrillTestTokenIsReadWithPathsResolvedAndValidated) {
  auto cfg = LoadConfig(Write(ValidYaml() + "drill:\n  test_token:\n    module: lib/softhsm.so\n    token_label: ailee-drill\n"
                                            "    pin_file: drill.pin\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto d = LoadDrillSection(*cfg);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE(d->test_token.has_value());
  EXPECT_EQ(d->test_token->module, cfg->config_dir + "/lib/softhsm.so");
  EXPECT_EQ(d->test_token->token_label, "ailee-drill");
  EXPECT_EQ(d->test_token->pin_file, cfg->config_dir + "/drill.pin");

  auto problems = ValidateConfigFile(Write(ValidYaml() + "drill:\n  test_token:\n    module: x.so\n    pin: 1234\n"));
  const std::string all = Dump(problems);
  EXPECT_TRUE(HasProblem(problems, "drill.test_token.token_label", "")) << all;
  EXPECT_TRUE(HasProblem(problems, "drill.test_token.pin", "")) << all;
}

}  // namespace
}  // namespace ailee::config
