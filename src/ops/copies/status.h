// `repo status`: in how many repositories and distinct sites each snapshot
// of a repository exists (the runbook's 3-2-1 rule), read from the primary
// and from each other location's object store without its passphrase; and
// the recovery window each location offers on its own (per node: oldest
// state snapshot .. last archived block, read there with the primary's keys,
// which a replica shares), so an operator sees how far back and how close to
// the tip a restore from the offsite copy would reach.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/blocks/replay.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

struct CopiesStatusOptions {
  std::string primary_url;              // the open repository's URL
  std::vector<std::string> locations;   // other repository URLs (duplicates counted once)
  int64_t min_copies = 1;
};

struct LocationCount {
  std::string url;
  std::string site;       // "local disk", "s3 ENDPOINT", "s3 default endpoint"
  Status status;          // why it could not be counted
  std::set<std::string> snapshots;  // hex ids found there
  std::vector<RecoveryWindow> windows;  // per node, from this location's own objects
  Status windows_status;                // why they could not be read (location counted all the same)
};

struct SnapshotCopies {
  repo::Snapshot snapshot;             // as listed (files not needed)
  std::vector<std::string> locations;  // URLs holding it, in location order
  size_t sites = 0;
  bool enough = false;                 // locations.size() >= min_copies
};

struct CopiesStatus {
  int64_t min_copies = 1;
  std::vector<LocationCount> locations;  // the primary first
  std::vector<SnapshotCopies> snapshots;  // oldest first
  size_t short_of_copies = 0;
  size_t unreachable = 0;
};

// Where a repository lives, for counting distinct sites: the local disk of
// this host, or an object-storage endpoint.
std::string SiteOf(const std::string& url);

// Counts the copies of every snapshot of `primary`. A location that cannot
// be read (or holds another repository) is reported in its LocationCount,
// not as the call's error.
Result<CopiesStatus> CountCopies(repo::Repository& primary, const CopiesStatusOptions& options);

// Ok when every location answered and every snapshot has enough copies;
// else kFailedPrecondition (another repository, credentials; too few copies)
// or kUnavailable (a retry may help).
Status CopiesVerdict(const CopiesStatus& status);

}  // namespace ailee::ops
