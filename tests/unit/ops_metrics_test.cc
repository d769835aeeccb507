// The job metrics file (ops/metrics/textfile.h) against a real directory:
// its text, what a failing run keeps from the previous file, and what an
// unlucky operator or an attacker may have left at its name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>

#include "base/fs.h"
#include "ops/metrics/job_samples.h"
#include "ops/metrics/textfile.h"

namespace ailee::ops::metrics {
namespace {

class MetricsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-metrics-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  static JobReport Run(int exit_code, int64_t finished_s, std::vector<Sample> samples = {}) {
    return {"backup_state", "node-1", (finished_s - 3) * 1000, finished_s * 1000, exit_code, std::move(samples)};
  }
  std::string Read() const {
    auto text = fs::ReadFile(JobMetricsPath(dir_, Run(0, 0)));
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : "";
  }
  static std::string Line(const std::string& series, const std::string& value) { return series + " " + value + "\n"; }

  std::string dir_;
};

constexpr const char* kLabels = "{ailee_job=\"backup_state\",node=\"node-1\"}";

TEST_F(MetricsFileTest, SuccessWritesEveryCommonMetricWithHelpAndType) {
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(0, 1000, {{"ailee_job_bytes_read", {}, 4096}})).ok());
  EXPECT_EQ(JobMetricsPath(dir_, Run(0, 0)), dir_ + "/ailee_backup_state_node-1.prom");
  const std::string text = Read();
  const std::string l = kLabels;
  EXPECT_NE(text.find("# HELP ailee_job_last_attempt_timestamp_seconds "), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE ailee_job_last_attempt_timestamp_seconds gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_last_attempt_timestamp_seconds" + l, "1000")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_last_success_timestamp_seconds" + l, "1000")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_duration_seconds" + l, "3")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_exit_code" + l, "0")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_bytes_read" + l, "4096")), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  auto names = fs::ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u) << "no temporary file is left";
}

TEST_F(MetricsFileTest, FailureKeepsLastSuccessAndAgesTheSnapshot) {
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(0, 1000, {{"ailee_snapshot_age_seconds", {}, 0},
                                                  {"ailee_keys_verify_age_seconds", {{"signer", "s-1"}}, 5}})).ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(6, 1900)).ok());
  std::string text = Read();
  const std::string l = kLabels;
  EXPECT_NE(text.find(Line("ailee_job_last_attempt_timestamp_seconds" + l, "1900")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_last_success_timestamp_seconds" + l, "1000")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_exit_code" + l, "6")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_snapshot_age_seconds" + l, "900")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_keys_verify_age_seconds{ailee_job=\"backup_state\",node=\"node-1\",signer=\"s-1\"}", "905")),
            std::string::npos) << text;
  // A second failure keeps the same success and ages on from the last file.
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(1, 2000)).ok());
  text = Read();
  EXPECT_NE(text.find(Line("ailee_job_last_success_timestamp_seconds" + l, "1000")), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_snapshot_age_seconds" + l, "1000")), std::string::npos) << text;
  // A success reports its own age, and only once.
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(0, 2100, {{"ailee_snapshot_age_seconds", {}, 0}})).ok());
  text = Read();
  EXPECT_NE(text.find(Line("ailee_snapshot_age_seconds" + l, "0")), std::string::npos) << text;
  EXPECT_EQ(text.find("ailee_snapshot_age_seconds" + l, text.find("ailee_snapshot_age_seconds" + l) + 1), std::string::npos) << text;
  EXPECT_NE(text.find(Line("ailee_job_last_success_timestamp_seconds" + l, "2100")), std::string::npos) << text;
}

TEST_F(MetricsFileTest, FirstRunFailingHasNoSuccessTimestamp) {
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(5, 1000)).ok());
  const std::string text = Read();
  EXPECT_EQ(text.find("ailee_job_last_success_timestamp_seconds"), std::string::npos) << text;
  EXPECT_NE(text.find("ailee_job_exit_code"), std::string::npos) << text;
}

TEST_F(MetricsFileTest, AFifoAtTheNameIsReplacedWithoutHanging) {
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  auto write = std::async(std::launch::async, [&] { return WriteJobMetrics(dir_, Run(0, 1000)); });
  ASSERT_EQ(write.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "the writer blocked on the FIFO";
  ASSERT_TRUE(write.get().ok());
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(MetricsFileTest, ASymlinkAtTheNameIsReplacedNotFollowed) {
  const std::string victim = dir_ + "/victim";
  const std::string forged = std::string("ailee_job_last_success_timestamp_seconds") + kLabels + " 999999\n";
  ASSERT_TRUE(fs::WriteFileAtomic(victim, forged).ok());
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(2, 1000)).ok());
  auto v = fs::ReadFile(victim);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, forged) << "the symlink's target was written";
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Read().find("999999"), std::string::npos) << "a success was read through the symlink";
}

