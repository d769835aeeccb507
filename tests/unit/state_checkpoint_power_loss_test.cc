// Power loss during apply-checkpoint and while sealing a checkpoint: for
// every k, the power goes out right after the k-th filesystem call
// (FaultInjectionFileSystem drops every write and directory entry that was
// not synced). After the reboot an applied-to target is the old state or the
// new one, each proven by recomputing its state root, never a mix, and the
// next apply completes; a checkpoint being sealed either verifies or has no
// manifest, so nothing takes it for a good one.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/fault_injection_file_system.h"
#include "base/fs.h"
#include "state/checkpoint.h"
#include "state/checkpoint_apply.h"
#include "state/checkpoint_verify.h"
#include "state_test_util.h"

namespace ailee::state {
namespace {

using testing::TestFederation;
using testing::User;

class CheckpointPowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    parent_ = tmp_.Sub("apply");
    target_ = fs::JoinPath(parent_, "db");
    Grow(4);
    ASSERT_TRUE(Take(ckpt_old_ = tmp_.Sub("ckpt-old"), nullptr).ok());
    Grow(4);
    ASSERT_TRUE(Take(ckpt_new_ = tmp_.Sub("ckpt-new"), nullptr).ok());
  }

  // `blocks` more blocks, each with a peg-in to a new account.
  void Grow(int blocks) {
    auto db = testing::OpenDb(data_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < blocks; ++i, ++accounts_) {
      auto tx = fed_.PegIn(User(accounts_).public_key, 1000, accounts_, fed_.pegin_nonce++);
      auto b = db->ProduceBlock({tx}, fed_.key, fed_.id, 1000 + accounts_, 3, fed_.federation);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
    }
  }

  // An offline checkpoint of data_ into `dir`, sealed through `file_system`.
  Status Take(const std::string& dir, fs::FileSystem* file_system) {
    ASSIGN_OR_RETURN(CheckpointManifest m, TakeOfflineCheckpoint(data_, "node-1", dir));
    return SealCheckpoint(dir, &m, {}, file_system);
  }

  // The height of the state in `dir`, proven: the files match the manifest
  // and the state root recomputed from the database is the manifest's.
  // 0 (with a failure) when it does not verify.
  uint64_t ProvenHeight(const std::string& dir) {
    auto v = VerifyCheckpoint(dir, fed_.federation);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return 0;
    for (const auto& p : v->problems) ADD_FAILURE() << dir << ": " << p;
    return v->ok ? v->manifest.height : 0;
  }

  testing::TempDir tmp_{"ckpt-power"};
  TestFederation fed_;
  fs::FaultInjectionFileSystem faulty_;
  int accounts_ = 0;
  std::string data_, parent_, target_, ckpt_old_, ckpt_new_;
};

TEST_F(CheckpointPowerLossTest, ApplyIntoATargetHoldingAnOlderState) {
  // The target holds the older state, as an earlier apply left it.
  ASSERT_TRUE(fs::MakeDirs(parent_).ok());
  ApplyOptions plain;
  plain.federation = fed_.federation;
  auto first = ApplyCheckpointDir(ckpt_old_, target_, plain);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const uint64_t old_height = first->manifest.height;
  const std::string old_copy = tmp_.Sub("db.old");
  std::filesystem::copy(target_, old_copy, std::filesystem::copy_options::recursive);
  auto reset_target = [&] {
    std::filesystem::remove_all(parent_);
    ASSERT_TRUE(fs::MakeDirs(parent_).ok());
    std::filesystem::copy(old_copy, target_, std::filesystem::copy_options::recursive);
    faulty_.MarkAllDurable();
  };

  ApplyOptions options = plain;
  options.threads = 1;  // one order of calls, so that k names the same point each time
  options.file_system = &faulty_;
  reset_target();
  uint64_t before = faulty_.calls();
  auto full = ApplyCheckpointDir(ckpt_new_, target_, options);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  const uint64_t total = faulty_.calls() - before;
  const uint64_t new_height = full->manifest.height;
  ASSERT_GT(new_height, old_height);
  EXPECT_GT(full->files_reused, 0u);  // the links from the old tree are among the calls
  ASSERT_GT(total, 10u);
  RecordProperty("filesystem_calls", static_cast<int>(total));

  int old_states = 0, new_states = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    reset_target();
    faulty_.CutPowerAfter(k);
    const bool done = ApplyCheckpointDir(ckpt_new_, target_, options).ok();
    ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());

    ASSERT_TRUE(fs::IsDirectory(target_)) << "the target is gone";
    const uint64_t height = ProvenHeight(target_);
    EXPECT_TRUE(height == old_height || height == new_height)
        << "the target is neither the old state nor the new one (height " << height << ")";
    if (done) {
      EXPECT_EQ(height, new_height) << "the apply reported success, the old state came back";
    }
    (height == new_height ? new_states : old_states)++;
    // Beside the target: at most scratch of this process (a later process removes it).
    auto names = fs::ListDir(parent_);
    ASSERT_TRUE(names.ok()) << names.status().ToString();
    for (const auto& name : *names) EXPECT_TRUE(name == "db" || name.rfind(".db.apply-", 0) == 0) << name;

    auto next = ApplyCheckpointDir(ckpt_new_, target_, options);
    ASSERT_TRUE(next.ok()) << "the next apply: " << next.status().ToString();
    EXPECT_EQ(ProvenHeight(target_), new_height);
    if (HasFatalFailure()) return;
  }
  // Both outcomes occur: the cut points span the swap.
  EXPECT_GT(old_states, 0);
  EXPECT_GT(new_states, 0);
}

TEST_F(CheckpointPowerLossTest, SealingACheckpoint) {
  const std::string dir = tmp_.Sub("ckpt");
  uint64_t before = faulty_.calls();
  ASSERT_TRUE(Take(dir, &faulty_).ok());
  const uint64_t total = faulty_.calls() - before;
  const uint64_t height = ProvenHeight(dir);
  ASSERT_GT(height, 0u);
  ASSERT_GT(total, 3u);
  RecordProperty("filesystem_calls", static_cast<int>(total));

  int incomplete = 0, sealed = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    std::filesystem::remove_all(dir);
    faulty_.MarkAllDurable();
    faulty_.CutPowerAfter(k);
    const bool done = Take(dir, &faulty_).ok();
    ASSERT_TRUE(faulty_.SimulatePowerLoss().ok());

    if (!fs::Exists(fs::JoinPath(dir, kCheckpointManifestName))) {
      EXPECT_FALSE(done) << "the seal reported success, its manifest was lost";
      ++incomplete;
      // Recognisably not a checkpoint: verify and apply both refuse it.
      auto v = VerifyCheckpoint(dir, fed_.federation);
      ASSERT_FALSE(v.ok());
      EXPECT_EQ(v.status().code(), StatusCode::kNotFound) << v.status().ToString();
      ApplyOptions o;
      o.federation = fed_.federation;
      auto applied = ApplyCheckpointDir(dir, tmp_.Sub("never"), o);
      EXPECT_FALSE(applied.ok());
      EXPECT_FALSE(fs::Exists(tmp_.Sub("never")));
    } else {
      ++sealed;
      EXPECT_EQ(ProvenHeight(dir), height) << "a manifest that does not vouch for a good checkpoint";
    }
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(incomplete, 0);
  EXPECT_GT(sealed, 0);
}

}  // namespace
}  // namespace ailee::state
