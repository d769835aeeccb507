#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>

#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class BackupTest : public RepoTest {
 protected:
  void MakeTree() {
    WriteFile(src_ + "/000001.sst", RandomData(300 << 10, 1), 0644, 1700000001);
    WriteFile(src_ + "/000002.sst", RandomData(200 << 10, 2), 0644, 1700000002);
    WriteFile(src_ + "/MANIFEST-000003", TextData(150 << 10, 3), 0600, 1700000003);
    WriteFile(src_ + "/sub/dir/OPTIONS", "options=1\n", 0640, 1700000004);
    WriteFile(src_ + "/empty", "", 0644, 1700000005);
    ASSERT_TRUE(fs::MakeDirs(src_ + "/empty-dir").ok());
    ASSERT_EQ(::chmod((src_ + "/empty-dir").c_str(), 0750), 0);
    ASSERT_EQ(::symlink("000001.sst", (src_ + "/CURRENT-link").c_str()), 0);
  }
};

TEST_F(BackupTest, RoundTripRestoresContentModesMtimesAndLinks) {
  MakeTree();
  BackupOptions o = SmallPacks();
  o.tags = {"daily"};
  o.meta = {{"height", 1234}, {"state_root", "ab12"}};
  auto r = Backup(o);
  EXPECT_EQ(r.stats.files, 5u);
  EXPECT_EQ(r.stats.dirs, 3u);
  EXPECT_GT(r.stats.packs_written, 1u);

  auto snap = FindSnapshot(*repo_, "latest");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->id, r.snapshot_id);
  EXPECT_EQ(snap->meta["height"], 1234);
  EXPECT_EQ(snap->kind, "state");
  EXPECT_EQ(snap->host, "node-1");
  EXPECT_EQ(snap->tags, std::vector<std::string>{"daily"});
  EXPECT_EQ(snap->time_ms, clock_.NowMillis());
  EXPECT_TRUE(FindSnapshot(*repo_, snap->id_hex().substr(0, 6)).ok());

  std::string target = dir_ + "/restored";
  auto rs = RestoreSnapshot(*repo_, "latest", target, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
  struct stat sb {};
  ASSERT_EQ(::stat((target + "/MANIFEST-000003").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0600u);
  EXPECT_EQ(sb.st_mtim.tv_sec, 1700000003);
  ASSERT_EQ(::stat((target + "/sub/dir/OPTIONS").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0640u);
  ASSERT_EQ(::stat((target + "/empty-dir").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0750u);
  char link[64] = {};
  ASSERT_GT(::readlink((target + "/CURRENT-link").c_str(), link, sizeof link), 0);
  EXPECT_STREQ(link, "000001.sst");
  // Nothing but the target is left next to it.
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"restored", "src"}));
}

TEST_F(BackupTest, SecondBackupOfAnUnchangedTreeStoresNoData) {
  MakeTree();
  auto first = Backup(SmallPacks());
  size_t packs = Count("data/");
  auto second = Backup(SmallPacks());  // no parent: everything is read again
  EXPECT_EQ(second.stats.blobs_new, 0u);
  EXPECT_EQ(second.stats.packs_written, 0u);
  EXPECT_EQ(second.stats.bytes_read, first.stats.bytes_total);
  EXPECT_EQ(Count("data/"), packs);
  EXPECT_EQ(Count("snapshots/"), 2u);
}

TEST_F(BackupTest, IncrementalBackupDoesNotReadUnchangedFiles) {
  MakeTree();
  auto first = Backup(SmallPacks());
  WriteFile(src_ + "/000004.sst", RandomData(100 << 10, 4), 0644, 1700000010);

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto inc = Backup(o);
  EXPECT_EQ(inc.stats.files_unchanged, 5u);
  EXPECT_EQ(inc.stats.bytes_read, 100u << 10) << "only the new file is read";
  EXPECT_EQ(inc.stats.bytes_new, 100u << 10);
  auto snap = LoadSnapshot(*repo_, inc.snapshot_id);
  EXPECT_EQ(snap->parent, IdHex(first.snapshot_id));

  o.full = true;
  auto full = Backup(o);
  EXPECT_EQ(full.stats.files_unchanged, 0u);
  EXPECT_EQ(full.stats.bytes_read, full.stats.bytes_total);
  EXPECT_EQ(full.stats.bytes_new, 0u) << "full re-reads everything but stores nothing the repository has";
}

// The snapshot's entry for `rel`, or a default entry when it has none.
FileEntry EntryOf(Repository& repo, const Id& snapshot, const std::string& rel) {
  auto snap = LoadSnapshot(repo, snapshot);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (snap.ok()) {
    for (const auto& f : snap->files) {
      if (f.path == rel) return f;
    }
  }
  ADD_FAILURE() << "no " << rel << " in snapshot " << IdHex(snapshot);
  return {};
}

std::string Sha256Hex(const std::string& data) { return crypto::HashToHex(crypto::Sha256(data)); }

