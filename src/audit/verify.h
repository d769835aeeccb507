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
#include "audit/segment_file.h"
#include "crypto/asymmetric.h"

namespace ailee::audit {

struct VerifyOptions {
  std::optional<crypto::PublicKey> public_key;  // require and check every signature
  std::optional<AuditHead> expected_head;       // a head recorded earlier
};

// One file of a chain, in chain order.
struct SegmentSummary {
  std::string path;
  uint64_t lines = 0;       // complete lines
  uint64_t first_seq = 0;   // 0 when it has no complete line
  uint64_t last_seq = 0;
  uint64_t torn_tail_bytes = 0;
  bool duplicate = false;   // every line also in an earlier segment (an archived copy)
};

struct VerifyReport {
  bool ok = true;
  uint64_t lines = 0;          // distinct complete lines verified
  AuditHead head;              // of the last complete line
  uint64_t signed_lines = 0;
  uint64_t first_bad_line = 0; // 1-based, in bad_file; 0 when ok
  std::string bad_file;        // the file holding first_bad_line
  std::string problem;         // why first_bad_line is bad
  uint64_t torn_tail_bytes = 0;  // of the last segment
  uint64_t first_seq = 0;      // 1 for a whole log; more when it starts with an "audit.continue" line
  std::vector<SegmentSummary> segments;
};

// kNotFound when the file is missing, an I/O error when unreadable; damage is
// reported in the VerifyReport, not as an error. A file whose first line is
// an "audit.continue" record (a live file after a rotation) verifies from
// there: the line it continues is in an earlier segment, not checked here.
Result<VerifyReport> VerifyAuditLog(const std::string& path, const VerifyOptions& options = {});

// One chain spread over several files (docs/audit-log.md, "Rotation"): the
// live file, its rotations (plain or gzip) and copies restored from the
// repository, in any order and with duplicates. Files are put in chain order
// by their first seq; a segment (or part of one) that repeats lines already
// seen must repeat them exactly and is skipped. Besides everything
// VerifyAuditLog finds inside a file, names: a gap between two files (a
// segment missing), a first line that does not chain to the previous file's
// last line (that line altered, or not its successor), two versions of one
// seq, and, given the log's file name (`log_name`, "audit.log"), files whose
// logrotate names (.1 newer than .2) contradict their order in the chain
// (segments swapped or renamed).
// Empty files are listed and skipped. The expected head is checked when its
// seq is in the chain or after it.
Result<VerifyReport> VerifyAuditSegments(const std::vector<std::string>& paths, const VerifyOptions& options = {},
                                         const std::string& log_name = {});

struct AuditFilter {
  std::optional<int64_t> since;  // unix seconds, inclusive
  std::optional<int64_t> until;  // unix seconds, exclusive
  std::string operation;         // exact match, or a prefix ending in '.' ("key." matches "key.backup")
};

// Records matching `filter`, in file order. kDataLoss naming the line when a
// complete line is not a record (use VerifyAuditLog to see the whole damage).
Result<std::vector<AuditRecord>> ReadAuditLog(const std::string& path, const AuditFilter& filter = {});

}  // namespace ailee::audit
