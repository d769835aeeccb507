// Adversarial review of issue 12 (second pass) through real processes, as an
// unlucky operator would meet it. Each test failed before its fix:
// - ailee-node with a logging.log_file it cannot open (its directory
//   missing, read-only, or not writable by the user it runs as): the file
//   sink's exception was uncaught, so the node aborted (exit 134, a restart
//   loop under systemd) instead of saying which file and what to do;
// - `ailee-cli --json check --max-state-age <20 digits>`: std::stoll threw,
//   the CLI aborted with exit 134 and printed no JSON document.
#include <gtest/gtest.h>

#include "base/fs.h"
#include "harness.h"
#include "harness_gtest.h"

namespace ailee::it {
namespace {

TEST(Break12b, NodeWithAnUnopenableLogFileSaysSoAndExitsOne) {
  Scenario s("break12b-log");
  // The log's "directory" is a regular file: open fails with ENOTDIR even
  // for root, as it fails with EACCES for the wrong user.
  NodeSpec spec = NodeSpec::Follower("node-1", "http://127.0.0.1:" + std::to_string(PickFreePort()));
  spec.log_file = "not-a-dir/node.log";
  TestNode node = s.AddNode(spec);
  const std::string blocker = fs::JoinPath(node.dir(), "not-a-dir");
  ASSERT_OK(WriteFile(blocker, "a file where the log directory belongs\n"));

  Status started = node.Start(Millis(20000));
  ASSERT_FALSE(started.ok()) << "the node started without its log file";
  const std::string err = FileTail(node.log_path());  // the node's stderr
  EXPECT_EQ(node.process().exit_code(), 1) << "1: other failures (ailee-node's contract), not an abort: " << started.ToString();
  EXPECT_NE(err.find(blocker + "/node.log"), std::string::npos) << "names the file: " << err;
  EXPECT_NE(err.find("logging.log_file"), std::string::npos) << "names the field: " << err;
  EXPECT_NE(err.find("hint:"), std::string::npos) << "says what to do: " << err;
}

TEST(Break12b, DurationFlagWithTooManyDigitsIsAUsageErrorInOneJsonDocument) {
  Scenario s("break12b-flags");
  TestNode node = s.AddNode(NodeSpec::Leader("node-1"));
  // Parsed before the repository is opened: no repository is needed to see it.
  CommandResult r = s.Cli(node, {"--json", "check", "--max-state-age", "99999999999999999999m"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "stdout is one JSON document: " << r.Describe();
  EXPECT_EQ(doc.value("ok", true), false) << r.out;
  EXPECT_NE(doc.value("message", "").find("--max-state-age 99999999999999999999m"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ailee::it