// Files written before the label was renamed from `job` (which Prometheus
// takes for itself and renames exported_job) to `ailee_job`: the first run
// after an upgrade keeps their last success, under the new label only.
TEST_F(MetricsFileTest, AFileWithTheOldJobLabelKeepsItsLastSuccessUnderTheNewOne) {
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  const std::string old_labels = "{job=\"backup_state\",node=\"node-1\"}";
  ASSERT_TRUE(fs::WriteFileAtomic(path, "ailee_job_last_attempt_timestamp_seconds" + old_labels + " 1000\n" +
                                            "ailee_job_last_success_timestamp_seconds" + old_labels + " 1000\n").ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(1, 1900)).ok());
  const std::string text = Read();
  EXPECT_NE(text.find(Line(std::string("ailee_job_last_success_timestamp_seconds") + kLabels, "1000")), std::string::npos)
      << text;
  EXPECT_EQ(text.find("{job="), std::string::npos) << "the old label is written again: " << text;
}

TEST_F(MetricsFileTest, ATornOrForeignPreviousFileIsNotTrusted) {
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  // The last line has no newline (cut short): its value is not taken.
  ASSERT_TRUE(fs::WriteFileAtomic(path, std::string("ailee_job_last_success_timestamp_seconds") + kLabels + " 12").ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(1, 1000)).ok());
  EXPECT_EQ(Read().find("ailee_job_last_success_timestamp_seconds"), std::string::npos) << Read();
}

// A garbage line at the file's name (a hand edit, another tool, a bad disk)
// whose key only looks like one of ours must not be carried into every later
// file: node_exporter drops a file it cannot parse, so one bad line would
// hide every metric of the job for good. promtool reads what was written.
TEST_F(MetricsFileTest, AGarbagePreviousLineIsNotCarriedForward) {
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  const std::string age = "ailee_snapshot_age_seconds{ailee_job=\"backup_state\",node=\"node-1\"";
  const std::string garbage = std::string("ailee_job_last_attempt_timestamp_seconds") + kLabels + " 900\n" +
                              age + "} 7 5\n" +                 // a timestamp: node_exporter refuses it
                              age + ",bad label=\"x\"} 5\n" +   // not a label name
                              age + "}} 5\n" +                  // not a value
                              age + ",signer=\"a\",signer=\"b\"} 5\n" +  // a label twice
                              age + ",signer=\"open} 5\n" +     // an unterminated value
                              age + ",signer=\"s\"} nan\n";     // not a number an age can have
  ASSERT_TRUE(fs::WriteFileAtomic(path, garbage).ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(1, 1000)).ok());
  const std::string text = Read();
  EXPECT_EQ(text.find("ailee_snapshot_age_seconds"), std::string::npos) << text;
  EXPECT_EQ(std::system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()), 0) << text;

  // A well-formed series with an extra label is still carried and aged.
  ASSERT_TRUE(fs::WriteFileAtomic(path, std::string("ailee_job_last_attempt_timestamp_seconds") + kLabels + " 900\n" +
                                            age + ",signer=\"s-\\\"1\\\\\"} 5\n").ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(1, 1000)).ok());
  EXPECT_NE(Read().find(Line(age + ",signer=\"s-\\\"1\\\\\"}", "105")), std::string::npos) << Read();
}

TEST_F(MetricsFileTest, LabelValuesAreEscapedAndFileNamesSanitized) {
  JobReport r = Run(0, 1000, {{"ailee_verify_ok", {{"signer", "a\"b\\c\nd"}}, 1}});
  r.node = "../evil node";
  auto text = RenderJobMetrics(r, {});
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("signer=\"a\\\"b\\\\c\\nd\""), std::string::npos) << *text;
  EXPECT_EQ(JobMetricsPath(dir_, r), dir_ + "/ailee_backup_state____evil_node.prom");
}

TEST_F(MetricsFileTest, UnlistedMetricIsAnErrorAndNothingIsWritten) {
  Status st = WriteJobMetrics(dir_, Run(0, 1000, {{"ailee_made_up", {}, 1}}));
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_FALSE(fs::Exists(JobMetricsPath(dir_, Run(0, 0))));
  EXPECT_EQ(WriteJobMetrics(dir_ + "/absent", Run(0, 1000)).code(), StatusCode::kNotFound);
}

