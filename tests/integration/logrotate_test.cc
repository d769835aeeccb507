// The shipped logrotate rule (packaging/logrotate/ailee) rotating a real
// node's log with the real `logrotate -f`, its postrotate sending SIGHUP: the
// node then writes to the new file, no line is lost or split between files,
// and the audit log (a hash chain) is never rotated.
//
// The node is a follower of a leader that does not exist, so it keeps
// writing warnings (its retry loop) while the rotations happen. What it
// wrote to stderr (the harness's capture) is the reference: the log file's
// lines across every rotation must be exactly those.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "base/fs.h"
#include "harness.h"
#include "harness_gtest.h"

namespace ailee::it {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string ReadPlainOrGzip(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    CommandResult r = Run({"/bin/gzip", "-dc", path}, Millis(30000));
    EXPECT_EQ(r.exit_code, 0) << r;
    return r.out;
  }
  auto text = fs::ReadFile(path);
  return text.ok() ? *text : "";
}

// The shipped rule with the log dir moved to `logs`, the owner left to the
// test's user, and the postrotate signalling `pid` (the shipped one finds
// the node through systemd or by name).
std::string TestRule(const std::string& logs, pid_t pid) {
  auto shipped = fs::ReadFile(std::string(AILEE_SOURCE_DIR) + "/packaging/logrotate/ailee");
  EXPECT_TRUE(shipped.ok()) << shipped.status().ToString();
  std::string rule = shipped.ok() ? *shipped : "";
  for (size_t at; (at = rule.find("/var/log/ailee")) != std::string::npos;) rule.replace(at, 14, logs);
  size_t create = rule.find("create 0640 ailee ailee");
  EXPECT_NE(create, std::string::npos);
  if (create != std::string::npos) rule.replace(create, 23, "create 0640");
  size_t post = rule.find("postrotate\n"), end = rule.find("endscript");
  EXPECT_TRUE(post != std::string::npos && end != std::string::npos);
  if (post != std::string::npos && end != std::string::npos) {
    post += 11;
    rule.replace(post, end - post, "        kill -HUP " + std::to_string(pid) + "\n    ");
  }
  return rule;
}

bool WaitForText(const std::string& path, const std::string& text, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadPlainOrGzip(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(Millis(50));
  }
  return false;
}

TEST(Logrotate, ShippedRuleRotatesTheNodeLogWithoutLosingALine) {
  Scenario s("logrotate");
  NodeSpec spec = NodeSpec::Follower("node-1", "http://127.0.0.1:" + std::to_string(PickFreePort()));
  spec.log_file = "logs/node.log";
  TestNode node = s.AddNode(spec);
  ASSERT_OK(node.Start());
  const std::string logs = fs::JoinPath(node.dir(), "logs");
  const std::string live = fs::JoinPath(logs, "node.log");
  ASSERT_TRUE(WaitForText(live, "follower:", Millis(10000))) << FileTail(live);
  // An operator's audit log beside it: a rotation would cut its hash chain.
  const std::string audit = fs::JoinPath(logs, "audit.log");
  ASSERT_OK(WriteFile(audit, "{\"seq\":1}\n", 0600));

  const std::string conf = s.dir().Join("logrotate.conf"), state = s.dir().Join("logrotate.state");
  ASSERT_OK(WriteFile(conf, TestRule(logs, node.process().pid())));
  constexpr int kRotations = 3;
  for (int r = 1; r <= kRotations; ++r) {
    CommandResult rot = it::Run({"/usr/sbin/logrotate", "-f", "-s", state, conf}, Millis(30000));
    ASSERT_EQ(rot.exit_code, 0) << rot << "\nrule:\n" << FileTail(conf);
    // The node's own line about the reopen is the first one in the new file.
    ASSERT_TRUE(WaitForText(live, "reopened the log file", Millis(10000)))
        << "rotation " << r << ": the node did not move to the new file\n" << FileTail(node.log_path());
    // And its ongoing work (the follower's retries) is written there too.
    ASSERT_TRUE(WaitForText(live, "follower:", Millis(15000)))
        << "rotation " << r << ": the node's later lines are not in the new file\n" << FileTail(node.log_path());
  }
  EXPECT_EQ(node.Terminate(), 0);

  // rotate: node.log.1 (delaycompress), node.log.2.gz, node.log.3.gz (oldest).
  std::vector<std::string> from_files;
  for (const std::string& f : {live + ".3.gz", live + ".2.gz", live + ".1", live}) {
    ASSERT_TRUE(fs::Exists(f)) << f << " missing after " << kRotations << " rotations";
    for (auto& line : Lines(ReadPlainOrGzip(f))) from_files.push_back(line);
  }
  std::vector<std::string> from_stderr;
  for (auto& line : Lines(ReadPlainOrGzip(node.log_path()))) {
    if (!line.empty() && line[0] == '[') from_stderr.push_back(line);  // the logger's lines only
  }
  ASSERT_GE(from_stderr.size(), static_cast<size_t>(kRotations + 3));
  // Compared as multisets: two threads logging at once may reach the two
  // sinks in different orders, but every line must be in the files once.
  std::sort(from_files.begin(), from_files.end());
  std::sort(from_stderr.begin(), from_stderr.end());
  EXPECT_EQ(from_files, from_stderr) << "the log files across the rotations differ from what the node wrote";

  EXPECT_EQ(ReadPlainOrGzip(audit), "{\"seq\":1}\n") << "the audit log was rotated";
  EXPECT_FALSE(fs::Exists(audit + ".1"));
  EXPECT_FALSE(fs::Exists(audit + ".1.gz"));
}

}  // namespace
}  // namespace ailee::it
