#include "cli/replicate.h"

#include <optional>

#include "cli/format.h"
#include "cli/progress.h"

namespace ailee::cli {

std::vector<ReplicationOutcome> ReplicateToSecondaries(const GlobalOptions& g, RepoSession& session,
                                                       const std::string& snapshot_id) {
  if (!session.config()) return {};
  ops::ReplicateOptions o;
  o.snapshot_id = snapshot_id;
  o.secondaries = session.config()->backup.secondary_repositories;
  o.primary_url = session.url();
  o.audit = session.audit();
  std::optional<ProgressLine> progress;  // one per location
  o.progress = [&](const std::string& url, const repo::CopyProgress& p) {
    if (!progress) progress.emplace(g, "replicate");
    progress->Update(url, p.bytes_done, p.bytes_total);
  };
  o.on_location = [&](const ReplicationOutcome& r) {
    if (progress) progress->Done();
    progress.reset();
    if (r.status.ok()) {
      PrintLine(g, "replicated to " + r.url + ": " + std::to_string(r.packs_copied) + " packs, " +
                       HumanBytes(r.bytes_copied));
    }
  };
  return ops::ReplicateSnapshot(session.repo(), o);
}

nlohmann::json ReplicationJson(const std::vector<ReplicationOutcome>& outcomes) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& o : outcomes) {
    nlohmann::json j = {{"url", o.url}, {"ok", o.status.ok()}, {"bytes_copied", o.bytes_copied},
                        {"packs_copied", o.packs_copied}};
    if (!o.status.ok()) j["error"] = o.status.ToString();
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace ailee::cli
