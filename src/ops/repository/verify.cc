#include "ops/repository/verify.h"

#include <cstdlib>

#include "ops/state/snapshot_check.h"

namespace ailee::ops {

Result<RepositoryVerification> VerifyRepository(repo::Repository& repo, const RepositoryVerifyOptions& options) {
  repo::VerifyOptions vo;
  vo.read_data = options.read_data;
  vo.progress = options.progress;
  // What a restore would find: a state snapshot's files must form a
  // database that opens (table file identities match the MANIFEST).
  vo.check_snapshot = [&repo](const repo::Snapshot& snap) {
    return snap.kind == "state" ? CheckStateSnapshotOpens(repo, snap) : Status::Ok();
  };
  RepositoryVerification v;
  ASSIGN_OR_RETURN(v.report, repo::Verify(repo, vo));
  if (options.restore_test && v.report.ok()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = !options.scratch_parent.empty() ? options.scratch_parent : tmp ? tmp : "/tmp";
    v.restore_test = RestoreTest(repo, dir, options.federation);
  }
  return v;
}

Status VerdictOf(const RepositoryVerification& v) {
  const repo::VerifyReport& r = v.report;
  if (!r.ok()) return DataLoss(std::to_string(r.problems.size()) + " problem(s): " + r.problems.front().ToString());
  if (v.restore_test && !v.restore_test->ok()) return v.restore_test->status().WithContext("restore test");
  return Status::Ok();
}

}  // namespace ailee::ops
