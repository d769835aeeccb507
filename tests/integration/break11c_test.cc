// Attacks on issue 11's drills as built (third pass), the way an unlucky
// operator would meet them. Each test failed before its fix:
// - a drill whose report cannot be stored in the repository (snapshots/
//   not writable: a full or read-only disk, an immutable directory, an S3
//   outage at the end of a long drill) ended on the storing error alone: the
//   drill's own verdict was lost, a config that would not validate (exit 3)
//   was reported as a permission problem (exit 5) with no word of the failed
//   check and no report document at all.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

// chattr +i on a directory for as long as this lives: even root can then
// create nothing in it (the tests run as root, so a mode would not do).
class ImmutableDir {
 public:
  explicit ImmutableDir(std::string dir) : dir_(std::move(dir)) { ok_ = Chattr("+i"); }
  ~ImmutableDir() {
    if (ok_) (void)Chattr("-i");
  }
  bool ok() const { return ok_; }

 private:
  bool Chattr(const char* flag) const {
    CommandResult r = Run({"/usr/bin/chattr", flag, dir_}, Millis(10000));
    return r.exit_code == 0;
  }
  std::string dir_;
  bool ok_ = false;
};

TEST(Break11cConfigDrill, AReportThatCannotBeStoredKeepsTheDrillsVerdictAndDocument) {
  RepoWorld w{"brk11c-store"};
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.InitRepo());
  const std::string secrets = w.scenario().dir().Join("secrets.pass");
  const std::string scratch = w.scenario().dir().Join("scratch");
  ASSERT_OK(WriteFile(secrets, "config drill secrets passphrase\n", 0600));
  CommandResult b = w.Cli(n, {"backup", "config", "--secrets-passphrase-file", secrets});
  ASSERT_EQ(b.exit_code, 0) << b;
  const std::vector<std::string> drill = {"--json", "drill", "--config", "--sandbox-dir", scratch,
                                          "--secrets-passphrase-file", secrets};
  const std::string snapshots = w.repo_dir() + "/snapshots";
  const size_t before = Entries(snapshots).size();
  {
    ImmutableDir frozen(snapshots);
    if (!frozen.ok()) GTEST_SKIP() << "chattr +i is not supported here";
    // A drill that passed: the failure to keep its report is the outcome,
    // and the report is still shown.
    CommandResult passed = w.Cli(n, drill);
    EXPECT_NE(passed.exit_code, 0) << passed;
    EXPECT_NE(passed.exit_code, 3) << "the drill passed: " << passed;
    nlohmann::json p = JsonOut(passed);
    EXPECT_EQ(p.value("ok", false), true) << passed;
    EXPECT_EQ(p.value("report_snapshot", "?"), "") << passed;
    EXPECT_NE(p.value("report_error", ""), "") << passed;
    EXPECT_NE(passed.err.find("storing the drill report"), std::string::npos) << passed;

    // The live config moves the federation key and the old file goes: the
    // newest config snapshot no longer validates. The drill's finding (exit
    // 3, config-valid) is the verdict, the unstored report said beside it.
    const std::string pub = w.scenario().signer().pub_file;
    const std::string moved = w.scenario().dir().Join("moved.pub");
    stdfs::copy_file(pub, moved);
    std::ifstream in(n.config_path());
    std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    for (size_t at = cfg.find(pub); at != std::string::npos; at = cfg.find(pub, at)) cfg.replace(at, pub.size(), moved);
    ASSERT_OK(WriteFile(n.config_path(), cfg));
    stdfs::remove(pub);
    CommandResult failed = w.Cli(n, drill);
    EXPECT_EQ(failed.exit_code, 3) << failed;
    nlohmann::json f = JsonOut(failed);
    EXPECT_EQ(f.value("failed_check", ""), "config-valid") << failed;
    EXPECT_NE(f.value("report_error", ""), "") << failed;
    CommandResult text = w.Cli(n, {"drill", "--config", "--sandbox-dir", scratch, "--secrets-passphrase-file", secrets});
    EXPECT_EQ(text.exit_code, 3) << text;
    EXPECT_NE(text.out.find("FAILED at check 'config-valid'"), std::string::npos) << text;
    EXPECT_NE(text.out.find("report NOT stored"), std::string::npos) << text;
  }
  EXPECT_EQ(Entries(snapshots).size(), before) << "nothing half-written in the repository";
  EXPECT_TRUE(Entries(scratch).empty()) << "left in " << scratch;
  ASSIGN_OR_FAIL(auto history, w.JsonOk(n, {"drill", "--history"}));
  EXPECT_TRUE(history["reports"].empty()) << history.dump();
}

}  // namespace
}  // namespace ailee::it
