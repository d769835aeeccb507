// State backups of a real RocksDB whose data dir is rebuilt under the same
// node id: files with the same name, size and mtime but other bytes must not
// be taken from the parent snapshot, or the snapshot does not restore
// (RocksDB: "Mismatch in unique ID on table file"). A data dir holding a
// restored state not proven yet (state/proof_pending.h) is neither backed
// up nor checkpointed offline: the copy would carry no marker and pass for
// proven, and a damaged or planted marker must not make it look proven.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "base/hint.h"
#include "ops/state/backup.h"
#include "ops/state/checkpoint_create.h"
#include "ops/state/restore.h"
#include "ops_config_test_util.h"
#include "repo/snapshot.h"
#include "state/proof_pending.h"
#include "state/state_db.h"
#include "state/transaction.h"
#include "storage/fault_injection_object_store.h"

namespace ailee::ops {
namespace {

// A fixed signer key (a test key, used nowhere else), so that a database
// built twice from the same blocks holds the same bytes but for RocksDB's own
// identities (db id, session id) inside each table file.
constexpr char kSignerPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDrqFZtuZy45mY2exHq6wtCa/lBkmdpjVy7g6TcDRw0S\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kSignerId[] = "signer-1";
constexpr char kNodeId[] = "node-1";

struct FileStat {
  uint64_t size = 0;
  timespec mtime{};
};

std::map<std::string, FileStat> TableFiles(const std::string& dir) {
  std::map<std::string, FileStat> out;
  for (const auto& name : testing::Names(dir)) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".sst") continue;
    struct stat sb {};
    EXPECT_EQ(::stat(fs::JoinPath(dir, name).c_str(), &sb), 0);
    out[name] = {static_cast<uint64_t>(sb.st_size), sb.st_mtim};
  }
  return out;
}

class StateBackupTest : public testing::OpsRepoTest {
 protected:
  void SetUp() override {
    OpsRepoTest::SetUp();
    auto key = crypto::PrivateKey::FromPem(crypto::SecureBytes(std::string_view(kSignerPem)));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    signer_ = std::move(*key);
    federation_.signers.emplace(kSignerId, signer_->public_key());
    data_ = dir_ + "/data";
  }

