// Break round 11c: documents ops reads back that someone else may have
// written, or a repository that refuses a write. Each test failed before
// its fix (the first and the last aborted).
//
// Drill reports read back from the repository (ops/drill/report.h). Their
// meta is a JSON document that another build, or anyone holding the
// repository key (every node of a shared repository), may have written; one field of another type must not throw out of the history
// (an uncaught nlohmann exception aborts `drill --history`, and the state
// drill reads the history only after it ran: it would die without storing
// its own report).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

#include "base/fs.h"
#include "ops/drill/report.h"
#include "ops/recover/journal.h"
#include "repo_test_util.h"
#include "storage/fault_injection_object_store.h"

namespace ailee::ops {
namespace {

repo::Snapshot ReportSnapshot(uint8_t id, nlohmann::json meta) {
  repo::Snapshot s;
  s.id[0] = id;
  s.kind = kDrillReportKind;
  s.meta = std::move(meta);
  return s;
}

nlohmann::json GoodMeta() {
  return {{"format", kDrillReportFormat}, {"node_id", "node-1"}, {"ok", true},     {"failed_check", ""},
          {"started_ms", 1'800'000'000'000}, {"rto_ms", 5000},   {"rpo_blocks", 3}, {"rpo_ms", 900}};
}

TEST(DrillHistoryBreak11c, AReportWithAFieldOfAnotherTypeIsLeftOutNotThrown) {
  repo::SnapshotListing listing;
  listing.snapshots.push_back(ReportSnapshot(1, GoodMeta()));
  const std::vector<std::pair<const char*, nlohmann::json>> hostile = {
      {"ok", "yes"},          {"ok", nullptr},         {"started_ms", "yesterday"}, {"rto_ms", nlohmann::json::array()},
      {"failed_check", 3},    {"part", 7},             {"node_id", 1},              {"format", false},
      {"rpo_blocks", "many"}, {"rpo_ms", nlohmann::json::object()}};
  uint8_t id = 2;
  for (const auto& [field, value] : hostile) {
    nlohmann::json m = GoodMeta();
    m[field] = value;
    listing.snapshots.push_back(ReportSnapshot(id++, m));
  }
  listing.snapshots.push_back(ReportSnapshot(id, GoodMeta()));
  std::vector<DrillHistoryEntry> h;
  ASSERT_NO_THROW(h = DrillHistoryOf(listing, "node-1", "")) << "one report of another shape ends every later drill";
  ASSERT_EQ(h.size(), 2u) << "the well-formed reports are listed, the others left out as damaged";
  EXPECT_EQ(h[0].snapshot_id, listing.snapshots.front().id_hex());
  EXPECT_EQ(h[1].snapshot_id, listing.snapshots.back().id_hex());
  EXPECT_EQ(h[1].rto_ms, 5000);
  ASSERT_NO_THROW(h = DrillHistoryOf(listing, "node-1"));
  EXPECT_EQ(h.size(), 2u);
}

// The state drill's report when the repository refuses to keep it (an S3
// outage at the end of an hour-long drill): the HTML page was written only
// after the report was stored, so the drill's whole result was lost with the
// repository. The page is written anyway, the store's failure returned.
class DrillRecordBreak11c : public repo::testing::RepoTest {};

TEST_F(DrillRecordBreak11c, TheHtmlPageIsWrittenWhenTheReportCannotBeStored) {
  auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(store_);
  auto repo = OpenRepo(faulty);
  ASSERT_NE(repo, nullptr);
  storage::FaultPlan plan;
  plan.fail_put_number = 1;  // every write from now on
  faulty->SetPlan(plan);
  DrillReport r;
  r.node_id = "node-1";
  r.ok = false;
  r.failed_check = "anchor";
  r.phases = {{"fetch", 0, 10}};
  char tmpl[] = "/tmp/ailee-brk11c-html-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string html = dir + "/drill.html";
  const RecordedDrillReport recorded = RecordDrillReport(*repo, r, html);
  EXPECT_FALSE(recorded.status.ok());
  EXPECT_TRUE(recorded.id.empty());
  auto page = fs::ReadFile(html);
  ASSERT_TRUE(page.ok()) << "the drill's page was lost with the repository";
  EXPECT_NE(page->find("FAILED (anchor)"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The recover-node journal (ops/recover/journal.h) beside the data dir,
// replaced behind recover-node's back (same size, a restored copy, another
// version's): a phase's detail of another shape parsed as JSON and was
// accepted, and the later steps' .get<std::string>() / .value() threw out of
// recover-node (abort, no report, no audit line) instead of the promised
// DataLoss naming the journal.
TEST(RecoverJournalBreak11c, APhaseDetailOfAnotherShapeIsDataLossNotAnAbortLater) {
  char tmpl[] = "/tmp/ailee-brk11c-journal-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/data.recover-journal.json";
  const std::vector<std::string> phases = {
      R"({"state": 5})",
      R"({"state": {"height": "ten", "state_root": "ab"}})",
      R"({"state": {"height": 10, "timestamp_ms": "noon"}})",
      R"({"state": {"height": 10, "source": 7}})",
      R"({"config": {"snapshot": ["a"]}})",
      R"({"key": {"fingerprint": 1, "backup": "b"}})",
      R"({"key": {"backup": null}})",
  };
  for (const auto& p : phases) {
    ASSERT_TRUE(fs::WriteFileAtomic(path, R"({"version":1,"node_id":"node-1","started_ms":1,"phases":)" + p + "}", 0600).ok());
    auto j = ReadRecoverJournal(path);
    EXPECT_EQ(j.status().code(), StatusCode::kDataLoss) << p;
  }
  ASSERT_TRUE(fs::WriteFileAtomic(path, R"({"version":1,"node_id":"node-1","started_ms":1,"phases":{"state":)"
                                        R"({"height":10,"timestamp_ms":5,"state_root":"ab","source":"s","outcome":"restored"}}})",
                                  0600).ok());
  auto good = ReadRecoverJournal(path);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(good->Finished("state"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ailee::ops
