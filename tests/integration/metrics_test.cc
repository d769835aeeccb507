// The jobs' Prometheus textfile metrics, written by a real ailee-cli against
// a real node and repository: the file `backup state` leaves passes
// `promtool check metrics`; a failing run keeps the last success; a FIFO or a
// symlink planted at the file's name neither hangs the job nor is written
// through; a job without a metrics directory writes nothing and still
// succeeds; a directory that vanished is a warning, not a failed backup.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "base/fs.h"
#include "harness_gtest.h"

namespace ailee::it {
namespace {

constexpr const char* kPassphrase = "metrics test passphrase";

// "name{labels}" -> value, from the text format.
std::map<std::string, double> Series(const std::string& text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return out;
}

// Names in `dir`, sorted; empty when it is absent.
std::vector<std::string> Entries(const std::string& dir) {
  auto names = fs::ListDir(dir);
  return names.ok() ? *names : std::vector<std::string>();
}

std::string Key(const std::string& name, const std::string& job) {
  return name + "{ailee_job=\"" + job + "\",node=\"node-1\"}";
}

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() : s_("metrics"), textfile_(s_.dir().Join("textfile")), pass_file_(s_.dir().Join("repo.pass")) {}

  void SetUp() override {
    ASSERT_EQ(::mkdir(textfile_.c_str(), 0755), 0);
    ASSERT_OK(WriteFile(pass_file_, std::string(kPassphrase) + "\n", 0600));
    ASSERT_OK(WriteFile(s_.dir().Join("wrong.pass"), "not the passphrase\n", 0600));
    NodeSpec spec = NodeSpec::Leader("node-1", 100, 10);
    spec.extra_yaml = BackupYaml() + "monitoring:\n  textfile_dir: " + textfile_ + "\n";
    node_.emplace(s_.AddNode(spec));
    ASSERT_OK(node_->Start());
    CommandResult init = s_.Cli(*node_, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
    ASSERT_EQ(init.exit_code, 0) << init;
    ASSERT_OK(node_->WaitForHeight(3, Millis(15000)));
  }

  std::string BackupYaml() const {
    return "backup:\n  repository: file://" + s_.dir().Join("repo") + "\n  passphrase_file: " + pass_file_ + "\n";
  }
  std::string File(const std::string& job) const { return textfile_ + "/ailee_" + job + "_node-1.prom"; }
  std::string Text(const std::string& job) const {
    auto text = fs::ReadFile(File(job));
    EXPECT_TRUE(text.ok()) << File(job);
    return text.ok() ? *text : "";
  }
  CommandResult PromtoolCheck(const std::string& file) const {
    return ailee::it::Run({"/bin/sh", "-c", "promtool check metrics < \"$0\"", file}, Millis(30000));
  }

  Scenario s_;
  std::string textfile_, pass_file_;
  std::optional<TestNode> node_;
};

TEST_F(MetricsTest, BackupStateWritesMetricsThatPromtoolAcceptsAndAFailureKeepsTheSuccess) {
  CommandResult ok = s_.Cli(*node_, {"-q", "backup", "state"});
  ASSERT_EQ(ok.exit_code, 0) << ok;
  const std::string job = "backup_state";
  auto first = Series(Text(job));
  CommandResult check = PromtoolCheck(File(job));
  EXPECT_EQ(check.exit_code, 0) << check << "\n" << Text(job);
  EXPECT_EQ(first[Key("ailee_job_exit_code", job)], 0);
  const double success = first[Key("ailee_job_last_success_timestamp_seconds", job)];
  EXPECT_GT(success, 1.7e9);
  EXPECT_EQ(success, first[Key("ailee_job_last_attempt_timestamp_seconds", job)]);
  EXPECT_GT(first[Key("ailee_job_bytes_read", job)], 0);
  EXPECT_GT(first[Key("ailee_job_bytes_stored", job)], 0);
  EXPECT_EQ(first[Key("ailee_snapshot_copies", job)], 1);
  EXPECT_EQ(first[Key("ailee_snapshot_locations_configured", job)], 0);
  EXPECT_EQ(first.count(Key("ailee_snapshot_age_seconds", job)), 1u);
  for (const char* name : {"ailee_job_last_attempt_timestamp_seconds", "ailee_job_duration_seconds", "ailee_job_exit_code"}) {
    EXPECT_NE(Text(job).find(std::string("# HELP ") + name + " "), std::string::npos) << name;
    EXPECT_NE(Text(job).find(std::string("# TYPE ") + name + " gauge"), std::string::npos) << name;
  }

  // A wrong passphrase: the job fails (exit 5); the file says so and keeps
  // the last success.
  ::sleep(1);
  CommandResult bad = s_.Cli(*node_, {"-q", "backup", "state", "--passphrase-file", s_.dir().Join("wrong.pass")});
  ASSERT_EQ(bad.exit_code, 5) << bad;
  auto second = Series(Text(job));
  EXPECT_EQ(second[Key("ailee_job_exit_code", job)], 5);
  EXPECT_EQ(second[Key("ailee_job_last_success_timestamp_seconds", job)], success);
  EXPECT_GT(second[Key("ailee_job_last_attempt_timestamp_seconds", job)], success);
  EXPECT_GE(second[Key("ailee_snapshot_age_seconds", job)], 1) << "the snapshot ages while backups fail";
  EXPECT_EQ(second.count(Key("ailee_job_bytes_read", job)), 0u) << "a failed run reports no bytes of its own";
  EXPECT_EQ(PromtoolCheck(File(job)).exit_code, 0) << Text(job);
}

TEST_F(MetricsTest, AFifoOrSymlinkAtTheNameIsReplacedWithoutHangingOrWritingThrough) {
  const std::string job = "backup_state";
  ASSERT_EQ(::mkfifo(File(job).c_str(), 0644), 0);
  CommandResult fifo = s_.Cli(*node_, {"-q", "backup", "state"}, Millis(60000));
  ASSERT_FALSE(fifo.timed_out) << "the job hung on the FIFO";
  ASSERT_EQ(fifo.exit_code, 0) << fifo;
  struct stat st {};
  ASSERT_EQ(::lstat(File(job).c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));

  const std::string victim = s_.dir().Join("victim.txt");
  ASSERT_OK(WriteFile(victim, "keep me\n"));
  ASSERT_EQ(::unlink(File(job).c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), File(job).c_str()), 0);
  CommandResult link = s_.Cli(*node_, {"-q", "backup", "state"});
  ASSERT_EQ(link.exit_code, 0) << link;
  auto v = fs::ReadFile(victim);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "keep me\n");
  ASSERT_EQ(::lstat(File(job).c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Entries(textfile_).size(), 1u) << "no temporary file left beside it";
}

TEST_F(MetricsTest, EveryScheduledJobReportsAndOthersDoNot) {
  ASSERT_EQ(s_.Cli(*node_, {"-q", "backup", "state"}).exit_code, 0);
  CommandResult verify = s_.Cli(*node_, {"-q", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify;
  auto v = Series(Text("verify"));
  EXPECT_EQ(v[Key("ailee_verify_ok", "verify")], 1);
  CommandResult status = s_.Cli(*node_, {"-q", "archive", "status", "--buffer-dir", s_.dir().Join("buffer")});
  ASSERT_EQ(status.exit_code, 0) << status;
  auto a = Series(Text("archive_status"));
  EXPECT_GT(a[Key("ailee_archive_lag_blocks", "archive_status")], 0) << "nothing archived yet: the lag is the height";
  CommandResult forget = s_.Cli(*node_, {"-q", "forget", "--kind", "all", "--keep-last", "5", "--dry-run"});
  ASSERT_EQ(forget.exit_code, 0) << forget;
  CommandResult snapshots = s_.Cli(*node_, {"-q", "snapshots"});
  ASSERT_EQ(snapshots.exit_code, 0) << snapshots;
  std::vector<std::string> files = Entries(textfile_);
  EXPECT_EQ(files, (std::vector<std::string>{"ailee_archive_status_node-1.prom", "ailee_backup_state_node-1.prom",
                                             "ailee_verify_node-1.prom"}))
      << "a dry run and a read-only command report nothing";
  for (const auto& f : files) EXPECT_EQ(PromtoolCheck(textfile_ + "/" + f).exit_code, 0) << f;
}

TEST_F(MetricsTest, NoDirectoryMeansNoMetricsAndAVanishedOneOnlyWarns) {
  // --metrics-dir overrides the config.
  const std::string other = s_.dir().Join("other");
  ASSERT_EQ(::mkdir(other.c_str(), 0755), 0);
  ASSERT_EQ(s_.Cli(*node_, {"-q", "--metrics-dir", other, "verify"}).exit_code, 0);
  EXPECT_EQ(Entries(other), std::vector<std::string>{"ailee_verify_node-1.prom"});
  EXPECT_TRUE(Entries(textfile_).empty());

  // A vanished directory: the job's outcome stands, stderr says why.
  CommandResult vanished = s_.Cli(*node_, {"-q", "--metrics-dir", s_.dir().Join("absent"), "verify"});
  EXPECT_EQ(vanished.exit_code, 0) << vanished;
  EXPECT_NE(vanished.err.find("warning: metrics not written"), std::string::npos) << vanished;

  // A config that names no directory (the node's own, without its
  // monitoring section, beside it so its relative paths still hold):
  // nothing written, no warning.
  auto yaml = fs::ReadFile(node_->config_path());
  ASSERT_TRUE(yaml.ok());
  const std::string plain_yaml = yaml->substr(0, yaml->find("monitoring:"));
  ASSERT_NE(plain_yaml.size(), yaml->size());
  const std::string plain = node_->dir() + "/plain.yaml";
  ASSERT_OK(WriteFile(plain, plain_yaml));
  CommandResult quiet = s_.CliRaw({"--config", plain, "-q", "verify"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet;
  EXPECT_EQ(quiet.err, "");
  EXPECT_TRUE(Entries(textfile_).empty());
}

}  // namespace
}  // namespace ailee::it