  // The same blocks, transactions and timestamps every time, flushed to
  // table files (a checkpoint flushes), then closed.
  void BuildState(const std::string& dir) {
    auto db = state::StateDb::Open(dir, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    uint64_t nonce = 0;
    for (int h = 1; h <= 20; ++h) {
      std::vector<state::Transaction> txs;
      for (int i = 0; i < 50; ++i) {
        std::string to = crypto::HashToString(crypto::Sha256("user-" + std::to_string(h * 100 + i)));
        auto tx = state::MakePegIn(*signer_, kSignerId, to, 1000 + static_cast<uint64_t>(i),
                                   crypto::HashToString(crypto::Sha256("btc-" + std::to_string(h * 100 + i))), nonce++);
        ASSERT_TRUE(tx.ok()) << tx.status().ToString();
        txs.push_back(std::move(*tx));
      }
      auto b = (*db)->ProduceBlock(std::move(txs), *signer_, kSignerId, 1767225600000 + h * 1000, 5, federation_);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_TRUE(b->rejected.empty()) << b->rejected[0].reason.ToString();
    }
    ASSERT_TRUE((*db)->CreateCheckpoint(dir + ".flush").ok());
    ASSERT_TRUE(fs::RemoveAll(dir + ".flush").ok());
  }

  Result<StateBackupResult> Backup() {
    clock_.Advance(60000);
    StateBackupOptions o;
    o.source.data_dir = data_;
    o.source.node_id = kNodeId;
    o.scratch_dir = dir_ + "/scratch";
    return BackupState(*repo_, o);
  }

  // What `restore --prove-in-background` leaves in the data dir.
  void MarkUnproven() {
    state::ProofPending m;
    m.height = 20;
    m.source = "snapshot:0123456789ab";
    m.written_unix = 1767225600;
    ASSERT_TRUE(state::WriteProofPending(data_, m).ok());
  }
  std::string Marker() const { return fs::JoinPath(data_, state::kProofPendingName); }

  // The ways the marker can be there but unreadable: each must read as
  // "not proven" (and never block: a FIFO is not opened).
  std::vector<std::pair<std::string, std::function<void()>>> DamagedMarkers() {
    const std::string elsewhere = dir_ + "/valid-marker-elsewhere";
    return {
        {"garbage", [this] { testing::Put(Marker(), "{\"format\": \"ailee-proof-pen", 0600); }},
        {"empty file", [this] { testing::Put(Marker(), "", 0600); }},
        {"dangling symlink", [this] { ASSERT_EQ(::symlink("/nonexistent/marker", Marker().c_str()), 0); }},
        {"symlink to a valid marker", [this, elsewhere] {
           ASSERT_TRUE(fs::MakeDirs(elsewhere).ok());
           state::ProofPending m;
           m.height = 20;
           ASSERT_TRUE(state::WriteProofPending(elsewhere, m).ok());
           ASSERT_EQ(::symlink(fs::JoinPath(elsewhere, state::kProofPendingName).c_str(), Marker().c_str()), 0);
         }},
        {"directory", [this] { ASSERT_TRUE(fs::MakeDirs(Marker()).ok()); }},
        {"FIFO", [this] { ASSERT_EQ(::mkfifo(Marker().c_str(), 0600), 0); }},
    };
  }

  size_t SnapshotCount() {
    auto listing = repo::ListSnapshots(*repo_);
    EXPECT_TRUE(listing.ok()) << listing.status().ToString();
    return listing.ok() ? listing->snapshots.size() : 0;
  }

  std::optional<crypto::PrivateKey> signer_;
  state::Federation federation_;
  std::string data_;
};
using CreateCheckpointTest = StateBackupTest;

// The scenario: back up, rebuild the data dir (here: from the same
// blocks, so table files get the same names and sizes), force the old mtimes,
// back up incrementally, restore the incremental and prove it.
TEST_F(StateBackupTest, IncrementalBackupOfARebuiltDataDirRestores) {
  BuildState(data_);
  auto first = Backup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const auto before = TableFiles(data_);

  ASSERT_TRUE(fs::RemoveAll(data_).ok());
  BuildState(data_);
  size_t look_alikes = 0;
  for (const auto& [name, now] : TableFiles(data_)) {
    auto it = before.find(name);
    if (it == before.end() || it->second.size != now.size) continue;
    std::string path = fs::JoinPath(data_, name);
    ASSERT_NE(*fs::ReadFile(path), "") << path;
    timespec t[2] = {it->second.mtime, it->second.mtime};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
    ++look_alikes;
  }
  ASSERT_GT(look_alikes, 0u) << "the rebuilt data dir must have table files that look like the old ones";

  auto second = Backup();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->parent, repo::IdHex(first->backup.snapshot_id)) << "same node id: the first is the parent";
  StateRestoreOptions ro;
  ro.federation = federation_;
  auto restored = RestoreState(*repo_, repo::IdHex(second->backup.snapshot_id), dir_ + "/restored", ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(restored->verified);
  EXPECT_EQ(restored->height, 20u);
}

// An unchanged data dir still costs no reads of its table files.
TEST_F(StateBackupTest, IncrementalBackupOfAnUnchangedDataDirReusesItsTableFiles) {
  BuildState(data_);
  auto first = Backup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Backup();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const auto tables = TableFiles(data_);
  ASSERT_FALSE(tables.empty());
  EXPECT_GE(second->backup.stats.files_unchanged, tables.size()) << "every table file is reused unread";
  auto restored = RestoreState(*repo_, repo::IdHex(second->backup.snapshot_id), dir_ + "/restored", {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
}

// The parent is chosen from the listed snapshots and used as listed: each
// snapshot is read (and decrypted) once per backup.
TEST_F(StateBackupTest, AnIncrementalBackupReadsEachSnapshotOnce) {
  BuildState(data_);
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(Backup().ok());
  auto counting = std::make_shared<storage::FaultInjectionObjectStore>(store_);
  auto repo = repo::Repository::Open(counting, "correct horse", {&clock_});
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  StateBackupOptions o;
  o.source.data_dir = data_;
  o.source.node_id = kNodeId;
  o.scratch_dir = dir_ + "/scratch";
  auto third = BackupState(**repo, o);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->parent.empty());
  EXPECT_GE(third->backup.stats.files_unchanged, TableFiles(data_).size()) << "the parent's files are reused";
  EXPECT_EQ(counting->counters().gets_by_prefix["snapshots"], 2) << "two snapshots, each read once";
}

TEST_F(StateBackupTest, AnUnprovenDataDirIsRefusedUntilProven) {
  BuildState(data_);
  MarkUnproven();
  auto refused = Backup();
  ASSERT_FALSE(refused.ok()) << "an unproven state was backed up";
  const Status& st = refused.status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("not proven yet"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(Marker()), std::string::npos) << "where: the marker's path\n" << st.ToString();
  EXPECT_NE(HintOf(st).find("background proof"), std::string::npos) << "what to do\n" << st.ToString();
  EXPECT_EQ(SnapshotCount(), 0u);
  EXPECT_TRUE(testing::Names(dir_ + "/scratch").empty()) << "the refused backup left its checkpoint";

  // A marker that is there but unreadable is no proof either.
  for (auto& [what, damage] : DamagedMarkers()) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
    damage();
    auto r = Backup();
    ASSERT_FALSE(r.ok()) << "a data dir whose marker is a " << what << " was backed up as proven";
    EXPECT_NE(r.status().message().find(Marker()), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("not known to be proven"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(SnapshotCount(), 0u);
  }

  // Proven (the node removes the marker): backed up.
  ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
  auto ok = Backup();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->checkpoint.height, 20u);
  EXPECT_EQ(SnapshotCount(), 1u);
}

// create-checkpoint on the stopped data dir (--offline, or no node answering).
TEST_F(CreateCheckpointTest, AnUnprovenDataDirIsRefusedOffline) {
  BuildState(data_);
  MarkUnproven();
  const std::string out = dir_ + "/checkpoints/ckpt";
  CheckpointOutputOptions o;
  o.output = out;
  o.source.data_dir = data_;
  o.source.node_id = kNodeId;
  o.source.offline = true;
  auto refused = CreateCheckpointAtOutput(o);
  ASSERT_FALSE(refused.ok()) << "an unproven state was checkpointed";
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find(Marker()), std::string::npos) << refused.status().ToString();
  EXPECT_FALSE(fs::Exists(out));
  EXPECT_TRUE(testing::Names(dir_ + "/checkpoints").empty()) << "the refused checkpoint left its staging";

  for (auto& [what, damage] : DamagedMarkers()) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
    damage();
    auto r = CreateCheckpointAtOutput(o);
    ASSERT_FALSE(r.ok()) << "a data dir whose marker is a " << what << " was checkpointed as proven";
    EXPECT_NE(r.status().message().find(Marker()), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(fs::Exists(out));
  }

  ASSERT_TRUE(fs::RemoveAll(Marker()).ok());
  auto ok = CreateCheckpointAtOutput(o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->height, 20u);
}

}  // namespace
}  // namespace ailee::ops
