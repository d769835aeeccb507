// Several processes appending at once, and signed audit lines.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "audit/audit_log.h"
#include "audit/verify.h"
#include "base/fs.h"
#include "crypto/asymmetric.h"

namespace ailee::audit {
namespace {

class AuditProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-audit-proc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(AuditProcessTest, ConcurrentProcessesLeaveOneValidChain) {
  constexpr int kProcs = 4;
  constexpr int kAppends = 200;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Each child opens its own AuditLog, as separate ailee-cli runs would.
      auto log = AuditLog::Open(path_);
      if (!log.ok()) ::_exit(2);
      for (int i = 0; i < kAppends; ++i) {
        AuditEvent e;
        e.operation = "backup";
        e.args = {{"proc", p}, {"i", i}};
        if (!(*log)->Append(e).ok()) ::_exit(3);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto r = VerifyAuditLog(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << "line " << r->first_bad_line << ": " << r->problem;
  EXPECT_EQ(r->lines, static_cast<uint64_t>(kProcs * kAppends));
  EXPECT_EQ(r->head.seq, static_cast<uint64_t>(kProcs * kAppends));

  auto recs = ReadAuditLog(path_);
  ASSERT_TRUE(recs.ok());
  std::map<int64_t, int> per_pid;
  std::map<int, int> last_i;  // per proc, appends stay in program order
  for (const auto& rec : *recs) {
    ++per_pid[rec.json["pid"].get<int64_t>()];
    int p = rec.json["args"]["proc"].get<int>();
    int i = rec.json["args"]["i"].get<int>();
    if (last_i.count(p)) {
      EXPECT_EQ(i, last_i[p] + 1);
    }
    last_i[p] = i;
  }
  EXPECT_EQ(per_pid.size(), static_cast<size_t>(kProcs));
  for (const auto& [pid, n] : per_pid) EXPECT_EQ(n, kAppends) << "pid " << pid;
}

TEST_F(AuditProcessTest, SignedLinesVerifyAndForgeriesAreCaught) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  ASSERT_TRUE(other.ok());
  AuditLogOptions opts;
  opts.signer = std::make_shared<crypto::PrivateKey>(*key);
  auto log = AuditLog::Open(path_, opts);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 4; ++i) {
    AuditEvent e;
    e.operation = "key.backup";
    e.message = "op " + std::to_string(i);
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  auto r = VerifyAuditLog(path_, {.public_key = key->public_key(), .expected_head = std::nullopt});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->signed_lines, 4u);

  r = VerifyAuditLog(path_, {.public_key = other->public_key(), .expected_head = std::nullopt});
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_line, 1u);

  // Someone without the key edits line 2 and rebuilds the chain after it:
  // the hashes agree again, only the signature gives it away.
  auto data = fs::ReadFile(path_);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < data->size();) {
    size_t nl = data->find('\n', pos);
    lines.push_back(data->substr(pos, nl - pos));
    pos = nl + 1;
  }
  lines[1].replace(lines[1].find("op 1"), 4, "op X");
  for (size_t i = 2; i < lines.size(); ++i) {
    Json j = Json::parse(lines[i]);
    j["prev"] = LineHash(lines[i - 1]);
    lines[i] = j.dump();
  }
  std::string rebuilt;
  for (const auto& l : lines) rebuilt += l + "\n";
  ASSERT_TRUE(fs::WriteFileAtomic(path_, rebuilt).ok());
  r = VerifyAuditLog(path_);
  EXPECT_TRUE(r->ok) << "without the key the rebuilt chain looks fine: " << r->problem;
  r = VerifyAuditLog(path_, {.public_key = key->public_key(), .expected_head = std::nullopt});
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_line, 2u) << r->problem;
  EXPECT_NE(r->problem.find("signature"), std::string::npos);

  // An unsigned line appended by a process without the key.
  ASSERT_TRUE(fs::WriteFileAtomic(path_, *data).ok());
  auto unsigned_log = AuditLog::Open(path_);
  AuditEvent e;
  e.operation = "verify";
  ASSERT_TRUE((*unsigned_log)->Append(e).ok());
  r = VerifyAuditLog(path_, {.public_key = key->public_key(), .expected_head = std::nullopt});
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_line, 5u);
  EXPECT_NE(r->problem.find("not signed"), std::string::npos);
}

}  // namespace
}  // namespace ailee::audit
