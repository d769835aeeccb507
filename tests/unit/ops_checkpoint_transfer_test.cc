// Checkpoints on an object store: upload with the manifest last, download
// checked file by file into a directory that appears only when complete.

#include <gtest/gtest.h>

#include "ops/state/checkpoint_transfer.h"
#include "state/checkpoint.h"
#include "base/fs.h"
#include "storage/fault_injection_object_store.h"
#include "storage/memory_object_store.h"

namespace ailee::ops {
namespace {

using state::CheckpointManifest;
using state::EncodeManifest;
using state::HashTree;
using state::kCheckpointManifestName;

class CheckpointTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-ckpt-xfer-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ckpt_ = dir_ + "/ckpt";
    ASSERT_TRUE(fs::MakeDirs(ckpt_).ok());
    files_ = {{"000012.sst", std::string(3 << 20, 'a') + "tail"}, {"MANIFEST-000005", "manifest bytes"},
              {"CURRENT", "MANIFEST-000005\n"}, {"OPTIONS-000007", "options"}};
    for (const auto& [name, data] : files_) ASSERT_TRUE(fs::WriteFileAtomic(ckpt_ + "/" + name, data).ok());
    CheckpointManifest m;
    m.node_id = "node-1";
    m.height = 42;
    auto hashed = HashTree(ckpt_);
    ASSERT_TRUE(hashed.ok()) << hashed.status().ToString();
    m.files = *hashed;
    ASSERT_TRUE(fs::WriteFileAtomic(ckpt_ + "/" + kCheckpointManifestName, EncodeManifest(m)).ok());
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::string dir_, ckpt_;
  std::map<std::string, std::string> files_;
  std::shared_ptr<storage::MemoryObjectStore> store_ = std::make_shared<storage::MemoryObjectStore>();
};

TEST_F(CheckpointTransferTest, RoundTripAndTheManifestIsTheCommitPoint) {
  ASSERT_TRUE(UploadCheckpoint(ckpt_, *store_).ok());
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), files_.size() + 1);

  auto m = DownloadCheckpoint(*store_, dir_ + "/back");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->height, 42u);
  for (const auto& [name, data] : files_) EXPECT_EQ(*fs::ReadFile(dir_ + "/back/" + name), data) << name;
  EXPECT_TRUE(fs::Exists(dir_ + "/back/" + kCheckpointManifestName));

  // A second upload to the same place is refused.
  EXPECT_EQ(UploadCheckpoint(ckpt_, *store_).code(), StatusCode::kAlreadyExists);
  // A download never overwrites.
  EXPECT_EQ(DownloadCheckpoint(*store_, dir_ + "/back").status().code(), StatusCode::kAlreadyExists);
}

TEST_F(CheckpointTransferTest, AnUploadCutShortIsNotACheckpoint) {
  storage::FaultPlan plan;
  plan.fail_put_number = 3;
  auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(store_, plan);
  EXPECT_FALSE(UploadCheckpoint(ckpt_, *faulty).ok());
  auto m = DownloadCheckpoint(*store_, dir_ + "/back");
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound) << m.status().ToString();
  EXPECT_FALSE(fs::Exists(dir_ + "/back"));
  // The rerun completes.
  ASSERT_TRUE(UploadCheckpoint(ckpt_, *store_).ok());
  EXPECT_TRUE(DownloadCheckpoint(*store_, dir_ + "/back").ok());
}

TEST_F(CheckpointTransferTest, ADamagedObjectIsNamedAndNothingIsLeftBehind) {
  ASSERT_TRUE(UploadCheckpoint(ckpt_, *store_).ok());
  std::string sst = *store_->Get("000012.sst");
  sst[1000] ^= 0x20;
  ASSERT_TRUE(store_->Put("000012.sst", sst).ok());
  auto m = DownloadCheckpoint(*store_, dir_ + "/back");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("000012.sst"), std::string::npos) << m.status().ToString();
  EXPECT_FALSE(fs::Exists(dir_ + "/back"));
  auto entries = fs::ListDir(dir_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u) << "only the source checkpoint remains, no staging dir";

  // A truncated object is caught by its size.
  ASSERT_TRUE(store_->Put("000012.sst", sst.substr(0, 100)).ok());
  EXPECT_EQ(DownloadCheckpoint(*store_, dir_ + "/back").status().code(), StatusCode::kDataLoss);
}

TEST_F(CheckpointTransferTest, FilesChangedAfterTheManifestAreNotUploaded) {
  ASSERT_TRUE(fs::WriteFileAtomic(ckpt_ + "/CURRENT", "MANIFEST-000009\n").ok());
  Status st = UploadCheckpoint(ckpt_, *store_);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_FALSE(*store_->Exists(kCheckpointManifestName));
}

}  // namespace
}  // namespace ailee::ops
