// Every kind of damage is detected by verify and named: which object, and
// which snapshot and file it breaks.
#include <gtest/gtest.h>

#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class VerifyTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    WriteFile(src_ + "/a.sst", RandomData(300 << 10, 1));
    WriteFile(src_ + "/b.sst", RandomData(300 << 10, 2));
    snap_ = Backup(SmallPacks()).snapshot_id;
  }

  VerifyReport Run(bool read_data) {
    VerifyOptions o;
    o.read_data = read_data;
    auto r = Verify(*repo_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  std::string AllProblems(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p.ToString() + "\n";
    return s;
  }

  // Where the first chunk of `path` is stored.
  BlobLocation FirstChunkOf(const std::string& path) {
    auto snap = LoadSnapshot(*repo_, snap_);
    for (const auto& f : snap->files) {
      if (f.path == path) return *repo_->index().Find(f.chunks[0]);
    }
    ADD_FAILURE() << "no file " << path;
    return {};
  }
  std::string PackOf(const std::string& path) { return PackKey(FirstChunkOf(path).pack); }

  void Mutate(const std::string& key, const std::function<void(std::string&)>& fn) {
    std::string bytes = *store_->Get(key);
    fn(bytes);
    ASSERT_TRUE(store_->Put(key, bytes).ok());
  }

  Id snap_{};
};

TEST_F(VerifyTest, CleanRepositoryPassesBothDepths) {
  auto structure = Run(false);
  EXPECT_TRUE(structure.ok()) << AllProblems(structure);
  EXPECT_EQ(structure.snapshots, 1u);
  EXPECT_GT(structure.packs, 1u);
  auto data = Run(true);
  EXPECT_TRUE(data.ok()) << AllProblems(data);
  EXPECT_EQ(data.files_checked, 2u);
  EXPECT_EQ(data.bytes_read, 600u << 10);
}

TEST_F(VerifyTest, BitFlippedPackNamesPackBlobSnapshotAndFile) {
  BlobLocation loc = FirstChunkOf("b.sst");
  std::string pack = PackKey(loc.pack);
  Mutate(pack, [&](std::string& b) { b[loc.offset + 20] ^= 0x40; });
  EXPECT_TRUE(Run(false).ok()) << "same size: only reading the data can tell";
  auto r = Run(true);
  ASSERT_FALSE(r.ok());
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("pack " + fs::Basename(pack)), std::string::npos) << all;
  EXPECT_NE(all.find("[file b.sst]"), std::string::npos) << all;
  EXPECT_NE(all.find("[snapshot " + IdHex(snap_) + "]"), std::string::npos) << all;
  EXPECT_NE(all.find("blob "), std::string::npos) << all;
  EXPECT_EQ(all.find("a.sst"), std::string::npos) << "an intact file is not blamed: " << all;
}

TEST_F(VerifyTest, DamagedPackHeaderAndUnreferencedBlobAreFound) {
  std::string pack = PackOf("a.sst");
  Mutate(pack, [](std::string& b) { b[b.size() - 20] ^= 0x01; });  // inside the sealed header
  // A snapshot that is forgotten leaves blobs no file references; damage
  // there is reported too (without a snapshot or file to blame).
  WriteFile(src_ + "/c.sst", RandomData(100 << 10, 3));
  auto second = Backup(SmallPacks());
  BlobLocation loc;
  {
    auto snap = LoadSnapshot(*repo_, second.snapshot_id);
    for (const auto& f : snap->files) {
      if (f.path == "c.sst") loc = *repo_->index().Find(f.chunks[0]);
    }
  }
  ASSERT_TRUE(store_->Delete(SnapshotKey(second.snapshot_id)).ok());
  Mutate(PackKey(loc.pack), [&](std::string& b) { b[loc.offset + 30] ^= 0x01; });
  auto r = Run(true);
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("pack " + fs::Basename(pack) + ": header fails authentication"),
            std::string::npos) << all;
  EXPECT_NE(all.find("[pack " + IdHex(loc.pack) + "]"), std::string::npos) << all;
}

TEST_F(VerifyTest, TruncatedPackIsFoundByStructureCheck) {
  std::string pack = PackOf("a.sst");
  Mutate(pack, [](std::string& b) { b.resize(b.size() / 2); });
  auto r = Run(false);
  ASSERT_FALSE(r.ok());
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("pack " + fs::Basename(pack) + ": size is"), std::string::npos) << all;
  EXPECT_FALSE(Run(true).ok());
}

TEST_F(VerifyTest, MissingPackNamesTheAffectedFile) {
  std::string pack = PackOf("a.sst");
  ASSERT_TRUE(store_->Delete(pack).ok());
  auto r = Run(true);
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("missing from the store"), std::string::npos) << all;
  EXPECT_NE(all.find("[file a.sst]"), std::string::npos) << all;
}

TEST_F(VerifyTest, BitFlippedIndexIsDataLossNamingIt) {
  auto idx = store_->List("index/");
  ASSERT_EQ(idx->size(), 1u);
  std::string key = (*idx)[0].key;
  Mutate(key, [](std::string& b) { b[b.size() / 2] ^= 1; });
  auto load = repo_->LoadObject(ObjectKind::kIndex, *IdFromKey(key));
  EXPECT_EQ(load.status().code(), StatusCode::kDataLoss);
  auto r = Run(false);
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("index " + fs::Basename(key)), std::string::npos) << all;
}

TEST_F(VerifyTest, HandEditedSnapshotFailsAuthentication) {
  // An attacker who edits the snapshot and renames the object to match its
  // new hash still cannot forge the authentication tag.
  std::string key = SnapshotKey(snap_);
  std::string bytes = *store_->Get(key);
  bytes[40] ^= 0x01;
  Id forged = crypto::Sha256(bytes);
  ASSERT_TRUE(store_->Put(SnapshotKey(forged), bytes).ok());
  ASSERT_TRUE(store_->Delete(key).ok());
  auto s = LoadSnapshot(*repo_, forged);
  ASSERT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("fails authentication"), std::string::npos) << s.status().ToString();
  auto r = Run(false);
  std::string all = AllProblems(r);
  EXPECT_NE(all.find("snapshot " + IdHex(forged)), std::string::npos) << all;
}

TEST_F(VerifyTest, TruncatedSnapshotIsNamed) {
  std::string key = SnapshotKey(snap_);
  Mutate(key, [](std::string& b) { b.resize(b.size() - 5); });
  auto s = LoadSnapshot(*repo_, snap_);
  ASSERT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("snapshot " + IdHex(snap_)), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace ailee::repo::testing
