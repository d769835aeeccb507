// Shared fixtures for the state unit tests: a one-signer federation, user
// keys from fixed seeds, temporary directories.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/fs.h"
#include "crypto/asymmetric.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/state_db.h"
#include "state/transaction.h"

namespace ailee::state::testing {

inline std::string MakeTempDir(const char* tag) {
  std::string tmpl = std::string("/tmp/ailee-state-") + tag + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

inline crypto::Ed25519KeyPair User(int i) {
  std::string seed(32, static_cast<char>(i + 1));
  return crypto::Ed25519FromSeed(seed);
}

inline std::string BtcTxid(int n) { return crypto::HashToString(crypto::Sha256("btc-" + std::to_string(n))); }

struct TestFederation {
  TestFederation() {
    auto k = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    EXPECT_TRUE(k.ok());
    key = std::move(*k);
    federation.signers.emplace(id, key.public_key());
  }
  crypto::PrivateKey key;
  std::string id = "signer-1";
  Federation federation;
  uint64_t pegin_nonce = 0;  // next peg-in nonce, for tests that track it

  Transaction PegIn(const std::string& to, uint64_t amount, int btc, uint64_t nonce) const {
    auto tx = MakePegIn(key, id, to, amount, BtcTxid(btc), nonce);
    EXPECT_TRUE(tx.ok());
    return *tx;
  }
};

// A directory removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const char* tag) : path_(MakeTempDir(tag)) {}
  ~TempDir() { (void)fs::RemoveAll(path_); }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return fs::JoinPath(path_, name); }

 private:
  std::string path_;
};

inline std::unique_ptr<StateDb> OpenDb(const std::string& dir, bool read_only = false) {
  OpenOptions o;
  o.read_only = read_only;
  auto db = StateDb::Open(dir, o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

// The RocksDB table files (*.sst) directly in `dir`, sorted by name.
inline std::vector<std::string> TableFilesIn(const std::string& dir) {
  std::vector<std::string> out;
  auto names = fs::ListDir(dir);
  EXPECT_TRUE(names.ok()) << dir;
  if (!names.ok()) return out;
  for (const auto& n : *names) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".sst") out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ailee::state::testing
