// Where a node's state is read from: the one decision behind `backup state`
// and `create-checkpoint` (online through the running node's admin API, or
// offline on its stopped data dir), and where their scratch goes.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace ailee::ops {

// A resolved source: node_url + admin_token (online) or data_dir (offline).
struct StateSource {
  std::string node_url;     // online when set
  std::string admin_token;  // for node_url's admin API
  std::string data_dir;     // offline: this stopped node's data dir
  std::string node_id;
  // Where checkpoints are taken: the data dir's parent, since a checkpoint
  // hard-links SST files and must be on their filesystem (the node, online,
  // writes there too); $TMPDIR (or /tmp) when no data dir is known.
  std::string scratch_parent;
  bool online() const { return !node_url.empty(); }
};

struct StateSourceOptions {
  std::string node_url;   // where the node would answer (--url or the config's listen address); may be empty
  std::string data_dir;   // its data dir (--data-dir or the config's); may be empty
  std::string node_id;
  bool offline = false;   // --offline: never ask the node
  // Reads the node's admin token; called only once the node answered.
  std::function<Result<std::string>()> read_admin_token;
  int probe_timeout_ms = 2000;
  // Why node_url or data_dir may be unknown (the config did not load): the
  // error when no node answers and no data dir is known.
  Status why_nothing_known;
};

// In order:
//  - `offline`: the data dir (kInvalidArgument without one);
//  - the node answers GET /v1/health at node_url: online, with the admin
//    token (its read error is returned as is);
//  - it answers 503 "proof running" (a restored state not proven yet,
//    docs/recovery.md): kUnavailable saying so (retry once proven);
//  - no answer, no data dir: why_nothing_known if set, else kUnavailable
//    naming the URL;
//  - no answer, but a process holds the data dir's RocksDB LOCK (a node that
//    is starting, stuck, or listening elsewhere): kFailedPrecondition naming
//    the pid and the URL, with a hint; neither path can work, a retry might;
//  - otherwise offline on the stopped data dir.
// Writes nothing.
Result<StateSource> ResolveStateSource(const StateSourceOptions& options);

}  // namespace ailee::ops
