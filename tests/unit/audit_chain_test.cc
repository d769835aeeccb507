// The audit log's hash chain: appends verify, and each kind of tampering is
// caught at the line where it happened.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "audit/audit_log.h"
#include "audit/scoped_op.h"
#include "audit/verify.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

constexpr int64_t kStart = 1767225600000;  // 2026-01-01T00:00:00Z

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-audit-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  std::unique_ptr<AuditLog> OpenLog(AuditLogOptions options = {}) {
    if (options.clock == &Clock::Real()) options.clock = &clock_;
    auto log = AuditLog::Open(path_, std::move(options));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return std::move(log).value();
  }

  // Appends n events "op 1".."op n", one minute apart; returns the last head.
  AuditHead AppendN(AuditLog& log, int n) {
    AuditHead head;
    for (int i = 1; i <= n; ++i) {
      AuditEvent e;
      e.operation = "backup";
      e.message = "op " + std::to_string(i);
      e.touched = {"snap-" + std::to_string(i)};
      auto h = log.Append(e);
      EXPECT_TRUE(h.ok()) << h.status().ToString();
      head = *h;
      clock_.Advance(60000);
    }
    return head;
  }

  std::vector<std::string> Lines() {
    auto data = fs::ReadFile(path_);
    EXPECT_TRUE(data.ok());
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < data->size()) {
      size_t nl = data->find('\n', pos);
      out.push_back(data->substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  }
  void WriteLines(const std::vector<std::string>& lines) {
    std::string data;
    for (const auto& l : lines) data += l + "\n";
    ASSERT_TRUE(fs::WriteFileAtomic(path_, data).ok());
  }

  VerifyReport Verify(const VerifyOptions& options = {}) {
    auto r = VerifyAuditLog(path_, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  FakeClock clock_{kStart};
  std::string dir_;
  std::string path_;
};

TEST_F(AuditChainTest, AppendsFormAVerifiableChain) {
  auto log = OpenLog();
  EXPECT_EQ(*log->Head(), AuditHead{});
  AuditHead head = AppendN(*log, 5);
  EXPECT_EQ(head.seq, 5u);
  EXPECT_EQ(*log->Head(), head);

  auto lines = Lines();
  ASSERT_EQ(lines.size(), 5u);
  auto first = ParseLine(lines[0], 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->prev, kZeroHash);
  EXPECT_EQ(first->time, "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(first->json["pid"].get<int64_t>(), ::getpid());
  EXPECT_FALSE(first->json["host"].get<std::string>().empty());
  EXPECT_FALSE(first->json["user"].get<std::string>().empty());
  EXPECT_EQ(first->json["touched"][0], "snap-1");
  EXPECT_EQ(ParseLine(lines[1], 2)->prev, LineHash(lines[0]));

  VerifyReport r = Verify({.public_key = std::nullopt, .expected_head = head});
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 5u);
  EXPECT_EQ(r.head, head);
  EXPECT_EQ(r.first_bad_line, 0u);
}

TEST_F(AuditChainTest, EditedLineIsNamed) {
  auto log = OpenLog();
  AppendN(*log, 5);
  auto lines = Lines();
  lines[2].replace(lines[2].find("op 3"), 4, "op X");
  WriteLines(lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u) << r.problem;
  EXPECT_NE(r.problem.find("altered"), std::string::npos) << r.problem;
}

TEST_F(AuditChainTest, EditedLastLineIsCaughtByTheRecordedHead) {
  auto log = OpenLog();
  AuditHead head = AppendN(*log, 4);
  auto lines = Lines();
  lines[3].replace(lines[3].find("op 4"), 4, "op X");
  WriteLines(lines);
  EXPECT_TRUE(Verify().ok);  // nothing after it to chain to
  VerifyReport r = Verify({.public_key = std::nullopt, .expected_head = head});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 4u) << r.problem;
}

TEST_F(AuditChainTest, DeletedLineIsNamed) {
  auto log = OpenLog();
  AppendN(*log, 5);
  auto lines = Lines();
  lines.erase(lines.begin() + 2);
  WriteLines(lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u) << r.problem;
  EXPECT_NE(r.problem.find("deleted"), std::string::npos) << r.problem;

  lines.erase(lines.begin());  // and the first line
  WriteLines(lines);
  EXPECT_EQ(Verify().first_bad_line, 1u);
}

TEST_F(AuditChainTest, InsertedLinesAreNamed) {
  auto log = OpenLog();
  AppendN(*log, 5);
  auto lines = Lines();
  // A well-formed forgery: right seq, chained to the line before it.
  AuditEvent forged;
  forged.operation = "restore";
  auto line = RenderLine(forged, 3, kStart, Origin::Current(), LineHash(lines[1]), nullptr);
  ASSERT_TRUE(line.ok());
  auto tampered = lines;
  tampered.insert(tampered.begin() + 2, *line);
  WriteLines(tampered);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u) << r.problem;
  EXPECT_NE(r.problem.find("inserted"), std::string::npos) << r.problem;

  // A replayed copy of an old line.
  tampered = lines;
  tampered.insert(tampered.begin() + 3, lines[0]);
  WriteLines(tampered);
  EXPECT_EQ(Verify().first_bad_line, 4u);
}

TEST_F(AuditChainTest, SwappedLinesAreNamed) {
  auto log = OpenLog();
  AppendN(*log, 5);
  auto lines = Lines();
  std::swap(lines[1], lines[2]);
  WriteLines(lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 2u) << r.problem;
}

