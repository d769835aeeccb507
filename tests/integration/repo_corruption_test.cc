// Bad input gets a clear error, and nothing is lost: a wrong passphrase, a
// missing repository, a truncated or bit-flipped pack, a hand-edited
// snapshot and a target on a full disk each fail with the documented exit
// code (docs/exit-codes.md), a message naming what and where, and no
// partial target left behind.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "repo/ids.h"
#include "repo/repository.h"
#include "repo/snapshot.h"
#include "storage/local_object_store.h"
#include "repo_fixture.h"

namespace ailee::it {
namespace {

constexpr int kExitVerifyFailed = 3, kExitNotFound = 4, kExitAuth = 5, kExitNoSpace = 8;

bool Contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
std::string Basename(const std::string& p) { return p.substr(p.rfind('/') + 1); }

TEST(RepoCorruption, WrongPassphraseAndMissingRepository) {
  RepoWorld w("repo-access");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.InitRepo());

  const std::string wrong = w.scenario().dir().Join("wrong.pass");
  ASSERT_OK(WriteFile(wrong, "not the passphrase\n", 0600));
  CommandResult r = w.Cli(n, {"snapshots", "--passphrase-file", wrong});
  EXPECT_EQ(r.exit_code, kExitAuth) << r;
  EXPECT_TRUE(Contains(r.err, "passphrase") || Contains(r.err, "key slot")) << r;

  const std::string missing = w.scenario().dir().Join("no-such-repo");
  r = w.Cli(n, {"verify", "--repo", "file://" + missing});
  EXPECT_EQ(r.exit_code, kExitNotFound) << r;
  EXPECT_TRUE(Contains(r.err, missing)) << "the message must name the location: " << r;
  EXPECT_FALSE(Exists(missing)) << "a read command created the repository directory";

  r = w.Cli(n, {"restore", "latest", "--target", w.scenario().dir().Join("t"), "--repo", "file://" + missing});
  EXPECT_EQ(r.exit_code, kExitNotFound) << r;
  EXPECT_FALSE(Exists(w.scenario().dir().Join("t")));
}

// A flipped byte in a key slot nobody used today: verify (both depths) names
// it, `repo key list` marks it, and the next backup with that key file says
// "damaged key slot ID", never "wrong passphrase". All exit 3.
TEST(RepoCorruption, DamagedKeySlotIsReportedNotAWrongPassphrase) {
  RepoWorld w("repo-keyslot");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "2MiB"));
  ASSERT_OK(w.InitRepo());
  const std::string key_file = w.scenario().dir().Join("backup.key");
  ASSIGN_OR_FAIL(auto added, w.JsonOk(n, {"repo", "key", "add", "--key-file", key_file}));
  const std::string id = added["key_id"];
  ASSERT_OK(w.JsonOk(n, {"backup", "state", "--offline", "--passphrase-file", key_file}).status());
  const std::string slot = w.repo_dir() + "/keys/" + id;
  ASSERT_TRUE(Exists(slot)) << slot;
  ASSERT_OK(FlipByte(slot, 200));

  for (const char* depth : {"", "--read-data"}) {
    std::vector<std::string> args = {"verify"};
    if (*depth) args.push_back(depth);
    CommandResult r = w.Cli(n, args);  // opens through the passphrase slot
    EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
    EXPECT_TRUE(Contains(r.out + r.err, "damaged key slot " + id)) << r;
  }
  CommandResult r = w.Cli(n, {"repo", "key", "list"});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.out, id + "  DAMAGED")) << r;
  r = w.Cli(n, {"backup", "state", "--offline", "--passphrase-file", key_file});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.err, "damaged key slot " + id)) << r;
  EXPECT_FALSE(Contains(r.err, "wrong passphrase")) << r;
}

class RepoDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    n_ = &w_.AddNode("node-1");
    ASSERT_OK(w_.BulkLoad(*n_, "8MiB"));
    ASSERT_OK(w_.InitRepo());
    ASSIGN_OR_FAIL(auto snap, w_.JsonOk(*n_, {"backup", "state", "--offline"}));
    snapshot_ = snap["snapshot"];
  }

  // A private copy of the pristine repository, to damage.
  std::string CopyRepo(const std::string& name) {
    std::string dst = w_.scenario().dir().Join(name);
    Status st = CopyTree(w_.repo_dir(), dst);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return dst;
  }

  // restore must fail with `code`, and leave no target and no staging dir.
  void ExpectRestoreRefused(const std::string& repo, int code, const std::string& must_name) {
    const std::string parent = w_.scenario().dir().Join("restore-" + Basename(repo));
    ASSERT_OK(WriteFile(parent + "/.keep", ""));
    CommandResult r = w_.Cli(*n_, {"restore", "latest", "--target", parent + "/node", "--repo", "file://" + repo});
    EXPECT_EQ(r.exit_code, code) << r;
    EXPECT_TRUE(Contains(r.err, must_name)) << "restore's message does not name " << must_name << ": " << r;
    EXPECT_EQ(Entries(parent), std::vector<std::string>{".keep"}) << "restore left a partial target or staging dir";
  }

  RepoWorld w_{"repo-damage"};
  TestNode* n_ = nullptr;
  std::string snapshot_;
};

TEST_F(RepoDamage, BitFlippedPackIsNamedByVerifyAndNeverRestored) {
  const std::string repo = CopyRepo("flipped");
  auto packs = PackFiles(repo);
  ASSERT_FALSE(packs.empty());
  const std::string pack = packs.front();  // the largest: holds the big SST's blobs
  ASSERT_OK(FlipByte(pack, fs::FileSize(pack).value() / 2));
  const std::string pack_id = Basename(pack);

  CommandResult r = w_.Cli(*n_, {"--json", "verify", "--read-data", "--repo", "file://" + repo});
  ASSERT_EQ(r.exit_code, kExitVerifyFailed) << r;
  nlohmann::json report = JsonOut(r);
  ASSERT_FALSE(report["problems"].empty()) << report.dump(2);
  bool named = false;
  for (const auto& p : report["problems"]) {
    const std::string text = p.dump();
    if (Contains(text, pack_id) && Contains(text, snapshot_) && Contains(p.value("path", ""), ".sst")) named = true;
  }
  EXPECT_TRUE(named) << "verify --read-data must name pack " << pack_id << ", snapshot " << snapshot_
                     << " and the damaged file: " << report.dump(2);
  r = w_.Cli(*n_, {"verify", "--read-data", "--repo", "file://" + repo});
  EXPECT_TRUE(Contains(r.out + r.err, pack_id.substr(0, 12))) << r;

  ExpectRestoreRefused(repo, kExitVerifyFailed, snapshot_.substr(0, 8));
}

TEST_F(RepoDamage, TruncatedPackIsNamedByVerifyAndNeverRestored) {
  const std::string repo = CopyRepo("truncated");
  auto packs = PackFiles(repo);
  ASSERT_FALSE(packs.empty());
  const std::string pack = packs.front();
  ASSERT_OK(TruncateFile(pack, fs::FileSize(pack).value() / 3));
  const std::string pack_id = Basename(pack);

  CommandResult r = w_.Cli(*n_, {"verify", "--read-data", "--repo", "file://" + repo});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.out + r.err, pack_id.substr(0, 12))) << "verify must name the truncated pack: " << r;
  ExpectRestoreRefused(repo, kExitVerifyFailed, snapshot_.substr(0, 8));
}

TEST_F(RepoDamage, HandEditedSnapshotIsRejectedByName) {
  const std::string repo = CopyRepo("edited");
  const std::string snap_file = repo + "/snapshots/" + snapshot_;
  ASSERT_TRUE(Exists(snap_file));
  ASSERT_OK(FlipByte(snap_file, fs::FileSize(snap_file).value() / 2));

  CommandResult r = w_.Cli(*n_, {"verify", "--repo", "file://" + repo});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.out + r.err, snapshot_.substr(0, 12))) << "verify must name the snapshot: " << r;
  r = w_.Cli(*n_, {"snapshots", "--repo", "file://" + repo});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.out + r.err, snapshot_)) << r;

  const std::string parent = w_.scenario().dir().Join("restore-edited");
  r = w_.Cli(*n_, {"restore", snapshot_, "--target", parent + "/node", "--repo", "file://" + repo});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.err, snapshot_.substr(0, 8))) << r;
  EXPECT_TRUE(Entries(parent).empty()) << "restore of a forged snapshot wrote something";
}

