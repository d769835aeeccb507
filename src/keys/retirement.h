// Retired signer keys: kept, marked, never signing again.
//
// After a federation rotation the old signer key is not deleted: its backups
// and its signing fence are needed to verify and explain history. Instead a
// small retired marker is written beside each of them:
//   <fence>.retired            beside the key's signing fence (signing_fence.h),
//                              also when the key never signed (no fence yet)
//   <dir>/<id>.key.retired     beside each backup copy (backup.h)
// Both hold the same RetiredRecord (JSON, no secret, 0644). They are written
// with link(2) (fs::WriteFileExclusive): never replaced, so the first
// retirement's reason and time stay; retiring again is a no-op.
//
// What a marker does: SigningFence::Open refuses a fence with a marker beside
// it, so a node (leader or bulk loader) never signs with a retired key, even
// when the key is restored. `keys backup` copies the marker into the backup,
// `keys restore` copies it beside the restored key's fence, and `keys verify`
// shows it. Removing a marker by hand is the only way back, on purpose.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace ailee::keys {

struct RetiredRecord {
  std::string signer_id;
  std::string fingerprint;  // hex SHA-256 of the SPKI, when known
  std::string reason;       // required, <= 1024 bytes
  std::string operator_id;  // who retired it
  int64_t retired_unix = 0;

  nlohmann::json ToJson() const;
  static Result<RetiredRecord> FromJson(std::string_view text, const std::string& path_for_errors);
  // "retired 2026-12-03T10:00:00Z by alice: compromised laptop"
  std::string Describe() const;
};

std::string RetiredMarkerPathForFence(const std::string& fence_path);  // "<fence>.retired"
std::string RetiredBackupFileName(std::string_view signer_id);         // "<id>.key.retired"

// The marker at `path`: nothing when absent; an error for anything but a
// readable regular file holding a record (a symlink, a FIFO, damage): a
// caller deciding whether to sign treats that as retired (fail closed).
Result<std::optional<RetiredRecord>> ReadRetiredMarker(const std::string& path);

// Writes `record` at `path` unless a marker is there already. Returns the
// record now at `path` (the earlier one when it existed, for the same signer)
// and whether this call wrote it. FailedPrecondition when the marker there
// is another signer's.
struct MarkerWrite {
  RetiredRecord record;
  bool written = false;
};
Result<MarkerWrite> WriteRetiredMarker(const std::string& path, const RetiredRecord& record);

struct RetireRequest {
  RetiredRecord record;                   // retired_unix is set from `clock`
  std::string fence_path;                 // where the key's fence is (or would be); may be empty
  std::vector<std::string> backup_dirs;   // directories holding <id>.key.gpg / <id>.key.json; may be empty
  const Clock* clock = &Clock::Real();
};

struct RetireResult {
  RetiredRecord record;                  // as first recorded
  std::vector<std::string> written;      // markers this call wrote
  std::vector<std::string> already;      // markers that were there already
  std::vector<std::string> kept;         // the fence and backup files left in place
};

// Marks the key retired beside its fence and every backup. Checks first
// (every backup dir holds this signer's backup, no marker there belongs to
// another signer), then writes; deletes nothing. Idempotent: a rerun after a
// crash completes the markers that are missing.
Result<RetireResult> RetireKey(const RetireRequest& request);

}  // namespace ailee::keys
