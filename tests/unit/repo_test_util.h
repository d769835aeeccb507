// Helpers shared by the repo_* tests: scratch directories, trees of files,
// and repositories with cheap key derivation and small chunks and packs.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <map>
#include <random>
#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "repo/backup.h"
#include "repo/repository.h"
#include "storage/memory_object_store.h"

namespace ailee::repo::testing {

inline std::string RandomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  for (size_t i = n - n % 8; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

inline std::string TextData(size_t n, uint64_t seed) {
  std::string s;
  std::mt19937_64 rng(seed);
  while (s.size() < n) s += "block " + std::to_string(rng() % 1000) + " account balance update; ";
  s.resize(n);
  return s;
}

inline void WriteFile(const std::string& path, const std::string& data, unsigned mode = 0644,
                      int64_t mtime_sec = 1700000000) {
  ASSERT_TRUE(fs::MakeDirs(fs::Dirname(path)).ok());
  {
    // No fsync: test trees need not survive a power loss, and fsync is slow.
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good()) << path;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  timespec t[2] = {{mtime_sec, 0}, {mtime_sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
}

// Relative path -> content of every regular file below `dir`.
inline std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.is_symlink()) {
      out[std::filesystem::relative(e.path(), dir).string()] = *fs::ReadFile(e.path().string());
    }
  }
  return out;
}

class RepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-repo-XXXXXX";
    dir_ = mkdtemp(tmpl);
    src_ = dir_ + "/src";
    ASSERT_TRUE(fs::MakeDirs(src_).ok());
    store_ = std::make_shared<storage::MemoryObjectStore>();
    repo_ = InitRepo(store_);
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::unique_ptr<Repository> InitRepo(std::shared_ptr<storage::ObjectStore> store) {
    InitOptions init;
    init.kdf = crypto::Argon2Params::ForTests();
    init.chunk_size = 64 << 10;
    auto r = Repository::Init(std::move(store), "correct horse", init, {&clock_});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  std::unique_ptr<Repository> OpenRepo(std::shared_ptr<storage::ObjectStore> store) {
    auto r = Repository::Open(std::move(store), "correct horse", {&clock_});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  BackupOptions SmallPacks() {
    BackupOptions o;
    o.pack_size = 256 << 10;
    o.host = "node-1";
    return o;
  }

  BackupResult Backup(const BackupOptions& o) { return Backup(*repo_, o); }
  BackupResult Backup(Repository& repo, const BackupOptions& o) {
    auto r = BackupTree(repo, src_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : BackupResult{};
  }

  size_t Count(const std::string& prefix) { return store_->List(prefix)->size(); }

  FakeClock clock_{1767225600000};  // 2026-01-01T00:00:00Z
  std::string dir_, src_;
  std::shared_ptr<storage::MemoryObjectStore> store_;
  std::unique_ptr<Repository> repo_;
};

}  // namespace ailee::repo::testing