// Every blob of a snapshot decrypts and every file hashes as recorded, yet
// the files do not form a database that opens: two of its table files hold
// each other's content (written by the repository library, as a backup under
// the old path/size/mtime reuse rule stored a rebuilt data dir's table
// file; backup itself now refuses a data dir that does not open).
// `verify --read-data` opens each state snapshot's database read-only and
// names the snapshot and the table file; the restore fails as verify said.
TEST_F(RepoDamage, VerifyReadDataNamesTheTableFileOfAStateSnapshotThatDoesNotOpen) {
  const std::string repo_dir = CopyRepo("spliced");
  std::string bad, table_a, table_b;
  {
    auto pass = fs::ReadFile(w_.pass_file());
    ASSERT_TRUE(pass.ok());
    std::string passphrase = pass->substr(0, pass->find('\n'));
    auto repo = repo::Repository::Open(std::make_shared<storage::LocalObjectStore>(repo_dir), passphrase);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    auto id = repo::ParseId(snapshot_);
    ASSERT_TRUE(id.ok());
    auto snap = repo::LoadSnapshot(**repo, *id);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    repo::FileEntry* a = nullptr;
    repo::FileEntry* b = nullptr;
    for (auto& f : snap->files) {
      if (f.path.size() < 4 || f.path.substr(f.path.size() - 4) != ".sst" || f.size == 0) continue;
      if (!a) {
        a = &f;
      } else {
        b = &f;
        break;
      }
    }
    ASSERT_TRUE(a && b) << "the bulk-loaded snapshot has two table files";
    table_a = a->path;
    table_b = b->path;
    std::swap(a->chunks, b->chunks);
    std::swap(a->sha256, b->sha256);
    std::swap(a->size, b->size);
    std::swap(a->identity, b->identity);
    snap->parent = snapshot_;
    auto saved = repo::SaveSnapshot(**repo, *snap);
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
    bad = repo::IdHex(*saved);
  }

  CommandResult r = w_.Cli(*n_, {"verify", "--repo", "file://" + repo_dir});
  EXPECT_EQ(r.exit_code, 0) << "the structure is intact: " << r;
  r = w_.Cli(*n_, {"verify", "--read-data", "--repo", "file://" + repo_dir});
  EXPECT_EQ(r.exit_code, kExitVerifyFailed) << r;
  EXPECT_TRUE(Contains(r.out + r.err, bad.substr(0, 12))) << "verify must name the snapshot: " << r;
  EXPECT_TRUE(Contains(r.out + r.err, "table file " + table_a) || Contains(r.out + r.err, "table file " + table_b))
      << "verify must name a swapped table file: " << r;
  EXPECT_FALSE(Contains(r.out + r.err, "[snapshot " + snapshot_)) << "the good snapshot is not blamed: " << r;

  const std::string parent = w_.scenario().dir().Join("restore-spliced");
  ASSERT_OK(WriteFile(parent + "/.keep", ""));
  r = w_.Cli(*n_, {"restore", bad, "--target", parent + "/node", "--repo", "file://" + repo_dir});
  EXPECT_NE(r.exit_code, 0) << "the snapshot verify refused must not restore: " << r;
  EXPECT_EQ(Entries(parent), std::vector<std::string>{".keep"}) << "restore left a partial target or staging dir";
}

// Unmounts on scope exit.
struct TmpfsMount {
  std::string dir;
  bool mounted = false;
  ~TmpfsMount() {
    if (mounted && umount2(dir.c_str(), MNT_DETACH) != 0) {
      std::fprintf(stderr, "umount %s: %s\n", dir.c_str(), std::strerror(errno));
    }
  }
};

TEST_F(RepoDamage, RestoreOntoFullDiskFailsWithNoSpaceAndLeavesNothing) {
  TmpfsMount m{w_.scenario().dir().Join("small-disk")};
  ASSERT_OK(fs::MakeDirs(m.dir));
  if (mount("tmpfs", m.dir.c_str(), "tmpfs", 0, "size=5m") != 0) {
    GTEST_SKIP() << "cannot mount a 5 MiB tmpfs at " << m.dir << " (" << std::strerror(errno)
                 << "): needs root / CAP_SYS_ADMIN";
  }
  m.mounted = true;
  CommandResult r = w_.Cli(*n_, {"restore", snapshot_, "--target", m.dir + "/node"});
  EXPECT_EQ(r.exit_code, kExitNoSpace) << r;
  EXPECT_TRUE(Contains(r.err, m.dir)) << "the message must say where the disk is full: " << r;
  EXPECT_TRUE(Entries(m.dir).empty()) << "a failed restore left data on the full disk";
}

}  // namespace
}  // namespace ailee::it
