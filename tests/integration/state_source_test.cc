// ops::ResolveStateSource against a real node: where `backup state` and
// `create-checkpoint` read the node's state from. A node that answers is
// asked (online); a stopped data dir is opened (offline); a node that holds
// its data dir but does not answer (stopped with SIGSTOP: hung, or busy
// starting) is a clear refusal, not an attempt that fails deep inside
// RocksDB.
#include <signal.h>

#include "base/fs.h"
#include "harness_gtest.h"
#include "ops/state/source.h"

namespace ailee::it {
namespace {

ops::StateSourceOptions OptionsFor(const TestNode& n) {
  ops::StateSourceOptions o;
  o.node_url = n.url();
  o.data_dir = n.data_dir();
  o.node_id = n.spec().id;
  o.probe_timeout_ms = 1000;
  const std::string token_path = n.admin_token_path();
  o.read_admin_token = [token_path]() -> Result<std::string> {
    ASSIGN_OR_RETURN(std::string t, fs::ReadFile(token_path));
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    return t;
  };
  return o;
}

TEST(StateSource, AnsweringNodeIsAskedStoppedDataDirIsOpenedHungNodeIsRefused) {
  Scenario s("state-source");
  TestNode n = s.AddNode(NodeSpec::Leader("node-1"));
  ASSERT_OK(n.Start());

  // 1. The node answers: online, with its admin token; scratch beside the data dir.
  ASSIGN_OR_FAIL(ops::StateSource online, ops::ResolveStateSource(OptionsFor(n)));
  EXPECT_TRUE(online.online());
  EXPECT_EQ(online.node_url, n.url());
  EXPECT_FALSE(online.admin_token.empty());
  EXPECT_EQ(online.scratch_parent, fs::Dirname(n.data_dir()));

  // --offline never asks, even a node that answers.
  auto forced = OptionsFor(n);
  forced.offline = true;
  ASSIGN_OR_FAIL(ops::StateSource offline_forced, ops::ResolveStateSource(forced));
  EXPECT_FALSE(offline_forced.online());

  // 2. The node holds its data dir but does not answer: refused, naming
  // the pid that holds it and the URL that did not answer.
  n.process().Signal(SIGSTOP);
  auto hung = ops::ResolveStateSource(OptionsFor(n));
  n.process().Signal(SIGCONT);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.status().code(), StatusCode::kFailedPrecondition) << hung.status().ToString();
  EXPECT_NE(hung.status().message().find("pid " + std::to_string(n.process().pid())), std::string::npos)
      << hung.status().ToString();
  EXPECT_NE(hung.status().message().find(n.url()), std::string::npos) << hung.status().ToString();
  EXPECT_NE(hung.status().message().find("hint: "), std::string::npos) << hung.status().ToString();

  // 3. The node is stopped: offline on its data dir.
  EXPECT_EQ(n.Terminate(), 0);
  auto stopped_options = OptionsFor(n);
  stopped_options.read_admin_token = []() -> Result<std::string> { return Internal("the token must not be read"); };
  ASSIGN_OR_FAIL(ops::StateSource offline, ops::ResolveStateSource(stopped_options));
  EXPECT_FALSE(offline.online());
  EXPECT_TRUE(offline.admin_token.empty());
  EXPECT_EQ(offline.data_dir, n.data_dir());
  EXPECT_EQ(offline.scratch_parent, fs::Dirname(n.data_dir()));

  // No node and no data dir: unavailable, naming the URL.
  auto nothing = OptionsFor(n);
  nothing.data_dir.clear();
  auto none = ops::ResolveStateSource(nothing);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable) << none.status().ToString();
  EXPECT_NE(none.status().message().find(n.url()), std::string::npos) << none.status().ToString();
}

}  // namespace
}  // namespace ailee::it
