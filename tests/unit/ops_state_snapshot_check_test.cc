// verify --read-data checks what a restore would find: a state snapshot's
// files must form a database that opens, with every table file the one its
// MANIFEST expects. A snapshot whose table file holds another database's
// file of the same name (what the old path/size/mtime reuse rule stored after
// a data dir was rebuilt) decrypts blob by blob, but RocksDB refuses it
// ("Mismatch in unique ID on table file").
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "ops/state/backup.h"
#include "ops/state/restore.h"
#include "ops/state/snapshot_check.h"
#include "ops_config_test_util.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "state/state_db.h"
#include "state/transaction.h"

namespace ailee::ops {
namespace {

// A fixed signer key (a test key, used nowhere else): a database built twice
// from the same blocks holds the same bytes but for RocksDB's own identities.
constexpr char kSnapshotSignerPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDrqFZtuZy45mY2exHq6wtCa/lBkmdpjVy7g6TcDRw0S\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kSnapshotSignerId[] = "signer-1";

bool IsTable(const std::string& path) { return path.size() > 4 && path.substr(path.size() - 4) == ".sst"; }

class StateSnapshotCheckTest : public testing::OpsRepoTest {
 protected:
  void SetUp() override {
    OpsRepoTest::SetUp();
    auto key = crypto::PrivateKey::FromPem(crypto::SecureBytes(std::string_view(kSnapshotSignerPem)));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    signer_ = std::move(*key);
    federation_.signers.emplace(kSnapshotSignerId, signer_->public_key());
  }

  // The same blocks every time, flushed to table files, then closed.
  void BuildState(const std::string& dir, int blocks = 20, int txs_per_block = 50) {
    auto db = state::StateDb::Open(dir, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    uint64_t nonce = 0;
    for (int h = 1; h <= blocks; ++h) {
      std::vector<state::Transaction> txs;
      for (int i = 0; i < txs_per_block; ++i) {
        const int n = h * 100000 + i;
        std::string to = crypto::HashToString(crypto::Sha256("user-" + std::to_string(n)));
        auto tx = state::MakePegIn(*signer_, kSnapshotSignerId, to, 1000 + static_cast<uint64_t>(i),
                                   crypto::HashToString(crypto::Sha256("btc-" + std::to_string(n))), nonce++);
        ASSERT_TRUE(tx.ok()) << tx.status().ToString();
        txs.push_back(std::move(*tx));
      }
      auto b = (*db)->ProduceBlock(std::move(txs), *signer_, kSnapshotSignerId, 1767225600000 + h * 1000, 5, federation_);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_TRUE(b->rejected.empty()) << b->rejected[0].reason.ToString();
    }
    ASSERT_TRUE((*db)->CreateCheckpoint(dir + ".flush").ok());
    ASSERT_TRUE(fs::RemoveAll(dir + ".flush").ok());
  }

  Result<repo::Snapshot> Backup(const std::string& data_dir, const std::string& node_id) {
    clock_.Advance(60000);
    StateBackupOptions o;
    o.source.data_dir = data_dir;
    o.source.node_id = node_id;
    o.scratch_dir = dir_ + "/scratch";
    ASSIGN_OR_RETURN(auto r, BackupState(*repo_, o));
    return repo::LoadSnapshot(*repo_, r.backup.snapshot_id);
  }

  // verify --read-data as the CLI runs it.
  Result<repo::VerifyReport> VerifyReadData() {
    repo::VerifyOptions vo;
    vo.read_data = true;
    vo.check_snapshot = [this](const repo::Snapshot& s) {
      return s.kind == "state" ? CheckStateSnapshotOpens(*repo_, s) : Status::Ok();
    };
    return repo::Verify(*repo_, vo);
  }

  // The old reuse rule's damage: snapshot `good` of database A, with one
  // table file's content taken from `other` (database B, rebuilt from the same
  // blocks: same name and size, other unique id). Returns the new snapshot
  // and the table file's name.
  std::pair<repo::Snapshot, std::string> Splice(const repo::Snapshot& good, const repo::Snapshot& other) {
    std::map<std::string, const repo::FileEntry*> theirs;
    for (const auto& f : other.files) theirs[f.path] = &f;
    repo::Snapshot bad = good;
    bad.parent = good.id_hex();
    for (auto& f : bad.files) {
      auto it = theirs.find(f.path);
      if (!IsTable(f.path) || it == theirs.end() || it->second->size != f.size || it->second->sha256 == f.sha256) {
        continue;
      }
      f.chunks = it->second->chunks;
      f.sha256 = it->second->sha256;
      f.identity = it->second->identity;
      auto id = repo::SaveSnapshot(*repo_, bad);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      bad.id = id.ok() ? *id : repo::Id{};
      return {bad, f.path};
    }
    ADD_FAILURE() << "the rebuilt database has no table file with the same name and size";
    return {bad, ""};
  }

  std::optional<crypto::PrivateKey> signer_;
  state::Federation federation_;
};

TEST_F(StateSnapshotCheckTest, AGoodStateSnapshotOpens) {
  BuildState(dir_ + "/a");
  auto snap = Backup(dir_ + "/a", "node-1");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_TRUE(CheckStateSnapshotOpens(*repo_, *snap).ok()) << CheckStateSnapshotOpens(*repo_, *snap).ToString();
  auto report = VerifyReadData();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().ToString();
  EXPECT_EQ(report->snapshots_checked, 1u);
}

// The scenario: verify --read-data passed a snapshot that every blob
// of decrypts but RocksDB refuses to open.
TEST_F(StateSnapshotCheckTest, VerifyReadDataReportsASnapshotWithAnotherDatabasesTableFile) {
  BuildState(dir_ + "/a");
  BuildState(dir_ + "/b");
  auto a = Backup(dir_ + "/a", "node-1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = Backup(dir_ + "/b", "node-2");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto [bad, table] = Splice(*a, *b);
  ASSERT_FALSE(table.empty());

  Status st = CheckStateSnapshotOpens(*repo_, bad);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("table file " + table), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("unique ID"), std::string::npos) << st.ToString();

  auto report = VerifyReadData();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->problems.size(), 1u) << "only the spliced snapshot; blobs and file hashes are all intact";
  const auto& p = report->problems.front();
  EXPECT_EQ(p.snapshot_id, bad.id_hex());
  EXPECT_EQ(p.path, table);
  EXPECT_NE(p.ToString().find("table file " + table), std::string::npos) << p.ToString();
  EXPECT_EQ(report->snapshots_checked, 3u);

