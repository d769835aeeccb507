// Audit heads recorded in a backup repository, so that `ailee-cli audit
// verify` detects a truncated tail without being told a head.
//
// Every job that writes to a repository records the head of the audit log
// it appended to, after its own line is durable, as the object
//   audit/<log key>/<seq, 20 decimal digits>
// sealed with AES-256-GCM under the repository's data key (associated data
// "ailee-audit-head-v1"), so only a holder of the repository key can make or
// read one and an edited object fails authentication. The log key is the
// SHA-256 of "<host>\0<absolute path of the log>": repositories shared by
// several hosts keep one series per log. Objects are never overwritten: the
// newest head is the one with the highest seq; RecordAuditHead removes the
// older ones of the same log afterwards (best effort: concurrent writers and
// Object Lock may leave some, which NewestAuditHead skips).
//
// Crash safety: a crash leaves the old newest head or the new one (Put is
// atomic). Thread-safe as the ObjectStore is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "base/status.h"
#include "crypto/secure.h"
#include "storage/object_store.h"

namespace ailee::audit {

struct RecordedAuditHead {
  std::string host;  // where the log lives
  std::string path;  // absolute path of the log
  AuditHead head;
  int64_t time_ms = 0;  // when it was recorded
};

// The key naming a log's series: hex SHA-256 of "<host>\0<path>".
std::string AuditLogKey(const std::string& host, const std::string& path);
// `path` made absolute and lexically normal (no symlinks resolved: the log
// may be gone when it is verified).
std::string AbsoluteLogPath(const std::string& path);

// Stores `recorded` (see above), then removes older heads of the same log.
Status RecordAuditHead(storage::ObjectStore& store, const crypto::SecureBytes& data_key,
                       const RecordedAuditHead& recorded);

// The newest head recorded for the log at `host`/`path`, nullopt when none
// is. kDataLoss when the newest object fails authentication (edited, or put
// there by someone without the repository key).
Result<std::optional<RecordedAuditHead>> NewestAuditHead(storage::ObjectStore& store,
                                                         const crypto::SecureBytes& data_key,
                                                         const std::string& host, const std::string& path);

}  // namespace ailee::audit
