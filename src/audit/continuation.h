// Internal to src/audit: how a rotated audit log keeps one chain.
//
// logrotate (`create`, never copytruncate) renames audit.log to audit.log.1
// and creates an empty audit.log. The next appender must continue the chain
// of the renamed file, not start again at seq 0. Two files beside the log,
// which logrotate never touches, make that robust:
//   <log>.lock  empty; appenders flock it (LOCK_EX) before the log itself.
//               It is never renamed, so appenders that opened the old file
//               and the new one are still serialized across a rotation.
//   <log>.head  one JSON line {"v":1,"seq","hash","dev","ino"}: the head an
//               appender left and the inode of the file it wrote to,
//               replaced atomically (fs::WriteFileAtomic) after every append,
//               and before the first line of a new file (so a crash right
//               after that line still leaves the file's inode recorded).
// When the live file is empty, ContinuationHead finds the predecessor: the
// file in the log's directory with the recorded inode, whatever logrotate
// named it (audit.log.1, audit.log-20261203), and reads its last line. That
// line is the truth even when <log>.head is stale (kill -9 between the
// append and the head update). Only when that file is gone (compressed or
// removed) does the recorded head stand in for it. No <log>.head: a new log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "base/status.h"

namespace ailee::audit {

std::string LockFilePath(const std::string& log_path);
std::string HeadFilePath(const std::string& log_path);

// Where a new live file continues from.
struct Continuation {
  AuditHead head;             // seq 0: a new chain
  std::string previous_file;  // name of the predecessor found on disk; empty when none was
};

// For an empty live file whose inode is (dev, ino); call under the lock file.
Result<Continuation> ContinuationHead(const std::string& log_path, uint64_t dev, uint64_t ino);

// Records `head` as the end of the file with inode (dev, ino); under the lock file.
Status RecordLiveHead(const std::string& log_path, const AuditHead& head, uint64_t dev, uint64_t ino,
                      unsigned mode);

}  // namespace ailee::audit
