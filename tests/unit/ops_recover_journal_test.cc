// The recover-node journal: beside the data dir, round trip, and a damaged
// journal is an error (never guessed as "nothing finished", which would
// restore an older state over a node that already ran).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/fs.h"
#include "ops/recover/journal.h"

namespace ailee::ops {
namespace {

std::string MakeDir() {
  char tmpl[] = "/tmp/ailee-recover-journal-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(RecoverJournal, LivesBesideTheDataDirNotInIt) {
  EXPECT_EQ(RecoverJournalPath("/var/lib/ailee/data"), "/var/lib/ailee/data.recover-journal.json");
  EXPECT_EQ(RecoverJournalPath("/var/lib/ailee/data/"), "/var/lib/ailee/data.recover-journal.json");
  EXPECT_EQ(RecoverReportPath("/var/lib/ailee/data"), "/var/lib/ailee/data.recover-report.json");
}

TEST(RecoverJournal, MissingIsEmptyAndWrittenIsReadBack) {
  const std::string dir = MakeDir();
  const std::string path = dir + "/data.recover-journal.json";
  auto none = ReadRecoverJournal(path);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->node_id.empty());
  EXPECT_FALSE(none->Finished("state"));

  RecoverJournal j;
  j.node_id = "node-1";
  j.started_ms = 1234;
  j.finished["state"] = {{"height", 42}, {"state_root", "ab"}};
  ASSERT_TRUE(WriteRecoverJournal(path, j).ok());
  auto back = ReadRecoverJournal(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->node_id, "node-1");
  EXPECT_EQ(back->started_ms, 1234);
  EXPECT_TRUE(back->Finished("state"));
  EXPECT_FALSE(back->Finished("start"));
  EXPECT_EQ(back->finished.at("state")["height"].get<uint64_t>(), 42u);
  std::filesystem::remove_all(dir);
}

TEST(RecoverJournal, DamagedOrOfAnotherVersionIsDataLossNotEmpty) {
  const std::string dir = MakeDir();
  const std::string path = dir + "/data.recover-journal.json";
  for (const std::string& text : {std::string("{\"version\":1,\"node_id\":\"n\",\"started_ms\":1,\"phases\":{\"st"),
                                 std::string("{\"version\":2,\"node_id\":\"n\",\"started_ms\":1,\"phases\":{}}"),
                                 std::string("")}) {
    ASSERT_TRUE(fs::WriteFileAtomic(path, text).ok());
    auto j = ReadRecoverJournal(path);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_EQ(j.status().code(), StatusCode::kDataLoss) << text;
    EXPECT_NE(j.status().message().find(path), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ailee::ops
