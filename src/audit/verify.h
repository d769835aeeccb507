// Reading and checking an audit log (format: audit/record.h).
//
// VerifyAuditLog walks the chain once and names the first bad line:
//   - a line that is not a v1 record: that line;
//   - seq jumps forward (lines deleted): the line after the gap;
//   - seq goes back or repeats (reordered, duplicated): that line;
//   - a line whose `prev` matches the line two back: the line in between was
//     inserted;
//   - otherwise a `prev` that does not match the line before: that line before
//     was altered;
//   - a signature missing or wrong (when a public key is given): that line;
//   - with an expected head (from a repository snapshot): a log that ends
//     before it (tail truncated) names the first missing line, a different
//     hash at the head's seq names that line.
// A torn last line (no '\n', an append that crashed) is not damage: it was
// never acknowledged and the next append removes it. It is reported in
// `torn_tail_bytes` and does not make the report fail.
// Both functions take a shared lock, so they see whole appends only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/record.h"
#include "crypto/asymmetric.h"

namespace ailee::audit {

struct VerifyOptions {
  std::optional<crypto::PublicKey> public_key;  // require and check every signature
  std::optional<AuditHead> expected_head;       // a head recorded earlier
};

struct VerifyReport {
  bool ok = true;
  uint64_t lines = 0;          // complete lines read
  AuditHead head;              // of the last complete line
  uint64_t signed_lines = 0;
  uint64_t first_bad_line = 0; // 1-based; 0 when ok
  std::string problem;         // why first_bad_line is bad
  uint64_t torn_tail_bytes = 0;
};

// kNotFound when the file is missing, an I/O error when unreadable; damage is
// reported in the VerifyReport, not as an error.
Result<VerifyReport> VerifyAuditLog(const std::string& path, const VerifyOptions& options = {});

struct AuditFilter {
  std::optional<int64_t> since;  // unix seconds, inclusive
  std::optional<int64_t> until;  // unix seconds, exclusive
  std::string operation;         // exact match, or a prefix ending in '.' ("key." matches "key.backup")
};

// Records matching `filter`, in file order. kDataLoss naming the line when a
// complete line is not a record (use VerifyAuditLog to see the whole damage).
Result<std::vector<AuditRecord>> ReadAuditLog(const std::string& path, const AuditFilter& filter = {});

}  // namespace ailee::audit
