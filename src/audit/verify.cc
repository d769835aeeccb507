#include "audit/verify.h"

#include <fcntl.h>
#include <sys/file.h>

#include "audit/log_file.h"

namespace ailee::audit {
namespace {

struct Lines {
  std::vector<std::string> complete;  // without '\n'
  uint64_t torn_bytes = 0;
};

Result<Lines> ReadLines(const std::string& path) {
  ASSIGN_OR_RETURN(LockedFile f, LockedFile::Open(path, O_RDONLY, 0, LOCK_SH));
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  ASSIGN_OR_RETURN(std::string data, f.ReadRange(0, size));
  Lines out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) {
      out.torn_bytes = data.size() - pos;
      break;
    }
    out.complete.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

VerifyReport Fail(VerifyReport r, uint64_t line, std::string problem) {
  r.ok = false;
  r.first_bad_line = line;
  r.problem = std::move(problem);
  return r;
}

}  // namespace

Result<VerifyReport> VerifyAuditLog(const std::string& path, const VerifyOptions& options) {
  ASSIGN_OR_RETURN(Lines lines, ReadLines(path));
  VerifyReport report;
  report.torn_tail_bytes = lines.torn_bytes;
  std::vector<std::string> hashes;  // hashes[i] = hash of line i+1
  hashes.reserve(lines.complete.size());
  uint64_t prev_seq = 0;
  for (size_t i = 0; i < lines.complete.size(); ++i) {
    const uint64_t n = i + 1;
    const std::string& line = lines.complete[i];
    auto rec = ParseLine(line, n);
    if (!rec.ok()) return Fail(report, n, "line " + std::to_string(n) + " is not an audit record: " +
                                              rec.status().message());
    const std::string expected_prev = i == 0 ? kZeroHash : hashes[i - 1];
    if (rec->prev != expected_prev && i >= 1) {
      const std::string two_back = i == 1 ? kZeroHash : hashes[i - 2];
      if (rec->prev == two_back) {
        return Fail(report, n - 1, "line " + std::to_string(n - 1) + " was inserted: line " + std::to_string(n) +
                                       " chains to line " + std::to_string(n - 2) + " directly");
      }
    }
    if (rec->seq != prev_seq + 1) {
      std::string what = rec->seq > prev_seq + 1 ? "line(s) deleted before it" : "lines reordered or duplicated";
      return Fail(report, n, "line " + std::to_string(n) + " has seq " + std::to_string(rec->seq) +
                                 ", expected " + std::to_string(prev_seq + 1) + " (" + what + ")");
    }
    if (rec->prev != expected_prev) {
      if (i == 0) return Fail(report, 1, "line 1 has prev " + rec->prev + ", expected 64 zeros");
      return Fail(report, n - 1, "line " + std::to_string(n - 1) + " was altered: its hash " + expected_prev +
                                     " differs from the prev recorded in line " + std::to_string(n));
    }
    if (options.public_key) {
      if (!rec->sig_hex) return Fail(report, n, "line " + std::to_string(n) + " is not signed");
      if (!VerifyLineSignature(*rec, *options.public_key)) {
        return Fail(report, n, "line " + std::to_string(n) + " has an invalid signature (forged or altered)");
      }
    }
    if (rec->sig_hex) ++report.signed_lines;
    hashes.push_back(LineHash(line));
    prev_seq = rec->seq;
    report.lines = n;
    report.head = {rec->seq, hashes.back()};
  }
  if (options.expected_head && options.expected_head->seq > 0) {
    const AuditHead& want = *options.expected_head;
    if (want.seq > report.lines) {
      return Fail(report, report.lines + 1,
                  "the log ends at line " + std::to_string(report.lines) + " but the recorded head is line " +
                      std::to_string(want.seq) + " (" + want.hash + "): the tail was truncated");
    }
    if (hashes[want.seq - 1] != want.hash) {
      return Fail(report, want.seq, "line " + std::to_string(want.seq) + " has hash " + hashes[want.seq - 1] +
                                        ", but the recorded head says " + want.hash);
    }
  }
  return report;
}

Result<std::vector<AuditRecord>> ReadAuditLog(const std::string& path, const AuditFilter& filter) {
  ASSIGN_OR_RETURN(Lines lines, ReadLines(path));
  std::vector<AuditRecord> out;
  for (size_t i = 0; i < lines.complete.size(); ++i) {
    auto rec = ParseLine(lines.complete[i], i + 1);
    if (!rec.ok()) {
      return rec.status().WithContext("audit log " + path + " line " + std::to_string(i + 1));
    }
    if (filter.since && rec->time_unix < *filter.since) continue;
    if (filter.until && rec->time_unix >= *filter.until) continue;
    if (!filter.operation.empty()) {
      const std::string& f = filter.operation;
      bool match = f.back() == '.' ? rec->operation.rfind(f, 0) == 0 : rec->operation == f;
      if (!match) continue;
    }
    out.push_back(std::move(rec).value());
  }
  return out;
}

}  // namespace ailee::audit
