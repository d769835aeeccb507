// The drill's HTML page (ops/drill/html.h) and its stored form
// (ops/drill/report.h): every phase in the timeline, every check, the
// targets beside the measured values, the trend; text from the report is
// escaped (a check detail carries node and file names); nothing external.
#include <gtest/gtest.h>

#include "ops/drill/html.h"
#include "ops/drill/report.h"
#include "repo_test_util.h"

namespace ailee::ops {
namespace {

DrillReport Report() {
  DrillReport r;
  r.ok = false;
  r.failed_check = "anchor";
  r.node_id = "node-1";
  r.started_ms = 1'800'000'000'000;
  r.point = "latest";
  r.phases = {{"fetch", 0, 1200}, {"replay", 1200, 300}, {"proof", 1500, 100},
              {"start", 1600, 900}, {"catch-up", 2500, 4000}, {"compare", 6500, 50}};
  r.rto_ms = 6500;
  r.rpo_blocks = 7;
  r.rpo_ms = 1400;
  r.checks = {{"restore-proof", true, "ok"}, {"anchor", false, "differs at <script>alert(1)</script> & \"x\""}};
  r.targets.rpo_blocks = 5;
  return r;
}

TEST(DrillHtml, HasEveryPhaseCheckAndTargetAndEscapesText) {
  std::vector<DrillHistoryEntry> history = {{"abcdef0123456789", "state", 1'700'000'000'000, true, "", 5000, 3, 900}};
  const std::string html = RenderDrillHtml(Report(), history);
  for (const char* phase : {"fetch", "replay", "proof", "start", "catch-up", "compare"}) {
    EXPECT_NE(html.find(std::string("data-phase=\"") + phase + "\""), std::string::npos) << phase;
  }
  EXPECT_NE(html.find("data-check=\"anchor\""), std::string::npos);
  EXPECT_NE(html.find("FAILED (anchor)"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "a check's text is escaped";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt; 14400.0 s"), std::string::npos) << "the runbook's RTO target";
  EXPECT_NE(html.find("7 blocks"), std::string::npos);
  EXPECT_NE(html.find("abcdef012345"), std::string::npos) << "the earlier drill in the trend";
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no external reference but the SVG namespace";
}

TEST(DrillReportJson, NamesTheFailedCheckAndEveryPhase) {
  auto j = DrillReportJson(Report());
  EXPECT_EQ(j["format"], kDrillReportFormat);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["failed_check"], "anchor");
  EXPECT_EQ(j["phases"].size(), 6u);
  EXPECT_EQ(j["targets"]["rpo_blocks"], 5);
  EXPECT_EQ(j["rto_ms"], 6500);
}

// A failed check's detail quotes what the node or the filesystem said (an
// error body, a Latin-1 file name): bytes that are not UTF-8 must not stop
// the failed drill from being stored (it aborted the process: JSON is UTF-8).
class DrillReportStore : public repo::testing::RepoTest {};

TEST_F(DrillReportStore, ADetailThatIsNotUtf8IsStoredNotAnAbort) {
  DrillReport r = Report();
  r.checks.push_back({"catch-up", false, "node said: f\xfcr \xff"});
  r.sandbox = "/var/tmp/dr\xfcll";
  auto id = SaveDrillReport(*repo_, r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto history = ListDrillHistory(*repo_, "node-1");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].failed_check, "anchor");
}

}  // namespace
}  // namespace ailee::ops
