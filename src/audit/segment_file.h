// The files one audit chain is spread over once it is
// rotated (docs/audit-log.md, "Rotation"), and reading one of them.
//
// A segment of the log "audit.log" is, in its directory:
//   audit.log                    the live file
//   audit.log.N[.gz]             logrotate's numbered rotations (N=1 newest)
//   audit.log-DATE[.gz]          logrotate's dateext rotations
// each optionally followed by "~<hex>", the suffix `logs restore` gives the
// older of two archived files that had the same name. Never the log's
// sidecars (audit.log.lock, audit.log.head) nor temporary files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ailee::audit {

struct SegmentLines {
  std::vector<std::string> complete;  // without '\n'
  uint64_t torn_bytes = 0;            // after the last '\n' (an interrupted append)
};

// Reads a segment under a shared lock; gzip content (by its magic bytes,
// whatever the name) is decompressed. kNotFound when missing; kDataLoss when
// a gzip stream is damaged or cut short.
Result<SegmentLines> ReadSegment(const std::string& path);

// True when `name` is a segment of the log named `log_name` (above).
bool IsSegmentName(const std::string& log_name, const std::string& name);

// Paths of the segments of `log_name` in `dir`, sorted by name.
Result<std::vector<std::string>> SegmentsIn(const std::string& dir, const std::string& log_name);

// Where logrotate's naming puts a segment in time, for files it named (no
// "~" suffix): the live file is newest, then .1, .2, ...; dateext names sort
// by their date. nullopt for other names. Larger is older.
struct NamedAge {
  int scheme = 0;     // 0 live, 1 numbered, 2 dateext: ages compare within a scheme (live is newest of all)
  uint64_t number = 0;  // N, or the date's digits
};
std::optional<NamedAge> NamedAgeOf(const std::string& log_name, const std::string& name);
// True when the naming says `a` was rotated before (is older than) `b`; false when unknown.
bool NamedOlder(const NamedAge& a, const NamedAge& b);

}  // namespace ailee::audit
