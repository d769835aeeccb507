// Where key operations are recorded. The CLI wires this to the project's
// hash-chained audit log (audit/audit_log.h); the keys layer itself does not
// depend on it. Records name what, which signer and fingerprint, the result
// and non-secret details, and how long the operation took; the sink adds who
// and when. Never key material.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace ailee::keys {

class KeyAuditSink {
 public:
  virtual ~KeyAuditSink() = default;
  // `result` is the outcome of the operation; `details` must hold no secret;
  // `duration_ms` is the operation's wall time on a monotonic clock.
  // A failed Record means the operation is unaudited: callers report it.
  virtual Status Record(std::string_view operation, std::string_view signer_id, std::string_view fingerprint,
                        const Status& result, const nlohmann::json& details, int64_t duration_ms) = 0;
};

}  // namespace ailee::keys
