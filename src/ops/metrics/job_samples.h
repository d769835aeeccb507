// The numbers each scheduled job reports to its metrics file
// (ops/metrics/textfile.h), taken from the job's own result struct. The
// common ones (attempt, success, duration, exit code) are added by the
// writer; these are the job-specific ones, reported whenever the job got as
// far as a result (a backup whose copy to a secondary failed still reports
// its snapshot and how many copies exist).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keys/backup.h"
#include "ops/blocks/archiver.h"
#include "ops/config/backup.h"
#include "ops/drill/drill.h"
#include "ops/drill/config_drill.h"
#include "ops/drill/key_drill.h"
#include "ops/logs/archive.h"
#include "ops/metrics/textfile.h"
#include "ops/repository/forget.h"
#include "ops/repository/verify.h"
#include "ops/state/backup.h"
#include "ops/state/replicate.h"
#include "repo/copy.h"
#include "repo/prune.h"

namespace ailee::ops::metrics {

// backup state / backup config: bytes read and stored, the snapshot (made
// now: age 0), and its copies: the primary plus each secondary reached, out
// of `min_copies` required.
std::vector<Sample> StateBackupSamples(const StateBackupResult& r, const std::vector<ReplicationOutcome>& copies,
                                       int64_t min_copies);
std::vector<Sample> ConfigBackupSamples(const ConfigBackupResult& r, const std::vector<ReplicationOutcome>& copies,
                                        int64_t min_copies);
// logs archive: bytes read and stored; a snapshot only when there was
// something to archive.
std::vector<Sample> LogArchiveSamples(const LogArchiveResult& r);
// verify: ailee_verify_ok (damage and a failed restore test are 0), bytes read.
std::vector<Sample> VerifySamples(const RepositoryVerification& v);
// keys verify: ailee_keys_verify_ok{signer} (its own name: a metric keeps one
// set of label names across files), and the signer's verification age, 0
// when every copy passed; otherwise not reported, so the previous age keeps
// growing.
std::vector<Sample> KeysVerifySamples(const std::string& signer_id, const keys::VerifyReport& r);
// copy: bytes stored in the destination.
std::vector<Sample> CopySamples(const repo::CopyStats& c);
// archive run / archive status: the archived height, and the lag when the node answered.
std::vector<Sample> ArchiverSamples(const ArchiverResult& r);
std::vector<Sample> ArchiveStatusSamples(const ArchiveStatus& st);
// A drill that ran to its report (passed or failed a check): its RTO and RPO.
std::vector<Sample> DrillSamples(const DrillReport& r);
std::vector<Sample> KeyDrillSamples(const KeyDrillReport& r);
std::vector<Sample> ConfigDrillSamples(const ConfigDrillReport& r);
// forget (with --prune) / prune: snapshots forgotten, bytes deleted.
std::vector<Sample> ForgetSamples(const ForgetJobResult& r);
std::vector<Sample> PruneSamples(const repo::PruneStats& st);

}  // namespace ailee::ops::metrics
