#include "ops/drill/key_drill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "base/fs.h"
#include "base/scratch.h"
#include "keys/backup.h"
#include "keys/signer.h"
#include "ops/drill/report.h"

namespace ailee::ops {
namespace {

int64_t Mono(const Clock& c) { return c.MonotonicNanos() / 1000000; }

// The key drill in progress: its report, drill time and first failure.
class KeyDrillRun {
 public:
  explicit KeyDrillRun(const KeyDrillOptions& o) : o_(o), t0_(Mono(*o.clock)) {
    r_.started_ms = o.clock->NowMillis();
    r_.signer_id = o.signer_id;
  }
  KeyDrillReport& report() { return r_; }

  // Runs `step` as the phase `name`; false when the drill was cancelled
  // first (cleaning up is never cancelled).
  template <typename Step>
  bool Phase(const std::string& name, Step step, bool cancellable = true) {
    if (cancellable && o_.cancelled && o_.cancelled()) {
      Check("cancelled", Aborted("interrupted (SIGINT/SIGTERM) before the " + name + " phase"), "");
      return false;
    }
    if (o_.on_phase) o_.on_phase(name);
    const int64_t start = Mono(*o_.clock) - t0_;
    const bool ok = step();
    r_.phases.push_back({name, start, std::max<int64_t>(0, Mono(*o_.clock) - t0_ - start)});
    return ok;
  }
  bool Check(const std::string& name, const Status& st, std::string ok_detail) {
    r_.checks.push_back({name, st.ok(), st.ok() ? std::move(ok_detail) : st.message()});
    if (!st.ok() && r_.failed_check.empty()) {
      r_.failed_check = name;
      r_.verdict = Status(st.code(), "key drill check '" + name + "' failed: " + st.message());
    }
    return st.ok();
  }

 private:
  const KeyDrillOptions& o_;
  int64_t t0_;
  KeyDrillReport r_;
};

// The scratch directory goes on every way out of the drill, its key file
// shredded first.
class ScratchDir {
 public:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() { (void)Remove(); }
  const std::string& path() const { return path_; }
  Status Remove() {
    if (path_.empty() || !fs::Exists(path_)) return Status::Ok();
    auto names = fs::ListDir(path_);
    for (const auto& n : names.ok() ? *names : std::vector<std::string>{}) RETURN_IF_ERROR(ShredFile(fs::JoinPath(path_, n)));
    return fs::RemoveAll(path_);
  }

 private:
  std::string path_;
};

// A killed key drill leaves its scratch directory, the key inside: shredded
// and removed here when its owner is certainly gone.
void RemoveAbandonedScratch(const std::string& parent) {
  auto names = fs::ListDir(parent);
  if (!names.ok()) return;
  const std::string_view prefix = kKeyDrillScratchPrefix;
  for (const auto& n : *names) {
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    int64_t pid = 0;
    uint64_t start = 0;
    if (!fs::ParseOwnerTag(std::string_view(n).substr(prefix.size()), &pid, &start) || !fs::OwnerGone(pid, start)) continue;
    ScratchDir leftover(fs::JoinPath(parent, n));
  }
}

}  // namespace

Status ShredFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("shred", path, errno);
  }
  if (S_ISDIR(st.st_mode)) return Status::Ok();  // its files are shredded one by one; RemoveAll takes it
  if (S_ISREG(st.st_mode)) {
    // A 0400 key file: writable again for the overwrite (as its owner).
    if (chmod(path.c_str(), 0600) != 0) return Internal("shred " + path + ": chmod: " + std::strerror(errno));
    const int fd = open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Internal("shred " + path + ": " + std::strerror(errno));
    const std::string zeros(static_cast<size_t>(st.st_size), '\0');
    Status written = fs::WriteAt(fd, zeros, 0, path);
    const bool synced = written.ok() && fsync(fd) == 0;
    close(fd);
    RETURN_IF_ERROR(written);
    if (!synced) return Internal("shred " + path + ": fsync: " + std::strerror(errno));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Internal("shred " + path + ": unlink: " + std::strerror(errno));
  return Status::Ok();
}

nlohmann::ordered_json KeyDrillReportJson(const KeyDrillReport& r) {
  nlohmann::ordered_json j;
  j["ok"] = r.ok;
  j["part"] = "keys";
  j["failed_check"] = r.failed_check;
  j["signer_id"] = r.signer_id;
  j["fingerprint"] = r.fingerprint;
  j["started_ms"] = r.started_ms;
  j["rto_ms"] = r.rto_ms;
  j["phases"] = PhasesJson(r.phases);
  j["checks"] = ChecksJson(r.checks);
  j["scratch"] = r.scratch;
  return j;
}

Result<KeyDrillReport> RunKeyDrill(const KeyDrillOptions& o) {
  if (o.passphrase == nullptr || o.federation == nullptr) return InvalidArgument("key drill: no passphrase or federation");
  RETURN_IF_ERROR(keys::ValidateSignerId(o.signer_id));
  RETURN_IF_ERROR(keys::CheckLocalPath(o.backup, "--key-backup"));
  const auto fed = o.federation->find(o.signer_id);
  if (fed == o.federation->end())
    return NotFound("key drill: the federation has no public key for '" + o.signer_id +
                    "' (config federation section or --federation-key)");
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_parent, 0700));
  RemoveAbandonedScratch(o.scratch_parent);

  KeyDrillRun run(o);
  KeyDrillReport& r = run.report();
  std::optional<keys::OpenedBackup> opened;
  bool ok = run.Phase("open", [&] {
    auto b = keys::OpenBackup(o.signer_id, o.backup, *o.passphrase, keys::FederationCheck{nullptr, false});
    if (!run.Check("backup-opens", b.status(), "decrypted and matches its metadata")) return false;
    opened.emplace(std::move(b).value());
    r.fingerprint = opened->key.public_key().FingerprintHex();
    const bool same = r.fingerprint == fed->second.FingerprintHex();
    return run.Check("federation-fingerprint",
                     same ? Status::Ok()
                          : DataLoss("the backup holds key " + r.fingerprint + ", but the federation's key for '" +
                                     o.signer_id + "' is " + fed->second.FingerprintHex()),
                     "the federation's key " + r.fingerprint);
  });
  ScratchDir scratch(fs::JoinPath(o.scratch_parent, fs::ScratchName(kKeyDrillScratchPrefix)));
  r.scratch = scratch.path();
  const std::string key_file = fs::JoinPath(scratch.path(), o.signer_id + ".key");
  ok = ok && run.Phase("restore", [&] {
    Status made = fs::MakeDirs(scratch.path(), 0700);
    if (made.ok()) made = keys::RestoreToFile(*opened, key_file, keys::FileOwner{}).status();
    opened.reset();  // the key stays in memory no longer than needed
    return run.Check("restore", made, "written to a 0400 file in a 0700 scratch directory");
  });
  ok = ok && run.Phase("test-signer", [&] {
    auto signer = keys::FileSigner::Open(key_file);
    auto t = signer.ok() ? keys::TestSigner(**signer, fed->second) : Result<keys::SignerTestReport>(signer.status());
    return run.Check("test-signer", t.status(), "the restored key signed a fresh challenge; the federation key verifies it");
  });
  for (const auto& p : r.phases) r.rto_ms += p.duration_ms;
  run.Phase("shred", [&] { return run.Check("shred", scratch.Remove(), "key file overwritten and unlinked, scratch removed"); },
            /*cancellable=*/false);
  r.ok = r.failed_check.empty();
  return r;
}

}  // namespace ailee::ops