// Sets `path`'s mtime to exactly `mtime` (nanoseconds included).
void SetMtime(const std::string& path, const timespec& mtime) {
  timespec t[2] = {mtime, mtime};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

timespec MtimeOf(const std::string& path) {
  struct stat sb {};
  EXPECT_EQ(::lstat(path.c_str(), &sb), 0) << path;
  return sb.st_mtim;
}

// An unlucky operator or an attacker: the same bytes count, the same mtime to
// the nanosecond, written over the old file. Only reading it shows it changed.
TEST_F(BackupTest, FileRewrittenInPlaceWithSameSizeAndMtimeIsReadAgain) {
  MakeTree();
  const std::string path = src_ + "/000002.sst";
  timespec mtime{1700000002, 123456789};
  SetMtime(path, mtime);
  Backup(SmallPacks());
  const std::string replacement = RandomData(200 << 10, 99);
  {
    std::ofstream out(path, std::ios::binary | std::ios::in | std::ios::out);  // same inode
    out.write(replacement.data(), static_cast<std::streamsize>(replacement.size()));
  }
  SetMtime(path, mtime);

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto inc = Backup(o);
  EXPECT_EQ(inc.stats.files_unchanged, 4u);
  EXPECT_EQ(inc.stats.bytes_read, 200u << 10) << "the rewritten file is read, the others are not";
  EXPECT_EQ(EntryOf(*repo_, inc.snapshot_id, "000002.sst").sha256, Sha256Hex(replacement));
  std::string target = dir_ + "/restored";
  ASSERT_TRUE(RestoreSnapshot(*repo_, IdHex(inc.snapshot_id), target, {}).ok());
  EXPECT_TRUE(*fs::ReadFile(target + "/000002.sst") == replacement) << "restored content differs";
}

TEST_F(BackupTest, FileReplacedByAnotherWithSameNameSizeAndMtimeIsReadAgain) {
  MakeTree();
  const std::string path = src_ + "/000001.sst";
  SetMtime(path, timespec{1700000001, 987654321});
  Backup(SmallPacks());
  const timespec mtime = MtimeOf(path);
  const std::string replacement = RandomData(300 << 10, 77);
  WriteFile(src_ + "/000001.sst.new", replacement);
  SetMtime(src_ + "/000001.sst.new", mtime);
  ASSERT_EQ(::rename((src_ + "/000001.sst.new").c_str(), path.c_str()), 0);
  ASSERT_EQ(MtimeOf(path).tv_nsec, mtime.tv_nsec);

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto inc = Backup(o);
  EXPECT_EQ(inc.stats.files_unchanged, 4u);
  EXPECT_EQ(EntryOf(*repo_, inc.snapshot_id, "000001.sst").sha256, Sha256Hex(replacement));
}

TEST_F(BackupTest, FileDeletedAndRecreatedWithSameNameSizeAndMtimeIsReadAgain) {
  MakeTree();
  const std::string path = src_ + "/000002.sst";
  Backup(SmallPacks());
  const timespec mtime = MtimeOf(path);
  ASSERT_EQ(::unlink(path.c_str()), 0);  // the inode number may well be reused
  const std::string replacement = RandomData(200 << 10, 55);
  WriteFile(path, replacement);
  SetMtime(path, mtime);

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto inc = Backup(o);
  EXPECT_EQ(EntryOf(*repo_, inc.snapshot_id, "000002.sst").sha256, Sha256Hex(replacement));
}

// A RocksDB checkpoint hard-links its table files anew for every backup,
// which changes their ctime: the caller turns ctime off and lets the file's
// own identity (a table file's unique id) decide.
TEST_F(BackupTest, WithoutCtimeTheFileIdentityDecides) {
  MakeTree();
  std::map<std::string, std::string> identities = {{src_ + "/000001.sst", "one"}, {src_ + "/000002.sst", "two"}};
  BackupOptions o = SmallPacks();
  o.parent = "latest";
  o.compare_ctime = false;
  std::set<std::string> unreadable;
  o.file_identity = [&](const std::string& path) -> Result<std::string> {
    if (unreadable.count(path)) return DataLoss("unreadable properties in " + path);
    return identities[path];
  };
  auto first = Backup(o);
  EXPECT_EQ(EntryOf(*repo_, first.snapshot_id, "000001.sst").identity, "one");

  const std::string path = src_ + "/000002.sst";
  const timespec mtime = MtimeOf(path);
  const std::string replacement = RandomData(200 << 10, 33);
  {
    std::ofstream out(path, std::ios::binary | std::ios::in | std::ios::out);  // same inode, new ctime
    out.write(replacement.data(), static_cast<std::streamsize>(replacement.size()));
  }
  SetMtime(path, mtime);
  clock_.Advance(1000);
  auto same_identity = Backup(o);
  EXPECT_EQ(same_identity.stats.files_unchanged, 5u) << "ctime is not compared: the identity vouches";

  identities[path] = "two, rebuilt";
  clock_.Advance(1000);
  auto new_identity = Backup(o);
  EXPECT_EQ(new_identity.stats.files_unchanged, 4u);
  EXPECT_EQ(EntryOf(*repo_, new_identity.snapshot_id, "000002.sst").sha256, Sha256Hex(replacement));

  unreadable.insert(src_ + "/000001.sst");
  clock_.Advance(1000);
  auto unidentified = Backup(o);
  EXPECT_EQ(unidentified.stats.files_unchanged, 4u) << "a file whose identity cannot be read is read";
}

// Snapshots written before file identities were recorded name only path,
// size and mtime: nothing tells whether the file there now is the same one.
TEST_F(BackupTest, ParentWithoutFileIdentitiesLendsNoUnchangedFiles) {
  MakeTree();
  auto first = Backup(SmallPacks());
  auto text = repo_->LoadObject(ObjectKind::kSnapshot, first.snapshot_id);
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  j.erase("file_identity");
  for (auto& f : j["files"]) {
    for (const char* field : {"dev", "btime_ns", "ctime_ns", "identity"}) f.erase(field);
  }
  auto old_format = repo_->SaveObject(ObjectKind::kSnapshot, j.dump());
  ASSERT_TRUE(old_format.ok());
  ASSERT_TRUE(store_->Delete(SnapshotKey(first.snapshot_id)).ok());

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  clock_.Advance(1000);
  auto inc = Backup(o);
  EXPECT_EQ(LoadSnapshot(*repo_, inc.snapshot_id)->parent, IdHex(*old_format));
  EXPECT_EQ(inc.stats.files_unchanged, 0u);
  EXPECT_EQ(inc.stats.bytes_read, inc.stats.bytes_total);
  EXPECT_EQ(inc.stats.bytes_new, 0u) << "read again, but nothing new to store";
  clock_.Advance(1000);
  auto again = Backup(o);
  EXPECT_EQ(again.stats.files_unchanged, 5u) << "the new snapshot records identities: the next one reuses";
}

TEST_F(BackupTest, CompressesOnlyWhatCompresses) {
  WriteFile(src_ + "/text.log", TextData(1 << 20, 5));
  auto text = Backup(SmallPacks());
  EXPECT_LT(text.stats.bytes_stored, text.stats.bytes_new / 3);
  ASSERT_TRUE(fs::RemoveAll(src_ + "/text.log").ok());
  WriteFile(src_ + "/random.sst", RandomData(1 << 20, 6));
  auto random = Backup(SmallPacks());
  EXPECT_GE(random.stats.bytes_stored, random.stats.bytes_new);
  EXPECT_LT(random.stats.bytes_stored, random.stats.bytes_new + 4096) << "stored raw: only crypto overhead";
}

TEST_F(BackupTest, ManySmallFilesBecomeFewPacks) {
  for (int i = 0; i < 300; ++i) WriteFile(src_ + "/f" + std::to_string(i), RandomData(2000, 100 + i));
  auto r = Backup(SmallPacks());
  EXPECT_EQ(r.stats.blobs_new, 300u);
  EXPECT_LE(Count("data/"), 4u);
  EXPECT_LE(Count("index/"), 1u);
}

TEST_F(BackupTest, ProgressAndSkipPredicate) {
  MakeTree();
  BackupOptions o = SmallPacks();
  BackupProgress last;
  int calls = 0;
  o.progress = [&](const BackupProgress& p) {
    last = p;
    ++calls;
  };
  o.skip = [](const std::string& rel) { return rel == "sub" || rel == "000002.sst"; };
  auto r = Backup(o);
  EXPECT_GT(calls, 3);
  EXPECT_EQ(last.bytes_done, last.bytes_total);
  EXPECT_EQ(last.files_total, 3u);
  auto snap = LoadSnapshot(*repo_, r.snapshot_id);
  for (const auto& f : snap->files) {
    EXPECT_NE(f.path, "000002.sst");
    EXPECT_EQ(f.path.rfind("sub", 0), std::string::npos) << f.path;
  }
}

TEST_F(BackupTest, LatestParentIsOfTheSameKindAndMayNotExistYet) {
  MakeTree();
  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto first = Backup(o);  // no snapshot yet: a full backup
  EXPECT_EQ(first.stats.files_unchanged, 0u);
  o.kind = "config";
  clock_.Advance(1000);
  auto config = Backup(o);  // no "config" snapshot yet either
  EXPECT_EQ(config.stats.files_unchanged, 0u);
  EXPECT_TRUE(LoadSnapshot(*repo_, config.snapshot_id)->parent.empty());
  o.kind = "state";
  clock_.Advance(1000);
  auto second = Backup(o);
  EXPECT_EQ(LoadSnapshot(*repo_, second.snapshot_id)->parent, IdHex(first.snapshot_id));
  EXPECT_EQ(second.stats.files_unchanged, 5u);
  o.parent = "0123";
  EXPECT_EQ(BackupTree(*repo_, src_, o).status().code(), StatusCode::kNotFound);
}

TEST_F(BackupTest, MissingSourceIsNotFound) {
  auto r = BackupTree(*repo_, dir_ + "/nope", SmallPacks());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ailee::repo::testing
