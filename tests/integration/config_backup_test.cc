// Config backups through real ailee-cli processes on a real repository on
// disk: no secret ever in clear in the repository or an export, whether the
// operator listed it or not; and "latest" in a repository shared by several
// nodes is this node's.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/fs.h"
#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lines of a PEM body (the key material, not the armour).
std::vector<std::string> PemBody(const std::string& pem) {
  std::vector<std::string> out;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.rfind("-----", 0) != 0) out.push_back(line);
  }
  return out;
}

// Every regular file below `dir`, byte for byte, with where each secret
// value was found. Symlinks are not followed.
std::vector<std::string> FindSecrets(const std::string& dir, const std::map<std::string, std::string>& secrets) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::string data = Slurp(it->path().string());
    for (const auto& [name, value] : secrets) {
      if (data.find(value) != std::string::npos) found.push_back(name + " in " + it->path().string());
    }
  }
  return found;
}

std::vector<std::string> FindSecretsIn(const std::string& what, const std::string& data,
                                       const std::map<std::string, std::string>& secrets) {
  std::vector<std::string> found;
  for (const auto& [name, value] : secrets) {
    if (data.find(value) != std::string::npos) found.push_back(name + " in " + what);
  }
  return found;
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

class ConfigBackupIt : public ::testing::Test {
 protected:
  // A node whose config directory holds, besides config.yaml, every kind of
  // secret: files the config names (repository passphrase file, admin token,
  // S3 credentials file; the signer key via backup.config_paths), a PEM key
  // the operator dropped into a listed directory with mode 0644, an OpenSSH
  // key, an owner-only PIN file. Only secrets.yaml is listed as a secret.
  void MakeWorld(const std::string& tag) {
    world_ = std::make_unique<RepoWorld>(tag);
    const std::string root = world_->scenario().dir().path();
    const std::string node_dir = root + "/node-1";
    // Group-readable (as a service group would need): only the config names them.
    ASSERT_EQ(::chmod(world_->pass_file().c_str(), 0640), 0);
    ASSERT_EQ(::chmod(world_->scenario().signer().key_file.c_str(), 0640), 0);
    ASSERT_OK(WriteFile(node_dir + "/aws/credentials",
                        "[default]\naws_access_key_id = AKIAEXAMPLEKEYID0001\n"
                        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n", 0640));
    const std::string backup_yaml = "  config_paths: [" + node_dir + ", " + root + "/keys, " + world_->pass_file() + "]\n"
                                    "  secret_paths: [secrets.yaml]\n"
                                    "  s3:\n    credentials_file: aws/credentials\n";
    node_ = &world_->AddNode("node-1", backup_yaml);
    ASSERT_OK(WriteFile(node_dir + "/secrets.yaml", "admin_token: listed-secret-value-0001\n", 0600));
    ASSERT_OK(WriteFile(node_dir + "/data/admin.token", "admintoken-f00dfeed-0123456789abcdef\n", 0640));
    auto extra = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    ASSERT_TRUE(extra.ok());
    auto extra_pem = extra->ToPem();
    ASSERT_TRUE(extra_pem.ok());
    ASSERT_OK(WriteFile(node_dir + "/keys/extra.pem", std::string(extra_pem->view()), 0644));
    ASSERT_OK(WriteFile(node_dir + "/keys/id_ed25519",
                        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
                        "-----END OPENSSH PRIVATE KEY-----\n", 0644));
    ASSERT_OK(WriteFile(node_dir + "/pkcs11.pin", "pin-739146285\n", 0400));
    ASSERT_OK(WriteFile(node_dir + "/notes.txt", "operator notes, nothing secret\n", 0644));
    secrets_file_ = root + "/secrets.pass";
    ASSERT_OK(WriteFile(secrets_file_, "secrets pass phrase for the test\n", 0600));

    secrets_["repository passphrase (backup.passphrase_file, 0640)"] = "correct horse battery staple " + tag;
    secrets_["admin token (node.admin_token_file, 0640)"] = "admintoken-f00dfeed-0123456789abcdef";
    secrets_["aws_secret_access_key (backup.s3.credentials_file)"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    secrets_["secrets.yaml (listed)"] = "listed-secret-value-0001";
    secrets_["OpenSSH key (0644)"] = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
    secrets_["PKCS#11 PIN (0400)"] = "pin-739146285";
    int i = 0;
    for (const auto& line : PemBody(Slurp(world_->scenario().signer().key_file))) {
      secrets_["signer key (signer.key_file, 0640) line " + std::to_string(i++)] = line;
    }
    i = 0;
    for (const auto& line : PemBody(std::string(extra_pem->view()))) {
      secrets_["keys/extra.pem (0644, PEM private key) line " + std::to_string(i++)] = line;
    }
    originals_ = {world_->pass_file(), world_->scenario().signer().key_file, node_dir + "/aws/credentials",
                  node_dir + "/secrets.yaml", node_dir + "/data/admin.token", node_dir + "/keys/extra.pem",
                  node_dir + "/keys/id_ed25519", node_dir + "/pkcs11.pin", node_dir + "/notes.txt"};
    ASSERT_OK(world_->InitRepo());
  }

  CommandResult Cli(const std::vector<std::string>& args) const { return world_->Cli(*node_, args); }

  // Every byte the repository holds about the config: the raw files of the
  // repository (packs, index, snapshots), every blob of every config
  // snapshot decrypted through the repository (`restore` of the raw
  // snapshot tree), and the snapshot documents with their manifests.
  std::vector<std::string> SecretsInRepository() {
    std::vector<std::string> found = FindSecrets(world_->repo_dir(), secrets_);
    CommandResult list = Cli({"--json", "snapshots", "--kind", "config"});
    EXPECT_EQ(list.exit_code, 0) << list;
    for (auto& f : FindSecretsIn("`snapshots --json` (snapshot documents and manifests)", list.out, secrets_)) found.push_back(f);
    auto doc = nlohmann::json::parse(list.out.substr(0, list.out.find("\n{")), nullptr, false);
    int n = 0;
    for (const auto& snap : doc.is_object() ? doc["snapshots"] : nlohmann::json::array()) {
      std::string dump = world_->scenario().dir().Join("dump-" + std::to_string(n++));
      CommandResult r = Cli({"restore", snap.value("id", ""), "--kind", "config", "--target", dump});
      EXPECT_EQ(r.exit_code, 0) << r;
      for (auto& f : FindSecrets(dump, secrets_)) found.push_back(f);
    }
    EXPECT_GT(n, 0) << list;
    return found;
  }

  std::vector<std::string> SecretsInExport(const std::string& archive) {
    std::string raw = archive + ".tar";
    EXPECT_EQ(std::system(("gzip -dc '" + archive + "' > '" + raw + "'").c_str()), 0);
    return FindSecretsIn(archive + " (the tar stream)", Slurp(raw), secrets_);
  }

  std::unique_ptr<RepoWorld> world_;
  TestNode* node_ = nullptr;
  std::string secrets_file_;
  std::map<std::string, std::string> secrets_;  // what -> a value that must never be stored in clear
  std::vector<std::string> originals_;
};

TEST_F(ConfigBackupIt, SecretsNamedByConfigOrSecretShapedAreNeverStoredOrExportedInClear) {
  MakeWorld("cfg-secrets");
  CommandResult b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;

  std::vector<std::string> found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  std::string archive = world_->scenario().dir().Join("export.tar.gz");
  CommandResult e = Cli({"config", "export", "latest", "--output", archive});
  ASSERT_EQ(e.exit_code, 0) << e;
  found = SecretsInExport(archive);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  // Restore puts every secret back, decrypted, with its mode.
  std::string target = world_->scenario().dir().Join("restored");
  CommandResult r = Cli({"config", "restore", "latest", "--target", target, "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(r.exit_code, 0) << r;
  for (const auto& p : originals_) {
    EXPECT_EQ(Slurp(target + p), Slurp(p)) << p;
    EXPECT_EQ(ModeOf(target + p), ModeOf(p)) << p;
  }
}

TEST_F(ConfigBackupIt, FifoOrSymlinkWhereASecretFileBelongsIsSkippedWithoutHangingOrLeaking) {
  MakeWorld("cfg-special");
  const std::string node_dir = world_->scenario().dir().path() + "/node-1";
  // The admin token is a fifo nobody writes to, and a .pem is a symlink to the signer key.
  ASSERT_EQ(::unlink((node_dir + "/data/admin.token").c_str()), 0);
  ASSERT_EQ(::mkfifo((node_dir + "/data/admin.token").c_str(), 0600), 0);
  ASSERT_EQ(::symlink(world_->scenario().signer().key_file.c_str(), (node_dir + "/keys/link.pem").c_str()), 0);
  CommandResult b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  EXPECT_FALSE(b.timed_out) << b;
  EXPECT_NE(b.out.find("admin.token"), std::string::npos) << b;  // reported as skipped
  EXPECT_NE(b.out.find("link.pem"), std::string::npos) << b;
  std::vector<std::string> found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
}

TEST_F(ConfigBackupIt, FileReplacedWithSameNameSizeAndMtimeIsStoredAnewAndEncryptedWhenSecretShaped) {
  MakeWorld("cfg-replaced");
  const std::string notes = world_->scenario().dir().path() + "/node-1/notes.txt";
  CommandResult b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  struct stat before {};
  ASSERT_EQ(::stat(notes.c_str(), &before), 0);
  // Same name, size, mode and mtime; new content holding a secret.
  std::string replaced = "aws_secret_access_key=Zx9";
  replaced.resize(static_cast<size_t>(before.st_size), 'Q');
  ASSERT_OK(WriteFile(notes, replaced, 0644));
  timespec t[2] = {before.st_mtim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, notes.c_str(), t, 0), 0);
  secrets_["replaced notes.txt (same size and mtime)"] = replaced;

  b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  std::vector<std::string> found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  // A plain file replaced the same way is stored anew too: restore gives the new content.
  const std::string env = world_->scenario().dir().path() + "/node-1/plain.conf";
  ASSERT_OK(WriteFile(env, "listen_mode = A\n", 0644));
  b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  ASSERT_EQ(::stat(env.c_str(), &before), 0);
  ASSERT_OK(WriteFile(env, "listen_mode = B\n", 0644));
  timespec t2[2] = {before.st_mtim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, env.c_str(), t2, 0), 0);
  b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  std::string target = world_->scenario().dir().Join("restored");
  CommandResult r = Cli({"config", "restore", "latest", "--target", target, "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Slurp(target + env), "listen_mode = B\n");
  EXPECT_EQ(Slurp(target + notes), replaced);
}

// SIGKILL while the backup's staging view exists: whatever a killed backup
// leaves on disk holds no secret in clear, and the next backup succeeds.
TEST_F(ConfigBackupIt, KilledBackupLeavesNoSecretInClearOnDisk) {
  MakeWorld("cfg-kill");
  const std::string scratch = world_->scenario().dir().Join("tmp");
  ASSERT_OK(fs::MakeDirs(scratch));
  const char* old_tmp = std::getenv("TMPDIR");
  std::string saved = old_tmp ? old_tmp : "";
  ::setenv("TMPDIR", scratch.c_str(), 1);  // the staging view goes below $TMPDIR
  auto p = world_->Background(*node_, {"config", "backup", "--secrets-passphrase-file", secrets_file_},
                              world_->scenario().dir().Join("killed-backup.log"));
  if (old_tmp) ::setenv("TMPDIR", saved.c_str(), 1); else ::unsetenv("TMPDIR");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // Kill once the staging view has files (or the backup ended first).
  WaitUntil([&] {
    for (const auto& [rel, size] : FilesUnder(scratch)) {
      (void)size;
      if (rel.find(".ailee-config-backup-") != std::string::npos) return true;
    }
    return !p->Running();
  }, Millis(60000), Millis(1));
  p->Signal(SIGKILL);
  p->Wait(Millis(30000));
  std::vector<std::string> found = FindSecrets(scratch, secrets_);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  found = FindSecrets(world_->repo_dir(), secrets_);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  CommandResult b = Cli({"config", "backup", "--secrets-passphrase-file", secrets_file_});
  ASSERT_EQ(b.exit_code, 0) << b;
  found = SecretsInRepository();
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
}

// Two nodes back up their configs into one repository; node-2's is newer.
TEST_F(ConfigBackupIt, RestoreLatestTakesThisNodesConfigInASharedRepository) {
  RepoWorld w("cfg-hosts");
  TestNode& n1 = w.AddNode("node-1");
  TestNode& n2 = w.AddNode("node-2");
  ASSERT_OK(w.InitRepo());
  std::string pass = w.scenario().dir().Join("secrets.pass");
  ASSERT_OK(WriteFile(pass, "secrets pass phrase\n", 0600));
  ASSERT_OK(WriteFile(n1.dir() + "/which", "node-1's config\n", 0644));
  ASSERT_OK(WriteFile(n2.dir() + "/which", "node-2's config\n", 0644));
  CommandResult b = w.Cli(n1, {"config", "backup", "--secrets-passphrase-file", pass});
  ASSERT_EQ(b.exit_code, 0) << b;
  b = w.Cli(n2, {"config", "backup", "--secrets-passphrase-file", pass});
  ASSERT_EQ(b.exit_code, 0) << b;

  std::string t1 = w.scenario().dir().Join("t1");
  CommandResult r = w.Cli(n1, {"config", "restore", "latest", "--target", t1, "--secrets-passphrase-file", pass});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Slurp(t1 + n1.dir() + "/which"), "node-1's config\n");
  EXPECT_FALSE(Exists(t1 + n2.dir())) << "node-1 restored node-2's config";

  std::string archive = w.scenario().dir().Join("n1.tar.gz");
  CommandResult e = w.Cli(n1, {"config", "export", "latest", "--output", archive});
  ASSERT_EQ(e.exit_code, 0) << e;
  std::string x = w.scenario().dir().Join("x1");
  ASSERT_OK(fs::MakeDirs(x));
  ASSERT_EQ(std::system(("tar xzf '" + archive + "' -C '" + x + "' MANIFEST.json").c_str()), 0);
  EXPECT_EQ(nlohmann::json::parse(Slurp(x + "/MANIFEST.json")).value("node_id", ""), "node-1");

  // --host picks another node's on purpose.
  std::string t2 = w.scenario().dir().Join("t2");
  r = w.Cli(n1, {"config", "restore", "latest", "--host", "node-2", "--target", t2, "--secrets-passphrase-file", pass,
                 "--no-validate"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Slurp(t2 + n2.dir() + "/which"), "node-2's config\n");

  // A node with no config snapshot gets a message naming the ones that exist.
  TestNode& n3 = w.AddNode("node-3");
  r = w.Cli(n3, {"config", "restore", "latest", "--target", w.scenario().dir().Join("t3"), "--dry-run"});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("node 'node-3'"), std::string::npos) << r;
  EXPECT_NE(r.err.find("node-1"), std::string::npos) << r;
}

}  // namespace
}  // namespace ailee::it