TEST_F(AuditChainTest, TruncatedTailIsCaughtByTheRecordedHead) {
  auto log = OpenLog();
  AuditHead head = AppendN(*log, 6);
  auto lines = Lines();
  lines.resize(4);
  WriteLines(lines);
  EXPECT_TRUE(Verify().ok);  // a shorter chain is still a chain...
  VerifyReport r = Verify({.public_key = std::nullopt, .expected_head = head});
  EXPECT_FALSE(r.ok);  // ...but not the one the snapshot recorded
  EXPECT_EQ(r.first_bad_line, 5u) << r.problem;
  EXPECT_NE(r.problem.find("truncated"), std::string::npos) << r.problem;
}

TEST_F(AuditChainTest, TornLastLineIsRemovedAndRecorded) {
  auto log = OpenLog();
  AppendN(*log, 3);
  auto before = fs::ReadFile(path_);
  ASSERT_TRUE(before.ok());
  const std::string torn = R"({"v":1,"seq":4,"time":"2026-01-01T00:03:00.000Z","host":"h","us)";
  ASSERT_TRUE(fs::WriteFileAtomic(path_, *before + torn).ok());

  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 3u);
  EXPECT_EQ(r.torn_tail_bytes, torn.size());
  EXPECT_EQ(log->Head()->seq, 3u);

  AuditEvent e;
  e.operation = "verify";
  auto head = log->Append(e);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->seq, 5u);
  r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 5u);
  EXPECT_EQ(r.torn_tail_bytes, 0u);
  auto recs = ReadAuditLog(path_);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ((*recs)[3].operation, "audit.recover");
  EXPECT_EQ((*recs)[3].json["args"]["truncated_bytes"].get<size_t>(), torn.size());
  EXPECT_EQ((*recs)[4].operation, "verify");
}

TEST_F(AuditChainTest, AppendRefusesToExtendADamagedLastLine) {
  auto log = OpenLog();
  AppendN(*log, 2);
  auto lines = Lines();
  lines[1] = "garbage";
  WriteLines(lines);
  auto before = fs::ReadFile(path_);
  AuditEvent e;
  e.operation = "backup";
  EXPECT_EQ(log->Append(e).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(*fs::ReadFile(path_), *before);
  EXPECT_EQ(Verify().first_bad_line, 2u);
}

TEST_F(AuditChainTest, FiltersByTimeAndOperation) {
  auto log = OpenLog();
  const char* ops[] = {"backup", "restore", "key.backup", "backup", "prune", "key.restore"};
  for (const char* op : ops) {
    AuditEvent e;
    e.operation = op;
    ASSERT_TRUE(log->Append(e).ok());
    clock_.Advance(24 * 3600 * 1000);  // one per day from 2026-01-01
  }
  int64_t jan3 = 0, jan5 = 0;
  ASSERT_TRUE(ParseUtc("2026-01-03", &jan3));
  ASSERT_TRUE(ParseUtc("2026-01-05", &jan5));
  auto recs = ReadAuditLog(path_, {.since = jan3, .until = jan5, .operation = ""});
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].operation, "key.backup");
  EXPECT_EQ((*recs)[1].seq, 4u);

  recs = ReadAuditLog(path_, {.since = std::nullopt, .until = std::nullopt, .operation = "backup"});
  ASSERT_EQ(recs->size(), 2u);
  recs = ReadAuditLog(path_, {.since = jan3, .until = std::nullopt, .operation = "key."});
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[1].operation, "key.restore");
}

TEST_F(AuditChainTest, ScopedOpRecordsResultDurationAndRedactsSecrets) {
  auto log = OpenLog();
  {
    ScopedAuditOp op(log.get(), "restore", {{"snapshot", "ab12"}, {"passphrase", "hunter2"},
                                            {"s3", {{"secret", "k"}, {"bucket", "b"}}}});
    op.Touch("ab12");
    Status st = op.Finish(NotFound("snapshot ab12 not found"));
    EXPECT_EQ(st.code(), StatusCode::kNotFound);
  }
  { ScopedAuditOp abandoned(log.get(), "prune"); }
  { ScopedAuditOp off(nullptr, "prune"); }

  auto data = fs::ReadFile(path_);
  EXPECT_EQ(data->find("hunter2"), std::string::npos);
  auto recs = ReadAuditLog(path_);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  const Json& j = (*recs)[0].json;
  EXPECT_EQ(j["result"], "not_found");
  EXPECT_EQ(j["message"], "snapshot ab12 not found");
  EXPECT_EQ(j["args"]["passphrase"], "[redacted]");
  EXPECT_EQ(j["args"]["s3"]["secret"], "[redacted]");
  EXPECT_EQ(j["args"]["s3"]["bucket"], "b");
  EXPECT_EQ(j["touched"][0], "ab12");
  EXPECT_GE(j["duration_ms"].get<int64_t>(), 0);
  EXPECT_EQ((*recs)[1].result, "aborted");
}

TEST_F(AuditChainTest, MissingAndEmptyLogs) {
  EXPECT_EQ(VerifyAuditLog(path_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AuditLog::Open(dir_ + "/no/such/dir/audit.log").status().code(), StatusCode::kNotFound);
  auto log = OpenLog();
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.lines, 0u);
  EXPECT_EQ(r.head.hash, kZeroHash);
}

}  // namespace
}  // namespace ailee::audit
