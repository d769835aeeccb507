#include "repo/lock.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/scratch.h"
#include "repo/ids.h"
#include "repo/key_slots.h"

namespace ailee::repo {
std::string LockInfo::Describe() const {
  return host + "/pid " + std::to_string(pid) + (user.empty() ? "" : " (" + user + ")") + " since " +
         FormatUtc(time_ms / 1000);
}

Result<std::vector<LockInfo>> ListLocks(storage::ObjectStore& store, const Clock& clock, const LockOptions& options) {
  ASSIGN_OR_RETURN(auto objects, store.List(std::string(kLocksPrefix)));
  std::vector<LockInfo> out;
  const std::string host = LocalHostname();
  const std::string space = fs::ProcessSpaceId();
  for (const auto& obj : objects) {
    auto text = store.Get(obj.key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;
      return text.status();
    }
    LockInfo info;
    info.id = obj.key.substr(kLocksPrefix.size());
    try {
      auto j = nlohmann::json::parse(*text);
      info.host = j.at("host").get<std::string>();
      info.pid = j.at("pid").get<int64_t>();
      info.pid_start = j.value("pid_start", uint64_t{0});
      info.pid_space = j.value("pid_space", "");
      info.user = j.value("user", "");
      info.time_ms = j.at("time_ms").get<int64_t>();
      info.exclusive = j.at("exclusive").get<bool>();
    } catch (const std::exception&) {
      // Not a lock this version can read: it cannot say who holds it or
      // since when, so it is reported as stale rather than blocking forever.
      info.host = "unreadable";
      info.time_ms = 0;
    }
    // Judged by pid only where this process sees the holder's pids: same
    // host, same boot, same pid namespace. A container sharing the hostname
    // (--uts=host) sees other pids; its live lock must not look dead. Locks
    // of older versions do not say, and keep being judged by host and pid.
    info.owner_gone = info.host == host && (info.pid_space.empty() || info.pid_space == space) &&
                      fs::OwnerGone(info.pid, info.pid_start);
    info.stale = clock.NowMillis() - info.time_ms > options.stale_after_ms || info.owner_gone;
    out.push_back(std::move(info));
  }
  return out;
}

Result<size_t> RemoveStaleLocks(storage::ObjectStore& store, const Clock& clock, const LockOptions& options) {
  ASSIGN_OR_RETURN(auto locks, ListLocks(store, clock, options));
  size_t n = 0;
  for (const auto& l : locks) {
    if (!l.stale) continue;
    RETURN_IF_ERROR(store.Delete(LockKey(l.id)));
    ++n;
  }
  return n;
}

RepoLock::RepoLock(std::shared_ptr<storage::ObjectStore> store, Clock& clock, bool exclusive, LockOptions options)
    : store_(std::move(store)), clock_(clock), exclusive_(exclusive), options_(options), id_(IdHex(RandomId())) {}

Status RepoLock::Write() {
  const int64_t now = clock_.NowMillis();
  written_ms_ = now;  // a failed write is retried a period later, like a done one
  // pid_start tells this process from a later one the kernel gives the same pid.
  nlohmann::json j = {{"version", kFormatVersion}, {"host", LocalHostname()}, {"pid", ::getpid()},
                      {"pid_start", fs::ProcessStartTicks(::getpid())}, {"pid_space", fs::ProcessSpaceId()},
                      {"user", LocalUsername()},
                      {"time_ms", now}, {"exclusive", exclusive_}};
  return store_->Put(LockKey(id_), j.dump());
}

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(std::shared_ptr<storage::ObjectStore> store, Clock& clock,
                                                    bool exclusive, const LockOptions& options) {
  std::unique_ptr<RepoLock> lock(new RepoLock(std::move(store), clock, exclusive, options));
  RETURN_IF_ERROR(lock->Write().WithContext("write lock in " + lock->store_->Location()));
  auto others = ListLocks(*lock->store_, clock, options);
  if (!others.ok()) {
    (void)lock->Release();
    return others.status();
  }
  for (const auto& other : *others) {
    if (other.id == lock->id_) continue;
    // A job killed on this host left it: nobody else will remove it. Best
    // effort; a lock another job removed first is gone either way.
    if (other.owner_gone) (void)lock->store_->Delete(LockKey(other.id));
    if (other.stale) continue;
    if (!exclusive && !other.exclusive) continue;
    (void)lock->Release();
    if (other.exclusive) {
      return Aborted("repository " + lock->store_->Location() + " is locked exclusively (prune) by " +
                     other.Describe() + "; retry later");
    }
    return Aborted("backup in progress by " + other.Describe() + " in " + lock->store_->Location() +
                   "; retry later");
  }
  lock->refresher_ = std::thread([l = lock.get()] { l->RefreshLoop(); });
  return lock;
}

// Refreshes on clock_, the clock that judges staleness: a refresh is due
// refresh_every after the time the last write recorded (not after this
// thread got to run: started late, it would otherwise push the first
// refresh past a clock that had already moved on).
void RepoLock::RefreshLoop() {
  std::unique_lock guard(mu_);
  for (;;) {
    const int64_t due = written_ms_.load() + options_.refresh_every_ms;
    if (WaitUntil(clock_, due, guard, cv_, [&] { return stop_; })) break;
    guard.unlock();
    (void)Write();  // a failed refresh is retried next period; staleness takes 30 min
    guard.lock();
  }
}

Status RepoLock::Release() {
  {
    std::lock_guard guard(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  if (released_) return Status::Ok();
  released_ = true;
  return store_->Delete(LockKey(id_));
}

RepoLock::~RepoLock() { (void)Release(); }

}  // namespace ailee::repo
