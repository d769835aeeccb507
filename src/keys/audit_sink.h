// Where key operations are recorded. The CLI wires this to the project's
// hash-chained audit log (src/audit); until then a JSON-lines file sink.
// Records name who/what/when/which fingerprint, never key material.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::keys {

class KeyAuditSink {
 public:
  virtual ~KeyAuditSink() = default;
  // `result` is the outcome of the operation; `details` must hold no secret.
  virtual Status Record(std::string_view operation, std::string_view signer_id, std::string_view fingerprint,
                        const Status& result, const nlohmann::json& details) = 0;
};

// Appends one JSON object per line (fsync'ed) with time, OS user
// (and SUDO_USER), operation, signer, fingerprint, result and details.
class JsonLinesKeyAuditSink final : public KeyAuditSink {
 public:
  explicit JsonLinesKeyAuditSink(std::string path) : path_(std::move(path)) {}
  Status Record(std::string_view operation, std::string_view signer_id, std::string_view fingerprint,
                const Status& result, const nlohmann::json& details) override;

 private:
  std::string path_;
};

// The OS user performing the operation ("root (sudo by alice)").
std::string CurrentOperator();

}  // namespace ailee::keys