TEST_F(MetricsFileTest, TemporaryFilesOfKilledRunsAreRemoved) {
  const std::string path = JobMetricsPath(dir_, Run(0, 0));
  // pid 2^22+1 is above the kernel's pid_max: certainly gone.
  const std::string leftover = path + ".tmp.4194305s1.0.abc";
  ASSERT_TRUE(fs::WriteFileAtomic(leftover, "half").ok());
  ASSERT_TRUE(WriteJobMetrics(dir_, Run(0, 1000)).ok());
  EXPECT_FALSE(fs::Exists(leftover));
}

// ---------------------------------------------------------------- samples

double ValueOf(const std::vector<Sample>& samples, const std::string& name) {
  for (const auto& s : samples) {
    if (s.name == name) return s.value;
  }
  ADD_FAILURE() << name << " not reported";
  return -1;
}

TEST(JobSamplesTest, ABackupCountsOnlyTheSecondariesThatGotTheSnapshot) {
  StateBackupResult r;
  r.backup.stats.bytes_read = 10;
  r.backup.stats.bytes_stored = 7;
  std::vector<ReplicationOutcome> copies = {{"file:///a", Status::Ok(), 7, 1},
                                            {"s3://b/repo", Unavailable("connection refused"), 0, 0}};
  auto samples = StateBackupSamples(r, copies, 3);
  EXPECT_EQ(ValueOf(samples, "ailee_job_bytes_read"), 10);
  EXPECT_EQ(ValueOf(samples, "ailee_job_bytes_stored"), 7);
  EXPECT_EQ(ValueOf(samples, "ailee_snapshot_copies"), 2);
  EXPECT_EQ(ValueOf(samples, "ailee_snapshot_min_copies"), 3);
  EXPECT_EQ(ValueOf(samples, "ailee_snapshot_locations_reached"), 1);
  EXPECT_EQ(ValueOf(samples, "ailee_snapshot_locations_configured"), 2);
  EXPECT_EQ(ValueOf(samples, "ailee_snapshot_age_seconds"), 0);
}

TEST(JobSamplesTest, DamageAndFailedKeyCopiesAreReportedAsNotOk) {
  RepositoryVerification v;
  EXPECT_EQ(ValueOf(VerifySamples(v), "ailee_verify_ok"), 1);
  v.report.problems.push_back({"pack 00ff", "", "", "00ff", "", "missing"});
  EXPECT_EQ(ValueOf(VerifySamples(v), "ailee_verify_ok"), 0);

  keys::VerifyReport ok;
  auto passed = KeysVerifySamples("signer-1", ok);
  EXPECT_EQ(ValueOf(passed, "ailee_keys_verify_age_seconds"), 0);
  EXPECT_EQ(ValueOf(passed, "ailee_keys_verify_ok"), 1);
  keys::VerifyReport bad;
  bad.overall = PermissionDenied("wrong passphrase");
  auto failed = KeysVerifySamples("signer-1", bad);
  EXPECT_EQ(ValueOf(failed, "ailee_keys_verify_ok"), 0);
  for (const auto& s : failed) EXPECT_NE(s.name, "ailee_keys_verify_age_seconds") << "a failed check must not reset the age";
}

TEST(JobSamplesTest, ArchiveLagOnlyWhenTheNodeAnswered) {
  ArchiveStatus st;
  st.archived_height = 40;
  st.lag_blocks = 0;
  for (const auto& s : ArchiveStatusSamples(st)) EXPECT_NE(s.name, "ailee_archive_lag_blocks");
  st.node_reachable = true;
  st.node_height = 45;
  st.lag_blocks = 5;
  EXPECT_EQ(ValueOf(ArchiveStatusSamples(st), "ailee_archive_lag_blocks"), 5);
}

// docs/metrics.md lists every metric the catalog has, so neither drifts.
TEST(JobSamplesTest, EveryMetricIsDocumented) {
  auto doc = fs::ReadFile(std::string(AILEE_SOURCE_DIR) + "/docs/metrics.md");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  for (const auto& m : AllMetrics()) {
    EXPECT_NE(doc->find(std::string("| `") + m.name + "` | " + m.help + " |"), std::string::npos)
        << m.name << " with its help text is missing from docs/metrics.md";
  }
}

}  // namespace
}  // namespace ailee::ops::metrics
