// `ailee-cli check` through real processes on a real repository: each check
// reads the repository itself and fails with a line that names what is
// stale or missing; exit 0/1 for monitoring systems.
#include <thread>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

std::map<std::string, nlohmann::json> ByName(const nlohmann::json& report) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& c : report["checks"]) out[c["name"]] = c;
  return out;
}

nlohmann::json JsonOf(const CommandResult& r) { return nlohmann::json::parse(r.out, nullptr, false); }

TEST(Check, EachCheckReadsTheRepositoryAndNamesWhatIsStaleOrMissing) {
  RepoWorld w("check");
  // The copy's location is a regular file: every copy to it fails.
  const std::string copy = w.scenario().dir().Join("copy-is-a-file");
  ASSERT_OK(WriteFile(copy, "not a repository\n"));
  TestNode& n = w.AddNode("node-1", "  secondary_repositories:\n    - file://" + copy + "\n");
  ASSERT_OK(w.BulkLoad(n, "", 2000));
  ASSERT_OK(w.InitRepo());

  // An empty repository: nothing is fresh; exit 1, one line per check.
  CommandResult empty = w.Cli(n, {"--json", "check"});
  EXPECT_EQ(empty.exit_code, 1) << empty.Describe();
  auto first = ByName(JsonOf(empty));
  ASSERT_EQ(first.size(), 6u) << empty.out;
  EXPECT_EQ(first["state"]["ok"], false);
  EXPECT_NE(first["state"]["detail"].get<std::string>().find("no state snapshot of node node-1"), std::string::npos);
  EXPECT_EQ(first["archive"]["skipped"], true) << "no archive: skipped, RPO is the backup interval";
  EXPECT_EQ(first["keys"]["ok"], false) << "a signer without a passing keys verify";
  EXPECT_EQ(first["drill"]["ok"], false);

  // After a state and a config backup: those two pass; the copy could not
  // be made, so `copies` fails naming its location.
  CommandResult b = w.Cli(n, {"backup", "state", "--offline"});
  ASSERT_NE(b.exit_code, 2) << b.Describe();  // the secondary is missing: the backup itself lands in the primary
  CommandResult c = w.Cli(n, {"config", "backup", "--secrets-passphrase-file", w.pass_file()});
  ASSERT_NE(c.exit_code, 2) << c.Describe();
  CommandResult after = w.Cli(n, {"--json", "check"});
  EXPECT_EQ(after.exit_code, 1) << after.Describe();
  auto second = ByName(JsonOf(after));
  EXPECT_EQ(second["state"]["ok"], true) << after.out;
  EXPECT_EQ(second["config"]["ok"], true) << after.out;
  EXPECT_EQ(second["copies"]["ok"], false) << after.out;
  EXPECT_NE(second["copies"]["detail"].get<std::string>().find(copy), std::string::npos) << after.out;

  // The same snapshot judged against a one-second limit two seconds later:
  // stale, with its age and the limit in the line. The text form too.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CommandResult stale = w.Cli(n, {"check", "--max-state-age", "1s"});
  EXPECT_EQ(stale.exit_code, 1) << stale.Describe();
  EXPECT_NE(stale.out.find("FAIL state: the newest state snapshot"), std::string::npos) << stale.out;
  EXPECT_NE(stale.out.find("older than the limit of 1s"), std::string::npos) << stale.out;
  EXPECT_NE(stale.out.find("SKIP archive"), std::string::npos) << stale.out;
  EXPECT_NE(stale.err.find("backup checks failed: state"), std::string::npos) << stale.Describe();

  // A bad limit is a usage error before anything is read.
  CommandResult bad = w.Cli(n, {"check", "--max-state-age", "soon"});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_NE(bad.err.find("--max-state-age soon"), std::string::npos) << bad.Describe();
}

}  // namespace
}  // namespace ailee::it
