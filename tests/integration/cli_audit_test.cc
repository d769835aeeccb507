// The audit trail and the CLI's messages and exit codes, through real
// ailee-cli processes on a real node's state and a real repository:
//   - a truncated audit log tail is caught without --head (the repository
//     records the head after every job);
//   - commands run without a config are audited (global --audit-log, or the
//     default log);
//   - permanent conditions (a running node holding the target, a foreign
//     repository) are not reported as "retry" (exit 6);
//   - each error carries the hint of its cause, not one per exit code;
//   - -q prints nothing on success but still prints errors;
//   - a missing audit log directory is created, or named with what to do.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

std::string AuditLogOf(const TestNode& n) { return n.dir() + "/audit.log"; }

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

Status WriteLines(const std::string& path, const std::vector<std::string>& lines, size_t count) {
  std::string data;
  for (size_t i = 0; i < count && i < lines.size(); ++i) data += lines[i] + "\n";
  return WriteFile(path, data, 0640);
}

std::vector<std::string> AuditedOperations(RepoWorld& w, const std::string& log) {
  CommandResult r = w.scenario().CliRaw({"audit", "show", log, "--json"});
  std::vector<std::string> ops;
  if (r.exit_code != 0) {
    ADD_FAILURE() << r;
    return ops;
  }
  for (const auto& rec : nlohmann::json::parse(r.out)) ops.push_back(rec["operation"].get<std::string>());
  return ops;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ---------------------------------------------------------------- item 1

TEST(AuditHead, TruncatedTailAfterBackupIsDetectedWithoutHeadFlag) {
  RepoWorld w("audit-trunc");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 100));
  ASSERT_OK(w.InitRepo());
  // The new repository holds the head after repo.init's own line.
  CommandResult fresh = w.Cli(n, {"audit", "verify"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh;
  EXPECT_NE(fresh.out.find("recorded head (line 1)"), std::string::npos) << fresh;
  ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));
  const auto lines = ReadLines(AuditLogOf(n));
  ASSERT_GE(lines.size(), 2u);

  // Untouched: verified, and against the repository's recorded head.
  CommandResult ok = w.Cli(n, {"audit", "verify"});
  ASSERT_EQ(ok.exit_code, 0) << ok;
  EXPECT_NE(ok.out.find("recorded head"), std::string::npos) << ok;

  // Drop the backup's own line (the last record).
  ASSERT_OK(WriteLines(AuditLogOf(n), lines, lines.size() - 1));
  CommandResult cut = w.Cli(n, {"audit", "verify"});
  EXPECT_EQ(cut.exit_code, 3) << cut;
  EXPECT_NE(cut.err.find("line " + std::to_string(lines.size())), std::string::npos) << cut;
  EXPECT_NE(cut.err.find("truncated"), std::string::npos) << cut;

  // --json says the same.
  CommandResult js = w.Cli(n, {"--json", "audit", "verify"});
  EXPECT_EQ(js.exit_code, 3) << js;
  EXPECT_EQ(JsonOut(js)["first_bad_line"], lines.size()) << js;

  // The whole log emptied: still caught.
  ASSERT_OK(WriteLines(AuditLogOf(n), lines, 0));
  CommandResult empty = w.Cli(n, {"audit", "verify"});
  EXPECT_EQ(empty.exit_code, 3) << empty;

  // An explicit --head still works and is the one compared.
  ASSERT_OK(WriteLines(AuditLogOf(n), lines, lines.size()));
  CommandResult explicit_head = w.Cli(n, {"audit", "verify", "--head", "1:" + std::string(64, '0')});
  EXPECT_EQ(explicit_head.exit_code, 3) << explicit_head;
  EXPECT_NE(explicit_head.err.find("line 1"), std::string::npos) << explicit_head;
}

