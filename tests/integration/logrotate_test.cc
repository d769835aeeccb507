// The shipped logrotate rule (packaging/logrotate/ailee) rotating a real
// node's log with the real `logrotate -f`, its postrotate sending SIGHUP: the
// node then writes to the new file, no line is lost or split between files.
// And its rule for the audit log rotating audit.log while ailee-cli commands
// append to it: the chain continues across the files, `logs archive` stores
// the rotated segments, and `audit verify` over the segments restored from
// the repository plus the live file passes, and names the gap once one
// restored segment is missing.
//
// The node is a follower of a leader that does not exist, so it keeps
// writing warnings (its retry loop) while the rotations happen. What it
// wrote to stderr (the harness's capture) is the reference: the log file's
// lines across every rotation must be exactly those.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "base/fs.h"
#include "harness.h"
#include "harness_gtest.h"
#include "repo_fixture.h"

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
  EXPECT_NE(rule.find("create 0640 ailee ailee"), std::string::npos);
  for (size_t at; (at = rule.find("create 0640 ailee ailee")) != std::string::npos;) rule.replace(at, 23, "create 0640");
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
}

TEST(Logrotate, ShippedRuleRotatesTheAuditLogWithoutCuttingItsChain) {
  RepoWorld w("logrotate-audit");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.InitRepo());
  const std::string logs = fs::JoinPath(n.dir(), "logs");
  ASSERT_OK(fs::MakeDirs(logs, 0750));
  const std::string audit = fs::JoinPath(logs, "audit.log");
  // Audited and cheap: each run appends one line to the audit log.
  const std::vector<std::string> audited = {"--audit-log", audit, "-q", "logs", "archive", "--dir", logs, "--dry-run"};
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--audit-log", audit});
    return w.Cli(n, args);
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w.Cli(n, audited).exit_code, 0);

  // No node here: the other logs' postrotate signals this process, which ignores it.
  ::signal(SIGHUP, SIG_IGN);
  const std::string conf = w.scenario().dir().Join("logrotate.conf"), state = w.scenario().dir().Join("logrotate.state");
  ASSERT_OK(WriteFile(conf, TestRule(logs, ::getpid())));
  // Commands append from another thread while logrotate renames the file.
  std::atomic<int> failures{0};
  std::thread appender([&] {
    for (int i = 0; i < 8; ++i) failures += w.Cli(n, audited).exit_code == 0 ? 0 : 1;
  });
  for (int r = 0; r < 3; ++r) {
    CommandResult rot = it::Run({"/usr/sbin/logrotate", "-f", "-s", state, conf}, Millis(30000));
    EXPECT_EQ(rot.exit_code, 0) << rot << "\nrule:\n" << FileTail(conf);
    // Something appended before the next rotation (notifempty skips an empty file).
    for (int i = 0; i < 2; ++i) ASSERT_EQ(w.Cli(n, audited).exit_code, 0);
  }
  appender.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(fs::Exists(audit + ".1")) << "delaycompress keeps the newest rotation plain";
  ASSERT_TRUE(fs::Exists(audit + ".2.gz"));
  ASSERT_TRUE(fs::Exists(audit + ".3.gz"));

  // On disk: the live file with its rotations, one chain from seq 1, and it
  // ends at the head the last command recorded in the repository.
  ASSIGN_OR_FAIL(auto on_disk, w.JsonOk(n, {"--audit-log", audit, "audit", "verify"}));
  EXPECT_TRUE(on_disk["ok"].get<bool>()) << on_disk.dump(2);
  EXPECT_EQ(on_disk["first_seq"], 1) << on_disk.dump(2);
  EXPECT_EQ(on_disk["segments"].size(), 4u) << on_disk.dump(2);
  EXPECT_FALSE(on_disk["recorded_head"].is_null()) << on_disk.dump(2);

  // Archive the rotated segments, restore them into a fresh directory.
  ASSERT_EQ(cli({"-q", "logs", "archive", "--dir", logs}).exit_code, 0);
  const std::string restored = w.scenario().dir().Join("restored");
  CommandResult res = cli({"-q", "logs", "restore", "--since", "2000-01-01", "--target", restored});
  ASSERT_EQ(res.exit_code, 0) << res;
  for (const char* seg : {"audit.log.1", "audit.log.2.gz", "audit.log.3.gz"}) {
    ASSERT_TRUE(fs::Exists(fs::JoinPath(restored, seg))) << seg << " not restored";
  }
  // The archived segments with the live file: one chain from seq 1, head matching.
  ASSIGN_OR_FAIL(auto whole, w.JsonOk(n, {"--audit-log", audit, "audit", "verify", restored, audit}));
  EXPECT_TRUE(whole["ok"].get<bool>()) << whole.dump(2);
  EXPECT_EQ(whole["first_seq"], 1) << whole.dump(2);
  EXPECT_FALSE(whole["recorded_head"].is_null()) << whole.dump(2);  // and it matched (ok)
  EXPECT_GT(whole["head"]["seq"].get<uint64_t>(), on_disk["head"]["seq"].get<uint64_t>()) << whole.dump(2);
  EXPECT_EQ(whole["lines"], whole["head"]["seq"]) << whole.dump(2);

  // One archived segment missing: verify fails (exit 3) and names the gap.
  ASSERT_EQ(::unlink(fs::JoinPath(restored, "audit.log.2.gz").c_str()), 0);
  CommandResult gap = cli({"audit", "verify", restored, audit});
  EXPECT_EQ(gap.exit_code, 3) << gap;
  EXPECT_NE(gap.err.find("missing"), std::string::npos) << gap;
  EXPECT_NE(gap.err.find(fs::JoinPath(restored, "audit.log.1")), std::string::npos) << gap;
}

}  // namespace
}  // namespace ailee::it
