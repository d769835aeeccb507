// Audit heads recorded in a repository (audit/head_store.h) and the audit
// log's directory (AuditLog::Open): the newest head wins, a forged, moved or
// foreign-key head is refused, series of different logs stay apart; a
// missing directory is created 0750 only when its parent exists.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_log.h"
#include "audit/head_store.h"
#include "base/fs.h"
#include "base/hint.h"
#include "storage/memory_object_store.h"

namespace ailee::audit {
namespace {

crypto::SecureBytes Key(char c) { return crypto::SecureBytes(std::string(32, c)); }

RecordedAuditHead Head(uint64_t seq, const std::string& path = "/var/log/ailee/audit.log") {
  return {"host-a", path, {seq, std::string(64, static_cast<char>('a' + seq % 6))}, 1000 + static_cast<int64_t>(seq)};
}

TEST(AuditHeadStore, NewestRecordedHeadWinsAndOlderOnesAreRemoved) {
  storage::MemoryObjectStore store;
  const auto key = Key('k');
  for (uint64_t seq : {3, 9, 12}) ASSERT_TRUE(RecordAuditHead(store, key, Head(seq)).ok());
  auto newest = NewestAuditHead(store, key, "host-a", "/var/log/ailee/audit.log");
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->head, Head(12).head);
  auto listed = store.List("audit/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST(AuditHeadStore, SeriesOfOtherLogsAndHostsStayApart) {
  storage::MemoryObjectStore store;
  const auto key = Key('k');
  ASSERT_TRUE(RecordAuditHead(store, key, Head(50, "/other/audit.log")).ok());
  ASSERT_TRUE(RecordAuditHead(store, key, Head(4)).ok());
  auto mine = NewestAuditHead(store, key, "host-a", "/var/log/ailee/../ailee/audit.log");  // same file
  ASSERT_TRUE(mine.ok() && mine->has_value());
  EXPECT_EQ((*mine)->head.seq, 4u);
  auto other_host = NewestAuditHead(store, key, "host-b", "/var/log/ailee/audit.log");
  ASSERT_TRUE(other_host.ok());
  EXPECT_FALSE(other_host->has_value());
}

TEST(AuditHeadStore, ForgedOrMovedHeadIsDataLoss) {
  storage::MemoryObjectStore store;
  ASSERT_TRUE(RecordAuditHead(store, Key('k'), Head(7)).ok());
  auto listed = store.List("audit/");
  ASSERT_TRUE(listed.ok() && listed->size() == 1u);
  const std::string name = listed->front().key;
  auto sealed = store.Get(name);
  ASSERT_TRUE(sealed.ok());

  // Moved to a higher seq (replaying an old head as the newest).
  const std::string moved = name.substr(0, name.rfind('/') + 1) + "00000000000000000099";
  ASSERT_TRUE(store.Put(moved, *sealed).ok());
  auto r = NewestAuditHead(store, Key('k'), "host-a", "/var/log/ailee/audit.log");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  ASSERT_TRUE(store.Delete(moved).ok());

  // Written by someone without the repository key.
  ASSERT_TRUE(RecordAuditHead(store, Key('x'), Head(8)).ok());
  r = NewestAuditHead(store, Key('k'), "host-a", "/var/log/ailee/audit.log");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();

  // One flipped byte.
  std::string bad = *sealed;
  bad[bad.size() / 2] ^= 1;
  ASSERT_TRUE(store.Put(name.substr(0, name.rfind('/') + 1) + "00000000000000000100", bad).ok());
  r = NewestAuditHead(store, Key('k'), "host-a", "/var/log/ailee/audit.log");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
}

class AuditLogDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-audit-dir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(AuditLogDirTest, MissingDirectoryIsCreatedWith0750WhateverTheUmask) {
  const mode_t old = ::umask(077);
  auto log = AuditLog::Open(dir_ + "/ailee/audit.log");
  ::umask(old);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/ailee").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  AuditEvent e;
  e.operation = "test";
  EXPECT_TRUE((*log)->Append(e).ok());
}

TEST_F(AuditLogDirTest, MissingParentIsNotCreatedAndTheHintSaysWhatToCreate) {
  const std::string deep = dir_ + "/var/log/ailee";
  auto log = AuditLog::Open(deep + "/audit.log");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kNotFound);
  EXPECT_NE(log.status().message().find(deep), std::string::npos) << log.status().message();
  EXPECT_NE(HintOf(log.status()).find("install -d -m 0750 -o "), std::string::npos) << log.status().message();
  EXPECT_FALSE(fs::Exists(dir_ + "/var"));
}

TEST_F(AuditLogDirTest, FileOrFifoWhereTheDirectoryBelongsIsRefused) {
  ASSERT_TRUE(fs::WriteFileAtomic(dir_ + "/file", "x").ok());
  auto log = AuditLog::Open(dir_ + "/file/audit.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("not a directory"), std::string::npos) << log.status().message();
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  log = AuditLog::Open(dir_ + "/fifo/audit.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("not a directory"), std::string::npos) << log.status().message();
}

}  // namespace
}  // namespace ailee::audit
