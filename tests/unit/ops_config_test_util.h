// Shared by the ops_config_* and ops_logs_* tests: a scratch directory, a
// real repository (cheap KDF) on a memory store with a FakeClock, and a
// node config tree with a secret.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "crypto/asymmetric.h"
#include "crypto/kdf.h"
#include "repo/repository.h"
#include "storage/memory_object_store.h"

namespace ailee::ops::testing {

inline void Put(const std::string& path, const std::string& data, unsigned mode = 0644, int64_t mtime_sec = -1) {
  ASSERT_TRUE(fs::MakeDirs(fs::Dirname(path)).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(path, data, mode).ok()) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  if (mtime_sec >= 0) {
    timespec t[2] = {{mtime_sec, 0}, {mtime_sec, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
  }
}

inline std::string Get(const std::string& path) {
  auto r = fs::ReadFile(path);
  return r.ok() ? *r : std::string("<missing>");
}

inline std::vector<std::string> Names(const std::string& dir) {
  auto r = fs::ListDir(dir);
  return r.ok() ? *r : std::vector<std::string>{};
}

inline unsigned ModeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class OpsRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-ops-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = std::make_shared<storage::MemoryObjectStore>();
    repo::InitOptions init;
    init.kdf = crypto::Argon2Params::ForTests();
    init.chunk_size = 64 << 10;
    auto r = repo::Repository::Init(store_, "correct horse", init, {&clock_});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    repo_ = std::move(r).value();
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  FakeClock clock_{1767225600000};  // 2026-01-01T00:00:00Z
  std::string dir_;
  std::shared_ptr<storage::MemoryObjectStore> store_;
  std::unique_ptr<repo::Repository> repo_;
};

// A follower config (valid) in <dir>/etc/ailee with a public key, a
// secrets.yaml, and an .env outside the config directory.
inline std::string ValidConfigYaml(int threshold = 1) {
  return "node: {id: node-1, data_dir: /var/lib/ailee-test}\n"
         "follow: http://127.0.0.1:8545\n"
         "federation:\n"
         "  threshold: " + std::to_string(threshold) + "\n"
         "  signers:\n"
         "    - id: signer-01\n"
         "      public_key_file: keys/signer-01.pub\n"
         "backup:\n"
         "  secret_paths: [secrets.yaml]\n";
}

inline void WriteNodeConfigTree(const std::string& root) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  Put(root + "/etc/ailee/keys/signer-01.pub", key->public_key().Pem(), 0644);
  Put(root + "/etc/ailee/config.yaml", ValidConfigYaml(), 0640);
  Put(root + "/etc/ailee/secrets.yaml", "admin_token: s3cr3t-token-value\n", 0600);
  Put(root + "/etc/ailee/notes.txt", "operator notes\n", 0644);
  Put(root + "/opt/ailee-core/.env", "AILEE_ENV=prod\n", 0640);
}

// Runs stock gpg on `file` with `passphrase` on stdin; returns its stdout.
inline std::string StockGpgDecrypt(const std::string& scratch, const std::string& file, const std::string& passphrase) {
  std::string home = scratch + "/gnupg-stock";
  (void)fs::MakeDirs(home, 0700);
  ::chmod(home.c_str(), 0700);
  std::string out = scratch + "/gpg-out";
  std::string cmd = "printf '%s\\n' '" + passphrase + "' | GNUPGHOME='" + home +
                    "' gpg --batch --quiet --pinentry-mode loopback --passphrase-fd 0 --decrypt '" + file + "' > '" + out +
                    "' 2>/dev/null";
  int rc = std::system(cmd.c_str());
  std::system(("GNUPGHOME='" + home + "' gpgconf --kill gpg-agent >/dev/null 2>&1").c_str());
  if (rc != 0) return "<gpg failed>";
  return Get(out);
}

}  // namespace ailee::ops::testing
