// An invalid config is reported whole: validate-config lists every problem
// with its field path (exit 2), and ailee-node refuses to start on it (exit
// 2) with the same messages, leaving no data dir behind.
#include <set>

#include "base/fs.h"
#include "harness_gtest.h"

namespace ailee::it {
namespace {

TEST(Config, ValidateConfigListsEveryProblemAndNodeRefusesToStart) {
  Scenario s("config");
  // Five independent mistakes.
  const std::string bad = "node:\n"
                          "  id: Node_One\n"                 // bad id charset
                          "  data_dir: data\n"
                          "  listen: 0.0.0.0:1\n"            // public without allow_public
                          "  block_interval_ms: 5\n"         // below 10
                          "  colour: blue\n"                 // unknown field
                          "federation:\n"
                          "  threshold: 7\n"                 // more than the signers
                          "  signers:\n"
                          "    - id: signer-01\n"
                          "      public_key_file: " + s.signer().pub_file + "\n"
                          "signer:\n"
                          "  id: signer-01\n"
                          "  key_file: " + s.signer().key_file + "\n"
                          "logging:\n"
                          "  audit_log: audit.log\n";
  const std::string path = s.dir().Join("bad/config.yaml");
  ASSERT_OK(WriteFile(path, bad));
  const std::vector<std::string> fields = {"node.id", "node.listen", "node.block_interval_ms", "node.colour",
                                           "federation.threshold"};

  CommandResult v = s.CliRaw({"validate-config", path});
  EXPECT_EQ(v.exit_code, 2) << v;
  for (const auto& f : fields) EXPECT_NE((v.out + v.err).find(f), std::string::npos) << f << " not reported\n" << v;

  CommandResult vj = s.CliRaw({"--json", "--config", path, "validate-config"});
  EXPECT_EQ(vj.exit_code, 2) << vj;
  nlohmann::json report = JsonOut(vj);
  EXPECT_EQ(report["ok"], false);
  std::set<std::string> reported;
  for (const auto& p : report["problems"]) reported.insert(p["field"].get<std::string>());
  for (const auto& f : fields) EXPECT_TRUE(reported.count(f)) << f << " missing from " << report["problems"].dump(2);

  ASSIGN_OR_FAIL(Process node, Process::Spawn({NodeBinary(), "--config", path}, s.dir().Join("bad/node.log")));
  auto code = node.Wait(Millis(15000));
  ASSERT_TRUE(code.has_value()) << "ailee-node started on an invalid config";
  EXPECT_EQ(*code, 2);
  const std::string log = FileTail(s.dir().Join("bad/node.log"));
  for (const auto& f : fields) EXPECT_NE(log.find(f), std::string::npos) << f << " not in the node's message\n" << log;
  EXPECT_FALSE(fs::Exists(s.dir().Join("bad/data"))) << "the node created its data dir before refusing";

  // The same file with the mistakes fixed is accepted.
  TestNode good = s.AddNode(NodeSpec::Leader("node-1"));
  ASSERT_OK(good.Start());
  CommandResult ok = s.Cli(good, {"validate-config"});
  EXPECT_EQ(ok.exit_code, 0) << ok;
  EXPECT_EQ(good.Terminate(), 0);
}

TEST(Config, MissingConfigFileIsNotFound) {
  Scenario s("config-missing");
  ASSIGN_OR_FAIL(Process node, Process::Spawn({NodeBinary(), "--config", s.dir().Join("nope.yaml")},
                                              s.dir().Join("node.log")));
  auto code = node.Wait(Millis(15000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << FileTail(s.dir().Join("node.log"));
}

}  // namespace
}  // namespace ailee::it