  // And a restore of it really fails where verify said it would.
  StateRestoreOptions ro;
  ro.federation = federation_;
  auto restored = RestoreState(*repo_, bad.id_hex(), dir_ + "/restored", ro);
  EXPECT_FALSE(restored.ok());
}

// Another path to the same damage: a snapshot without one of the table
// files its MANIFEST lists (e.g. deleted from the data dir while it was read).
TEST_F(StateSnapshotCheckTest, VerifyReadDataReportsASnapshotMissingItsManifestsTableFile) {
  BuildState(dir_ + "/a");
  auto a = Backup(dir_ + "/a", "node-1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  repo::Snapshot bad = *a;
  std::string removed;
  for (auto it = bad.files.begin(); it != bad.files.end(); ++it) {
    if (IsTable(it->path)) {
      removed = it->path;
      bad.files.erase(it);
      break;
    }
  }
  ASSERT_FALSE(removed.empty());
  auto id = repo::SaveSnapshot(*repo_, bad);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  bad.id = *id;
  Status st = CheckStateSnapshotOpens(*repo_, bad);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("table file " + removed), std::string::npos) << st.ToString();
}

// A hostile snapshot: CURRENT is a symlink (to a file outside any database).
// The check serves only the snapshot's regular files, so it never follows
// it: the database has no CURRENT and does not open.
TEST_F(StateSnapshotCheckTest, ASnapshotWhoseCurrentIsASymlinkDoesNotOpen) {
  BuildState(dir_ + "/a");
  auto a = Backup(dir_ + "/a", "node-1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  repo::Snapshot bad = *a;
  bool replaced = false;
  for (auto& f : bad.files) {
    if (f.path != "CURRENT") continue;
    f.type = repo::FileEntry::Type::kSymlink;
    f.link_target = dir_ + "/a/CURRENT";
    f.chunks.clear();
    f.sha256.clear();
    replaced = true;
  }
  ASSERT_TRUE(replaced);
  auto id = repo::SaveSnapshot(*repo_, bad);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  bad.id = *id;
  Status st = CheckStateSnapshotOpens(*repo_, bad);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("CURRENT"), std::string::npos) << st.ToString();
}

// Cheap: RocksDB reads what it reads at open, not the data blocks.
TEST_F(StateSnapshotCheckTest, CheckingASnapshotReadsFarLessThanItsFiles) {
  BuildState(dir_ + "/a", 40, 500);
  auto a = Backup(dir_ + "/a", "node-1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  StateSnapshotCheckStats stats;
  Status st = CheckStateSnapshotOpens(*repo_, *a, &stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_GT(stats.file_bytes, 4u << 20) << "a multi-MiB database";
  std::cout << "read " << stats.bytes_requested << " bytes (" << stats.blob_bytes << " decrypted) of "
            << stats.file_bytes << "\n";
  EXPECT_LT(stats.bytes_requested * 2, stats.file_bytes)
      << stats.bytes_requested << " of " << stats.file_bytes << " bytes read";
  EXPECT_LT(stats.blob_bytes * 2, stats.file_bytes) << stats.blob_bytes << " of " << stats.file_bytes << " bytes decrypted";
}

}  // namespace
}  // namespace ailee::ops