TEST(AuditHead, LogReplacedByAnotherChainOfTheSameLengthIsDetected) {
  // An attacker rewrites the whole file: a fresh chain with as many lines.
  RepoWorld w("audit-replace");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  ASSERT_OK(w.JsonOk(n, {"backup", "state", "--offline"}));
  const size_t count = ReadLines(AuditLogOf(n)).size();
  const std::string other = n.dir() + "/other.log";
  for (size_t i = 0; i < count; ++i) {
    CommandResult r = w.scenario().CliRaw({"--audit-log", other, "verify-state", n.data_dir()});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  ASSERT_EQ(::rename(other.c_str(), AuditLogOf(n).c_str()), 0);
  CommandResult r = w.Cli(n, {"audit", "verify"});
  EXPECT_EQ(r.exit_code, 3) << r;
}

// ---------------------------------------------------------------- item 2

TEST(AuditTrail, StateAndCheckpointCommandsWithoutConfigAreRecorded) {
  RepoWorld w("audit-noconf");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto cfg_snap, w.JsonOk(n, {"backup", "config", "--secrets-passphrase-file", w.pass_file()}));
  const std::string log = w.scenario().dir().Join("noconf-audit.log");
  const std::string cp = w.scenario().dir().Join("cp");
  auto raw = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--audit-log", log});  // no --config (and no /etc/ailee/config.yaml)
    return w.scenario().CliRaw(args);
  };
  CommandResult vs = raw({"verify-state", n.data_dir()});
  ASSERT_EQ(vs.exit_code, 0) << vs;
  CommandResult cc = raw({"create-checkpoint", "--offline", "--data-dir", n.data_dir(), "--output", cp});
  ASSERT_EQ(cc.exit_code, 0) << cc;
  CommandResult vc = raw({"verify-checkpoint", cp});
  ASSERT_EQ(vc.exit_code, 0) << vc;
  CommandResult rc = raw({"restore", "config", cfg_snap["snapshot"].get<std::string>(), "--target",
                          w.scenario().dir().Join("cfg-restored"), "--repo", w.repo_url(), "--passphrase-file",
                          w.pass_file(), "--secrets-passphrase-file", w.pass_file(), "--no-validate"});
  ASSERT_EQ(rc.exit_code, 0) << rc;
  // A failure is recorded too.
  CommandResult bad = raw({"verify-state", w.scenario().dir().Join("missing")});
  ASSERT_NE(bad.exit_code, 0) << bad;

  auto ops = AuditedOperations(w, log);
  EXPECT_TRUE(Contains(ops, "verify-state")) << testing::PrintToString(ops);
  EXPECT_TRUE(Contains(ops, "create-checkpoint")) << testing::PrintToString(ops);
  EXPECT_TRUE(Contains(ops, "verify-checkpoint")) << testing::PrintToString(ops);
  EXPECT_TRUE(Contains(ops, "restore.config")) << testing::PrintToString(ops);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "verify-state"), 2) << testing::PrintToString(ops);
  CommandResult chain = w.scenario().CliRaw({"audit", "verify", log});
  EXPECT_EQ(chain.exit_code, 0) << chain;

  // With the config: its logging.audit_log.
  CommandResult with_cfg = w.Cli(n, {"verify-state", n.data_dir()});
  ASSERT_EQ(with_cfg.exit_code, 0) << with_cfg;
  auto cfg_ops = AuditedOperations(w, AuditLogOf(n));
  EXPECT_TRUE(Contains(cfg_ops, "verify-state")) << testing::PrintToString(cfg_ops);
}

// ---------------------------------------------------------------- item 3

TEST(ExitCodes, RunningNodeHoldingTheDataDirIsNotRetry) {
  RepoWorld w("exit-running");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(n.Start());
  CommandResult r = w.Cli(n, {"create-checkpoint", "--offline", "--output", w.scenario().dir().Join("cp")});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_NE(r.err.find("hint: stop the node"), std::string::npos) << r;
  EXPECT_EQ(r.err.find("retry"), std::string::npos) << r;
  EXPECT_EQ(n.Terminate(), 0);
}

