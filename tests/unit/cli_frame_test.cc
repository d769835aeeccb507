// The CLI's frame: a run loads the config and opens the audit log at most
// once (Session), and every command ends the same way (EndCommand): the
// outcome audited once, one JSON document with --json, nothing on stdout
// with -q, a report never shown as a success when auditing failed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <sstream>

#include "audit/scoped_op.h"
#include "audit/verify.h"
#include "base/fs.h"
#include "base/hint.h"
#include "cli/ending.h"
#include "cli/session.h"

namespace ailee::cli {
namespace {

class CliFrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-cli-frame-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    old_cout_ = std::cout.rdbuf(captured_.rdbuf());
    (void)TakeResult();
  }
  void TearDown() override {
    std::cout.rdbuf(old_cout_);
    (void)fs::RemoveAll(dir_);
  }

  // A loader that counts its calls and serves `result`.
  Session::ConfigLoader CountingLoader(Result<config::NodeConfig> result) {
    return [this, result](const std::string& path) {
      ++config_loads_;
      loaded_path_ = path;
      return result;
    };
  }
  Session::AuditLogOpener CountingOpener() {
    return [this](const std::string& path) {
      ++audit_opens_;
      opened_path_ = path;
      return OpenAuditLogAt(path);
    };
  }
  size_t AuditLines(const std::string& path) {
    auto records = audit::ReadAuditLog(path);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? records->size() : 0;
  }

  std::string dir_;
  std::ostringstream captured_;
  std::streambuf* old_cout_ = nullptr;
  int config_loads_ = 0;
  int audit_opens_ = 0;
  std::string loaded_path_, opened_path_;
};

config::NodeConfig ConfigWithAuditLog(const std::string& path) {
  config::NodeConfig cfg;
  cfg.logging.audit_log = path;
  return cfg;
}

TEST_F(CliFrameTest, ConfigIsLoadedOnceOnFirstUse) {
  Session s(CountingLoader(ConfigWithAuditLog(dir_ + "/audit.log")), CountingOpener());
  s.global().config_path = dir_ + "/config.yaml";
  EXPECT_EQ(config_loads_, 0);  // nothing is read before a command asks
  ASSERT_TRUE(s.config().ok());
  ASSERT_NE(s.config_if_loaded(), nullptr);
  ASSERT_TRUE(s.RequireConfig().ok());
  std::string why;
  (void)s.FederationIfConfigured(&why);
  ASSERT_TRUE(s.audit_log().ok());  // the audit log's path comes from the same config
  EXPECT_EQ(config_loads_, 1);
  EXPECT_EQ(loaded_path_, dir_ + "/config.yaml");
  EXPECT_EQ(opened_path_, dir_ + "/audit.log");
}

TEST_F(CliFrameTest, ConfigErrorIsKeptNotRetried) {
  Session s(CountingLoader(NotFound("no such file")), CountingOpener());
  s.global().config_path = dir_ + "/missing.yaml";
  EXPECT_EQ(s.config().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s.config_if_loaded(), nullptr);
  auto required = s.RequireConfig();
  ASSERT_FALSE(required.ok());
  EXPECT_NE(required.status().message().find("config " + dir_ + "/missing.yaml"), std::string::npos)
      << required.status().message();
  std::string why;
  EXPECT_FALSE(s.FederationIfConfigured(&why).has_value());
  EXPECT_NE(why.find("no such file"), std::string::npos) << why;
  EXPECT_EQ(config_loads_, 1);
}

TEST_F(CliFrameTest, AuditLogIsOpenedOnce) {
  Session s(CountingLoader(NotFound("none")), CountingOpener());
  s.global().audit_log = dir_ + "/global.log";
  auto first = s.audit_log();
  auto second = s.audit_log();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(audit_opens_, 1);
  EXPECT_EQ(opened_path_, dir_ + "/global.log");
}

TEST_F(CliFrameTest, SubcommandAuditLogOptionWinsOverGlobalAndConfig) {
  Session s(CountingLoader(ConfigWithAuditLog(dir_ + "/config.log")), CountingOpener());
  s.global().audit_log = dir_ + "/global.log";
  ASSERT_TRUE(s.audit_log(dir_ + "/option.log").ok());
  EXPECT_EQ(opened_path_, dir_ + "/option.log");
  EXPECT_EQ(AuditLogPath(s.global(), nullptr, ""), dir_ + "/global.log");
  GlobalOptions none;
  EXPECT_EQ(AuditLogPath(none, nullptr, ""), std::string(config::kDefaultAuditLog));
}

