// The audit log line format (docs/audit-log.md), version 1.
//
// One JSON object per line, keys in this order:
//   {"v":1,"seq":N,"time":"2026-11-26T13:32:11.123Z","host":..,"user":..,
//    "pid":..,"operation":..,"args":{..},"result":"ok"|<code>,"message":..,
//    "duration_ms":..,"touched":[..],"prev":<64 hex>,"sig":<hex>?}
// `prev` is the hex SHA-256 of the previous line's bytes (without its '\n'),
// 64 zeros on the first line; `seq` counts lines from 1. `sig`, when present,
// is a signature over the line as it reads with the "sig" member removed.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/asymmetric.h"

namespace ailee::audit {

using Json = nlohmann::ordered_json;

inline constexpr int kFormatVersion = 1;
inline const std::string kZeroHash(64, '0');
// The operation of the first line of a live file that continues the chain
// of a rotated one: its `prev` and `seq` follow that file's last line.
inline constexpr std::string_view kContinueOperation = "audit.continue";

// What an operation reports. `args` must hold no secrets; values of keys
// named like secrets (see RedactSecrets) are replaced anyway.
struct AuditEvent {
  std::string operation;        // "backup", "restore", "verify", "prune", "key.backup", "config.restore", ...
  Json args = Json::object();
  std::string result = "ok";    // "ok" or ResultName(status)
  std::string message;
  int64_t duration_ms = 0;
  std::vector<std::string> touched;  // snapshot ids, object hashes, file names
};

// "ok", or the status code name with '_' for spaces ("data_loss").
std::string ResultName(const Status& status);

// Replaces the values of object members whose key is, or ends with,
// passphrase, password, secret, pin, token or private_key by "[redacted]",
// recursively. A last line of defence, not a licence to pass secrets.
Json RedactSecrets(const Json& args);

// Who and where: filled once per process.
struct Origin {
  std::string host;
  std::string user;
  int64_t pid = 0;
  static Origin Current();
};

// Renders one line (without '\n'), signed when `signer` is set.
Result<std::string> RenderLine(const AuditEvent& event, uint64_t seq, int64_t time_millis,
                               const Origin& origin, const std::string& prev_hex,
                               const crypto::PrivateKey* signer);

// Hex SHA-256 of a line's bytes (without '\n'): the next line's `prev`.
std::string LineHash(std::string_view line);

// A line read back. `json` is the whole object.
struct AuditRecord {
  uint64_t line_no = 0;  // 1-based position in the file
  uint64_t seq = 0;
  std::string time;      // as written
  int64_t time_unix = 0; // seconds
  std::string operation;
  std::string result;
  std::string prev;
  std::optional<std::string> sig_hex;
  Json json;
};

// Parses a line; kDataLoss with the reason when it is not a v1 record.
Result<AuditRecord> ParseLine(std::string_view line, uint64_t line_no);

// True when `record` carries a signature by `key` over its unsigned form.
bool VerifyLineSignature(const AuditRecord& record, const crypto::PublicKey& key);

// "2026-11-26T13:32:11.123Z".
std::string FormatMillisUtc(int64_t millis);

}  // namespace ailee::audit
