// Adversarial review of issue 12 (second pass), what an unlucky operator does:
// - `ailee-cli check` (ops/check) after a host's clock ran ahead while it
//   made a backup (a wrong NTP step, a VM resumed with the wrong time): the
//   snapshot is dated in the future, its age is negative, below any limit,
//   and `check` passed for as long as the clock error was, whatever happened
//   to backups afterwards: the one thing the check exists to notice.
// - a duration flag with too many digits (`--max-state-age`, `--older-than`,
//   `--keep-archive`): std::stoll threw and the CLI aborted (exit 134, no
//   JSON), and a product past int64 wrapped (undefined behaviour).
// - the metrics textfile carried a last success dated in the future into
//   every failed run.
#include <gtest/gtest.h>

#include "ops/check/check.h"
#include "ops/logs/archive.h"
#include "ops/metrics/textfile.h"
#include "repo_test_util.h"

namespace ailee::ops {
namespace {

using repo::testing::RepoTest;

constexpr int64_t kYearMs = 365LL * 24 * 60 * kMinuteMs;

class CheckClockTest : public RepoTest {
 protected:
  // A state snapshot of node-1 dated `at_ms` (the repository's clock).
  void StateSnapshotAt(int64_t at_ms) {
    repo::testing::WriteFile(src_ + "/CURRENT", "MANIFEST-000001\n");
    clock_.Set(at_ms);
    repo::BackupOptions o = SmallPacks();
    o.meta = {{"node_id", "node-1"}, {"height", 7}};
    Backup(o);
  }

  const CheckLine& Line(const CheckReport& r, const std::string& name) {
    for (const auto& l : r.lines) {
      if (l.name == name) return l;
    }
    ADD_FAILURE() << "no line " << name;
    static const CheckLine kNone;
    return kNone;
  }

  CheckOptions Options(int64_t now_ms) {
    CheckOptions o;
    o.node_id = "node-1";
    o.now_ms = now_ms;
    o.copies.min_copies = 1;
    return o;
  }
};

TEST_F(CheckClockTest, StateSnapshotFromTheFutureDoesNotPassAsFresh) {
  const int64_t now = clock_.NowMillis();
  StateSnapshotAt(now + kYearMs);  // made while the clock was a year ahead
  auto report = RunChecks(*repo_, Options(now));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const CheckLine& state = Line(*report, "state");
  EXPECT_FALSE(state.ok) << state.detail;
  EXPECT_NE(state.detail.find("in the future"), std::string::npos) << state.detail;
  EXPECT_NE(state.detail.find("clock"), std::string::npos) << "says what to look at: " << state.detail;
  EXPECT_FALSE(report->ok);
}

TEST_F(CheckClockTest, SmallClockSkewStillPasses) {
  const int64_t now = clock_.NowMillis();
  StateSnapshotAt(now + 30 * 1000);  // the backup host's clock 30 s ahead of the monitor's
  auto report = RunChecks(*repo_, Options(now));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const CheckLine& state = Line(*report, "state");
  EXPECT_TRUE(state.ok) << state.detail;
}

TEST(DurationFlag, TooManyDigitsIsAnInvalidArgumentNotAnAbort) {
  for (const std::string text : {"99999999999999999999", "99999999999999999999m", "9999999999999999m", "9999999999999999y",
                                 "1000000000000000000w"}) {
    Result<int64_t> ms = int64_t{0};
    ASSERT_NO_THROW(ms = ParseDurationMs(text)) << text;
    ASSERT_FALSE(ms.ok()) << text << " parsed as " << *ms << " ms";
    EXPECT_EQ(ms.status().code(), StatusCode::kInvalidArgument) << ms.status().ToString();
    EXPECT_NE(ms.status().message().find("too long"), std::string::npos) << ms.status().ToString();
  }
  // The largest values still parse, and the usual ones as before.
  EXPECT_EQ(*ParseDurationMs("7y"), kDefaultKeepArchiveMs);
  EXPECT_EQ(*ParseDurationMs("90d"), 90 * kDayMs);
  EXPECT_EQ(*ParseDurationMs("30"), 30000);
  EXPECT_TRUE(ParseDurationMs("9223372036854775s").ok());
}

// The same clock error in the jobs' textfile (ops/metrics, owned by the
// metrics work in progress, so not fixed here): a failed run carries the
// previous file's last success timestamp, even one dated a year ahead by a
// run made while the clock was wrong. `time() - last_success` is then
// negative and AileeStateBackupStale (critical) stays silent for that year
// while every backup fails (only the AileeJobFailed warning fires).
TEST(MetricsClock, FailedRunDoesNotCarryASuccessFromTheFuture) {
  const int64_t now_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  metrics::JobReport r;
  r.job = "backup_state";
  r.node = "node-1";
  r.started_ms = now_ms - 1000;
  r.finished_ms = now_ms;
  r.exit_code = 6;
  const std::string labels = "{ailee_job=\"backup_state\",node=\"node-1\"}";
  const double future_s = static_cast<double>(now_ms + kYearMs) / 1000;
  const std::map<std::string, double> previous = {
      {"ailee_job_last_success_timestamp_seconds" + labels, future_s},
      {"ailee_job_last_attempt_timestamp_seconds" + labels, future_s}};
  auto text = metrics::RenderJobMetrics(r, previous);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::string key = "ailee_job_last_success_timestamp_seconds" + labels + " ";
  const size_t at = text->find(key);
  ASSERT_NE(at, std::string::npos) << "a failed run still says when the last success was: " << *text;
  const double carried = std::stod(text->substr(at + key.size()));
  EXPECT_LE(carried, static_cast<double>(now_ms) / 1000) << "a success after this run's own end: " << *text;
}

}  // namespace
}  // namespace ailee::ops