TEST(ExitCodes, ForeignSecondaryRepositoryIsNotRetry) {
  RepoWorld w("exit-foreign");
  const std::string foreign = "file://" + w.scenario().dir().Join("foreign");
  TestNode& n = w.AddNode("node-1", "  secondary_repositories: [" + foreign + "]\n");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  CommandResult init = w.Cli(n, {"repo", "init", "--repo", foreign, "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  ASSERT_EQ(init.exit_code, 0) << init;
  CommandResult b = w.Cli(n, {"backup", "state", "--offline"});
  EXPECT_EQ(b.exit_code, 1) << b;
  EXPECT_NE(b.err.find("not a copy"), std::string::npos) << b;
  EXPECT_EQ(b.err.find("retry"), std::string::npos) << b;
  CommandResult st = w.Cli(n, {"repo", "status"});
  EXPECT_EQ(st.exit_code, 1) << st;
}

TEST(ExitCodes, FollowerForkedFromItsLeaderIsNotRetry) {
  RepoWorld w("exit-fork");
  Scenario& s = w.scenario();
  // Two machines holding the federation key, each with its own key file (and
  // so its own signing fence; one shared fence would stop node-a at height 0).
  NodeSpec a_spec = NodeSpec::Leader("node-a", 100);
  a_spec.signer_key_file = s.dir().Join("node-a.key");
  ASSERT_TRUE(std::filesystem::copy_file(s.signer().key_file, a_spec.signer_key_file));
  TestNode a = s.AddNode(a_spec);
  TestNode b = s.AddNode(NodeSpec::Leader("node-b", 100));
  ASSERT_OK(b.Start());
  ASSERT_OK(b.WaitForHeight(3, Millis(20000)));
  ASSIGN_OR_FAIL(uint64_t b_height, b.Height());
  EXPECT_EQ(b.Terminate(), 0);
  ASSERT_OK(a.Start());
  ASSERT_OK(a.WaitForHeight(b_height + 20, Millis(60000)));  // past node-b's last block
  // A follower of node-a that holds node-b's chain: same federation, other blocks.
  TestNode f = s.AddNode(NodeSpec::Follower("node-f", a.url(), 100));
  std::filesystem::create_directories(f.dir());
  ASSERT_OK(CopyTree(b.data_dir(), f.data_dir()));
  ASSERT_OK(f.Start());
  CommandResult r = s.Cli(f, {"sync-status", "--wait", "3"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_NE(r.err.find("forked"), std::string::npos) << r;
  EXPECT_NE(r.err.find("hint:"), std::string::npos) << r;
  f.Terminate();
  a.Terminate();
}

// ---------------------------------------------------------------- item 4

TEST(Hints, EachErrorCarriesTheHintOfItsCause) {
  RepoWorld w("hints");
  const std::string lost_secondary = "file://" + w.scenario().dir().Join("site-b");
  TestNode& n = w.AddNode("node-1", "  secondary_repositories: [" + lost_secondary + "]\n");
  ASSERT_OK(w.BulkLoad(n, "", 50));

  // Primary missing while a secondary is configured: never `repo init`.
  CommandResult missing = w.Cli(n, {"snapshots"});
  EXPECT_EQ(missing.exit_code, 4) << missing;
  EXPECT_EQ(missing.err.find("repo init"), std::string::npos) << missing;
  EXPECT_NE(missing.err.find("hint:"), std::string::npos) << missing;
  EXPECT_NE(missing.err.find("copy"), std::string::npos) << missing;

  ASSERT_OK(w.InitRepo());
  ASSIGN_OR_FAIL(auto snap, w.JsonOk(n, {"backup", "state", "--offline"}));

  // Wrong passphrase: the passphrase, not S3 credentials.
  const std::string wrong = w.scenario().dir().Join("wrong.pass");
  ASSERT_OK(WriteFile(wrong, "not the passphrase\n", 0600));
  CommandResult auth = w.Cli(n, {"snapshots", "--passphrase-file", wrong});
  EXPECT_EQ(auth.exit_code, 5) << auth;
  EXPECT_NE(auth.err.find("hint:"), std::string::npos) << auth;
  EXPECT_NE(auth.err.find("AILEE_REPO_PASSPHRASE"), std::string::npos) << auth;
  EXPECT_EQ(auth.err.find("S3"), std::string::npos) << auth;

  // A missing dir: no "`ailee-cli snapshots` lists what exists".
  CommandResult nodir = w.Cli(n, {"verify-state", w.scenario().dir().Join("nope")});
  EXPECT_EQ(nodir.exit_code, 4) << nodir;
  EXPECT_EQ(nodir.err.find("snapshots"), std::string::npos) << nodir;

  // Target exists: --force where the command has it (restore) ...
  const std::string target = w.scenario().dir().Join("restored");
  ASSERT_OK(WriteFile(target + "/x", "x"));
  CommandResult exists = w.Cli(n, {"restore", snap["snapshot"].get<std::string>(), "--target", target});
  EXPECT_EQ(exists.exit_code, 7) << exists;
  EXPECT_NE(exists.err.find("--force"), std::string::npos) << exists;
  // ... and not where it has none (create-checkpoint).
  CommandResult cp = w.Cli(n, {"create-checkpoint", "--offline", "--output", target});
  EXPECT_EQ(cp.exit_code, 7) << cp;
  EXPECT_EQ(cp.err.find("--force"), std::string::npos) << cp;
}

// ---------------------------------------------------------------- item 5

TEST(Quiet, SuccessPrintsNothingAndErrorsStillPrint) {
  RepoWorld w("quiet");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  const std::vector<std::vector<std::string>> commands = {
      {"-q", "backup", "state", "--offline"},
      {"-q", "backup", "config", "--secrets-passphrase-file", w.pass_file()},
      {"-q", "snapshots"},
      {"-q", "verify"},
      {"-q", "verify-state", n.data_dir()},
      {"-q", "create-checkpoint", "--offline", "--output", w.scenario().dir().Join("cp")},
      {"-q", "verify-checkpoint", w.scenario().dir().Join("cp")},
      {"-q", "audit", "verify"},
      {"-q", "validate-config"},
  };
  for (const auto& c : commands) {
    CommandResult r = w.Cli(n, c);
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_EQ(r.err, "") << r;
  }
  // Without a config (verify-state prints its "signatures not checked" warning otherwise).
  CommandResult raw = w.scenario().CliRaw({"-q", "--config", w.scenario().dir().Join("none.yaml"), "--audit-log",
                                           w.scenario().dir().Join("q.log"), "verify-state", n.data_dir()});
  EXPECT_EQ(raw.exit_code, 0) << raw;
  EXPECT_EQ(raw.out + raw.err, "") << raw;

  CommandResult bad = w.Cli(n, {"-q", "verify-state", w.scenario().dir().Join("nope")});
  EXPECT_NE(bad.exit_code, 0) << bad;
  EXPECT_NE(bad.err.find("error:"), std::string::npos) << bad;
}

// ---------------------------------------------------------------- item 6

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `original` (a node config) with logging.audit_log set to `audit_log`.
std::string ConfigWithAuditLog(std::string text, const std::string& audit_log) {
  const std::string from = "audit_log: audit.log";
  size_t pos = text.find(from);
  if (pos == std::string::npos) return text;
  return text.replace(pos, from.size(), "audit_log: " + audit_log);
}

TEST(AuditLogDir, MissingDirectoryIsCreatedWithMode0750) {
  RepoWorld w("audit-dir");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  const std::string dir = n.dir() + "/newlogs";
  ASSERT_OK(WriteFile(n.config_path(), ConfigWithAuditLog(ReadText(n.config_path()), dir + "/audit.log")));
  CommandResult r = w.Cli(n, {"backup", "state", "--offline"});
  ASSERT_EQ(r.exit_code, 0) << r;
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_TRUE(Contains(AuditedOperations(w, dir + "/audit.log"), "backup.state"));
}

TEST(AuditLogDir, UncreatableDirectoryNamesWhatToCreate) {
  RepoWorld w("audit-dir-bad");
  TestNode& n = w.AddNode("node-1");
  ASSERT_OK(w.BulkLoad(n, "", 50));
  ASSERT_OK(w.InitRepo());
  // The parent is missing too (a typo is not turned into a directory tree).
  const std::string original = ReadText(n.config_path());
  const std::string deep = n.dir() + "/no/such/dir";
  ASSERT_OK(WriteFile(n.config_path(), ConfigWithAuditLog(original, deep + "/audit.log")));
  CommandResult r = w.Cli(n, {"backup", "state", "--offline"});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find(deep), std::string::npos) << r;
  EXPECT_NE(r.err.find("install -d -m 0750"), std::string::npos) << r;
  EXPECT_EQ(r.err.find("snapshots"), std::string::npos) << r;
  EXPECT_FALSE(Exists(n.dir() + "/no"));

  // A regular file where the directory belongs.
  const std::string file_dir = n.dir() + "/logfile";
  ASSERT_OK(WriteFile(file_dir, "not a dir"));
  ASSERT_OK(WriteFile(n.config_path(), ConfigWithAuditLog(original, file_dir + "/audit.log")));
  CommandResult f = w.Cli(n, {"backup", "state", "--offline"});
  EXPECT_NE(f.exit_code, 0) << f;
  EXPECT_NE(f.err.find("not a directory"), std::string::npos) << f;
}

}  // namespace
}  // namespace ailee::it
