#include "repo/retention.h"

#include <algorithm>
#include <ctime>
#include <map>

namespace ailee::repo {
namespace {

std::string Bucket(int64_t time_ms, const char* format) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  size_t n = strftime(buf, sizeof buf, format, &utc);
  return std::string(buf, n);
}

struct Rule {
  const char* name;
  int count;
  const char* format;  // nullptr: every snapshot is its own bucket
};

}  // namespace

bool RetentionPolicy::empty() const {
  return keep_last == 0 && keep_hourly == 0 && keep_daily == 0 && keep_weekly == 0 && keep_monthly == 0 &&
         keep_yearly == 0 && keep_within_ms == 0;
}

std::vector<ForgetDecision> ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy,
                                           int64_t now_ms) {
  std::map<std::pair<std::string, std::string>, std::vector<const Snapshot*>> groups;
  for (const auto& s : snapshots) groups[{s.kind, s.host}].push_back(&s);
  std::vector<ForgetDecision> out;
  for (auto& [key, group] : groups) {
    std::sort(group.begin(), group.end(), [](const Snapshot* a, const Snapshot* b) {
      return a->time_ms != b->time_ms ? a->time_ms > b->time_ms : a->id > b->id;
    });
    std::vector<Rule> rules = {{"last", policy.keep_last, nullptr},
                               {"hourly", policy.keep_hourly, "%Y-%m-%d %H"},
                               {"daily", policy.keep_daily, "%Y-%m-%d"},
                               {"weekly", policy.keep_weekly, "%G-W%V"},
                               {"monthly", policy.keep_monthly, "%Y-%m"},
                               {"yearly", policy.keep_yearly, "%Y"}};
    std::vector<std::string> last(rules.size(), "\x01none");
    for (const Snapshot* s : group) {
      ForgetDecision d{s->id, s->time_ms, s->kind, s->host, false, {}};
      if (policy.keep_within_ms > 0 && s->time_ms >= now_ms - policy.keep_within_ms) {
        d.keep = true;
        d.reasons.push_back("within");
      }
      for (size_t i = 0; i < rules.size(); ++i) {
        if (rules[i].count == 0) continue;
        std::string value = rules[i].format ? Bucket(s->time_ms, rules[i].format) : IdHex(s->id);
        if (value == last[i]) continue;
        last[i] = value;
        --rules[i].count;  // negative counts never reach 0: unlimited
        d.keep = true;
        d.reasons.push_back(rules[i].name);
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

Result<std::vector<ForgetDecision>> Forget(Repository& repo, const ForgetOptions& options) {
  if (options.policy.empty()) {
    return InvalidArgument("no keep rule given; refusing to forget every snapshot");
  }
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo.shared_store(), repo.clock(), false, options.lock));
  ASSIGN_OR_RETURN(SnapshotListing listing, ListSnapshots(repo));
  std::vector<Snapshot> selected;
  for (auto& s : listing.snapshots) {
    if (!options.filter.kind.empty() && s.kind != options.filter.kind) continue;
    if (!options.filter.host.empty() && s.host != options.filter.host) continue;
    s.files.clear();  // not needed; keeps memory small
    selected.push_back(std::move(s));
  }
  const int64_t now = repo.clock().NowMillis();
  auto decisions = ApplyRetention(selected, options.policy, now);
  if (repo.store().Features().object_lock) {
    for (auto& d : decisions) {
      if (d.keep) continue;
      ASSIGN_OR_RETURN(int64_t until, repo.store().RetainedUntilUnixMs(SnapshotKey(d.snapshot_id)));
      if (until > now) {
        d.keep = true;
        d.reasons = {"locked"};
        d.locked_until_ms = until;
      }
    }
  }
  if (!options.dry_run) {
    for (const auto& d : decisions) {
      if (!d.keep) RETURN_IF_ERROR(repo.store().Delete(SnapshotKey(d.snapshot_id)));
    }
  }
  RETURN_IF_ERROR(lock->Release());
  return decisions;
}

}  // namespace ailee::repo
