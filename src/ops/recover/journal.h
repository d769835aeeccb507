// The recover-node journal: which phases of one recovery are finished and
// what each produced (the state's height and root, the key's fingerprint),
// so that a run killed at any moment is continued by the next one and a
// finished phase is never redone over what came after it (a restored state
// is never restored again over a node that has since run and advanced).
//
// It lives beside the data dir (<data_dir>.recover-journal.json, never
// inside it: a state swap replaces the data dir) and is rewritten whole with
// fs::WriteFileAtomic after each phase, so after kill -9 it is the version
// before or after that phase. Format (JSON, version 1):
//   {"version":1, "node_id":"node-1", "started_ms":..., "phases":
//     {"config": {"finished_unix":..., "detail":{...}}, "key": {...}, ...}}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ailee::ops {

struct RecoverJournal {
  std::string node_id;
  int64_t started_ms = 0;  // when the first run began (unix milliseconds): the RTO counts from here
  std::map<std::string, nlohmann::json> finished;  // phase name -> what it produced

  bool Finished(const std::string& phase) const { return finished.count(phase) != 0; }
};

// <data_dir>.recover-journal.json and <data_dir>.recover-report.json.
std::string RecoverJournalPath(const std::string& data_dir);
std::string RecoverReportPath(const std::string& data_dir);

// The journal at `path`; an empty one (node_id "") when there is none.
// kDataLoss naming the file when it exists but cannot be parsed (it is
// never guessed: the operator removes it after checking the node).
Result<RecoverJournal> ReadRecoverJournal(const std::string& path);

// Writes it atomically (temporary name, fsync, rename, fsync of the directory).
Status WriteRecoverJournal(const std::string& path, const RecoverJournal& journal);

}  // namespace ailee::ops