// An operator whose audit log cannot be written: the error is kept (every
// later ask fails the same way), never a run without an audit log.
TEST_F(CliFrameTest, UnopenableAuditLogStaysAnError) {
  ASSERT_TRUE(fs::WriteFileExclusive(dir_ + "/file", "x").ok());
  Session s(CountingLoader(NotFound("none")), CountingOpener());
  s.global().audit_log = dir_ + "/file/audit.log";  // under a regular file
  auto first = s.audit_log();
  auto second = s.audit_log();
  EXPECT_FALSE(first.ok());
  EXPECT_FALSE(second.ok());
  EXPECT_NE(first.status().message().find("operations are not run unaudited"), std::string::npos)
      << first.status().message();
  EXPECT_EQ(audit_opens_, 1);
}

// Another user than the log's owner (an admin, not the node's user): a
// permission error (exit 5) naming the owner and `sudo -u`, not "Success".
TEST_F(CliFrameTest, AuditLogOfAnotherUserNamesTheOwnerAndSudo) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (to be another user than the log's owner)";
  const std::string log_path = dir_ + "/audit.log";
  ASSERT_TRUE(OpenAuditLogAt(log_path).ok());  // root's, 0640
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    constexpr uid_t kNobody = 65534;
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(10);
    auto log = OpenAuditLogAt(log_path);
    if (log.ok()) ::_exit(11);
    if (log.status().code() != StatusCode::kPermissionDenied) ::_exit(12);
    if (HintOf(log.status()).find("sudo -u root") == std::string::npos) ::_exit(13);
    if (log.status().message().find("owned by root") == std::string::npos) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setuid, 11 opened, 12 not kPermissionDenied, 13 no sudo -u, 14 no owner";
}

TEST_F(CliFrameTest, JsonReportIsPrintedExactlyOnceAndAudited) {
  Session s;
  s.global().json = true;
  const std::string log_path = dir_ + "/audit.log";
  auto log = OpenAuditLogAt(log_path);
  ASSERT_TRUE(log.ok());
  {
    audit::ScopedAuditOp op(log->get(), "test.op");
    Result<int> r = 42;
    EndCommand(s, r, op, [](int v) { return nlohmann::json{{"ok", true}, {"value", v}}; },
               [](int v) { return "value " + std::to_string(v); });
  }
  EXPECT_TRUE(TakeResult().ok());
  auto doc = nlohmann::json::parse(captured_.str());  // throws unless exactly one document
  EXPECT_EQ(doc["value"], 42);
  EXPECT_EQ(captured_.str().find("value 42"), std::string::npos);  // no text with --json
  EXPECT_EQ(AuditLines(log_path), 1u);  // Finish once, not again from the destructor
}

TEST_F(CliFrameTest, QuietPrintsNothingOnSuccessAndTextOtherwise) {
  Session s;
  s.global().quiet = true;
  EndCommand(s, Status::Ok(), {}, [] { return nlohmann::json{{"ok", true}}; }, [] { return "done"; });
  EXPECT_TRUE(TakeResult().ok());
  EXPECT_EQ(captured_.str(), "");
  s.global().quiet = false;
  EndCommand(s, Status::Ok(), {}, [] { return nlohmann::json{{"ok", true}}; }, [] { return Lines({"a", "", "b"}); });
  EXPECT_EQ(captured_.str(), "a\n\nb\n");
}

TEST_F(CliFrameTest, FailedJobShowsNoReportAndLeavesTheErrorToMain) {
  Session s;
  s.global().json = true;
  Result<int> r = NotFound("no such snapshot");
  EndCommand(s, r, {}, [](int) { return nlohmann::json{{"ok", true}}; }, [](int) { return "ok"; });
  EXPECT_EQ(TakeResult().code(), StatusCode::kNotFound);
  EXPECT_EQ(captured_.str(), "");  // main prints the error document
}

TEST_F(CliFrameTest, VerdictFailureShowsTheReportThatExplainsIt) {
  Session s;
  s.global().json = true;
  EndWithVerdict(s, DataLoss("2 problems"), {}, [] { return nlohmann::json{{"ok", false}, {"problems", 2}}; },
                 [] { return "FAILED"; });
  EXPECT_EQ(TakeResult().code(), StatusCode::kDataLoss);
  auto doc = nlohmann::json::parse(captured_.str());
  EXPECT_EQ(doc["ok"], false);
  EXPECT_TRUE(JsonWasPrinted());  // main adds no second (error) document
}

// An ok job whose audit line cannot be written is a failure, and its
// success report must not be shown (a script would read "ok": true).
TEST_F(CliFrameTest, AuditFailureHidesTheSuccessReport) {
  Session s;
  AuditRecord failing([](const Status& outcome) {
    return outcome.ok() ? Status(StatusCode::kPermissionDenied, "audit log not writable") : outcome;
  });
  EndCommand(s, Status::Ok(), failing, [] { return nlohmann::json{{"ok", true}}; }, [] { return "created"; });
  EXPECT_EQ(TakeResult().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(captured_.str(), "");
}

}  // namespace
}  // namespace ailee::cli
