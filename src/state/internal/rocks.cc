#include "state/internal/rocks.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <vector>

#include "base/fs.h"
#include "base/parallel.h"
#include "state/encoding.h"
#include "state/records.h"

namespace ailee::state::internal {
namespace {

const std::vector<std::string>& AllCfs() {
  static const std::vector<std::string> kAll = {
      std::string(rocksdb::kDefaultColumnFamilyName), std::string(kCfBlocks),   std::string(kCfTransactions),
      std::string(kCfAccounts), std::string(kCfPegIns), std::string(kCfPegOuts),  std::string(kCfSigners),
      std::string(kCfAnchors),  std::string(kCfMeta),   std::string(kCfWriteSets), std::string(kCfControl),
      std::string(kCfLocal)};
  return kAll;
}

// Column families added after the first release: a read-only open of an
// older database (a checkpoint, a restored backup) finds them missing and
// reads them as empty; a read-write open creates them.
bool AddedLater(std::string_view name) { return name == kCfControl || name == kCfLocal; }

bool Supported(rocksdb::CompressionType t) {
  auto all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), t) != all.end();
}

// Options chosen with backups in mind:
//  - Level compaction with 64 MiB target files: SSTs are immutable and of
//    bounded size, so hard-link checkpoints and file-level incremental backups
//    share most files between consecutive backups.
//  - LZ4 on the upper levels (cheap, data there is rewritten soon) and ZSTD on
//    the bottommost level (where most bytes live and stay): backups can store
//    SSTs as they are without compressing them again.
//  - WAL on, every produced block written with sync=true (a follower's page
//    of fetched blocks: one sync for the page, state_db.h), never recycled
//    (recycle_log_file_num=0) so a copied WAL is never a reused file with
//    stale tails; kPointInTimeRecovery stops replay at the first torn record
//    after power loss instead of refusing to open.
//  - atomic_flush: all CFs are flushed together, so SSTs on disk never hold a
//    block in one CF but not in another even without the WAL.
//  - max_open_files bounded: a node runs next to backup jobs.
rocksdb::ColumnFamilyOptions CfOptions(bool compact) {
  rocksdb::ColumnFamilyOptions o;
  o.disable_auto_compactions = !compact;
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level_compaction_dynamic_level_bytes = true;
  o.target_file_size_base = 64ull << 20;
  o.write_buffer_size = 32ull << 20;
  o.compression = Supported(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression : rocksdb::kSnappyCompression;
  o.bottommost_compression = Supported(rocksdb::kZSTD) ? rocksdb::kZSTD : o.compression;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

rocksdb::DBOptions DbOptions(bool create_if_missing) {
  rocksdb::DBOptions o;
  o.create_if_missing = create_if_missing;
  o.create_missing_column_families = true;
  o.atomic_flush = true;
  o.max_open_files = 512;
  o.max_background_jobs = 2;
  o.recycle_log_file_num = 0;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.max_total_wal_size = 256ull << 20;
  o.keep_log_file_num = 5;
  o.paranoid_checks = true;
  return o;
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsCorruption()) return DataLoss(msg);
  if (s.IsNotFound()) return NotFound(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Unavailable(msg);
  if (s.IsNoSpace()) return ResourceExhausted(msg);
  if (s.IsIOError()) {
    // RocksDB reports a held LOCK file as an IO error.
    if (s.ToString().find("lock") != std::string::npos) return Unavailable(msg + " (is a node running on it?)");
    return Internal(msg);
  }
  if (s.IsInvalidArgument()) return InvalidArgument(msg);
  if (s.IsNotSupported()) return FailedPrecondition(msg);
  return Internal(msg);
}

std::string EncodeTip(const TipRecord& t) {
  std::string out;
  PutU64(&out, t.height);
  out.append(reinterpret_cast<const char*>(t.block_hash.data()), 32);
  out.append(reinterpret_cast<const char*>(t.state_root.data()), 32);
  PutU64(&out, static_cast<uint64_t>(t.timestamp_ms));
  return out;
}

Result<TipRecord> DecodeTip(std::string_view bytes) {
  Reader r(bytes);
  TipRecord t;
  std::string h, s;
  uint64_t ts = 0;
  if (!r.U64(&t.height) || !r.Fixed(32, &h) || !r.Fixed(32, &s) || !r.U64(&ts) || !r.done()) {
    return DataLoss("meta/tip: malformed record");
  }
  std::copy(h.begin(), h.end(), t.block_hash.begin());
  std::copy(s.begin(), s.end(), t.state_root.begin());
  t.timestamp_ms = static_cast<int64_t>(ts);
  return t;
}

Result<std::unique_ptr<RocksDb>> RocksDb::Open(const std::string& dir, bool read_only, bool create_if_missing,
                                               bool compact) {
  if (!read_only && create_if_missing) RETURN_IF_ERROR(CreateWhole(dir));
  return OpenHere(dir, read_only, create_if_missing, compact);
}

namespace {

// A database being built inside the data dir (see CreateWhole).
constexpr std::string_view kCreatingPrefix = ".ailee-creating-";
// In that dir: the names being moved up into the data dir, one per line.
constexpr char kMovingList[] = "MOVING";

// Holds flock(2) on a directory for its lifetime.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    while (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_;
};

// Removes the build dirs of earlier attempts. Without CURRENT in `dir`, the
// files an interrupted attempt had already moved up (its MOVING list) are
// removed too: they belong to a database that never came to exist.
Status RemoveInterruptedCreations(const std::string& dir, bool db_exists) {
  ASSIGN_OR_RETURN(auto names, fs::ListDir(dir));
  for (const auto& name : names) {
    if (name.compare(0, kCreatingPrefix.size(), kCreatingPrefix) != 0) continue;
    const std::string build = fs::JoinPath(dir, name);
    if (!db_exists) {
      auto moving = fs::ReadFile(fs::JoinPath(build, kMovingList));
      for (size_t pos = 0; moving.ok() && pos < moving->size();) {
        size_t end = moving->find('\n', pos);
        if (end == std::string::npos) end = moving->size();
        std::string moved = moving->substr(pos, end - pos);
        pos = end + 1;
        if (!moved.empty() && moved.find('/') == std::string::npos && moved != "CURRENT") {
          RETURN_IF_ERROR(fs::RemoveAll(fs::JoinPath(dir, moved)));
        }
      }
    }
    RETURN_IF_ERROR(fs::RemoveAll(build));
  }
  return Status::Ok();
}

}  // namespace

// RocksDB creates a database in steps: CURRENT first, then one column family
// at a time, then our format version. A kill in between would leave a data
// dir with a database that lacks column families, which read-only tools
// (and restores) rightly refuse. So a new database is built in a hidden dir
// inside the data dir, ".ailee-creating-<pid>", closed, and its files moved
// up with CURRENT last: RocksDB, and every tool here, sees a database only
// once CURRENT exists, so the data dir holds a whole one or none. Building
// inside leaves the data dir as the operator made it (a mount point, a
// symlink, its owner, mode and ACLs) and needs no write access to its
// parent. The next attempt after a kill removes what the killed one left.
// Creators take turns under flock(2) on the data dir.
Status RocksDb::CreateWhole(const std::string& dir) {
  if (fs::Exists(fs::JoinPath(dir, "CURRENT"))) {
    // The common case, an existing database. A build dir remains only after
    // a kill right after its CURRENT moved: tidy that, else nothing to do.
    auto names = fs::ListDir(dir);
    bool leftover = false;
    for (const auto& n : names.ok() ? *names : std::vector<std::string>{}) {
      leftover = leftover || n.compare(0, kCreatingPrefix.size(), kCreatingPrefix) == 0;
    }
    if (!leftover) return Status::Ok();
  }
  RETURN_IF_ERROR(fs::MakeDirs(dir));
  DirLock lock(dir);
  const bool exists_now = fs::Exists(fs::JoinPath(dir, "CURRENT"));
  RETURN_IF_ERROR(RemoveInterruptedCreations(dir, exists_now).WithContext("creating state db " + dir));
  if (exists_now) return Status::Ok();

  const std::string build = fs::JoinPath(dir, std::string(kCreatingPrefix) + std::to_string(::getpid()));
  RETURN_IF_ERROR(fs::MakeDirs(build, 0700));
  auto fail = [&](Status st) {
    (void)fs::RemoveAll(build);
    return st.WithContext("creating state db " + dir);
  };
  {
    auto created = OpenHere(build, /*read_only=*/false, /*create_if_missing=*/true);
    if (!created.ok()) return fail(created.status());
  }  // closed: every file is complete
  auto names = fs::ListDir(build);
  if (!names.ok()) return fail(names.status());
  std::string moving;
  for (const auto& n : *names) {
    if (n != "LOCK") moving += n + "\n";
  }
  Status st = fs::WriteFileAtomic(fs::JoinPath(build, kMovingList), moving, 0600);
  for (const auto& n : *names) {
    if (!st.ok()) break;
    if (n == "LOCK" || n == "CURRENT") continue;
    st = fs::FsyncFile(fs::JoinPath(build, n));
    if (st.ok() && ::rename(fs::JoinPath(build, n).c_str(), fs::JoinPath(dir, n).c_str()) != 0) {
      st = Internal("moving " + n + " into " + dir + ": " + std::strerror(errno));
    }
  }
  if (st.ok()) st = fs::FsyncDir(dir);
  if (st.ok()) st = fs::FsyncFile(fs::JoinPath(build, "CURRENT"));
  if (st.ok()) st = fs::RenameDurable(fs::JoinPath(build, "CURRENT"), fs::JoinPath(dir, "CURRENT"));  // the commit point
  if (!st.ok()) {
    (void)RemoveInterruptedCreations(dir, /*db_exists=*/false);
    return fail(st);
  }
  return fs::RemoveAll(build);
}

Result<std::unique_ptr<RocksDb>> RocksDb::OpenHere(const std::string& dir, bool read_only, bool create_if_missing,
                                                   bool compact) {
  if (read_only && !fs::Exists(fs::JoinPath(dir, "CURRENT"))) {
    return NotFound("state db " + dir + ": no RocksDB database here (missing CURRENT)");
  }
  std::unique_ptr<RocksDb> out(new RocksDb());
  out->dir_ = dir;
  out->read_only_ = read_only;
  rocksdb::DBOptions dbo = DbOptions(create_if_missing && !read_only);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  std::vector<std::string> open_cfs = AllCfs();
  if (fs::Exists(fs::JoinPath(dir, "CURRENT"))) {
    std::vector<std::string> existing;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(dbo, dir, &existing), "listing column families of " + dir));
    for (const auto& name : existing) {
      if (std::find(AllCfs().begin(), AllCfs().end(), name) == AllCfs().end()) {
        return DataLoss("state db " + dir + ": unknown column family \"" + name + "\" (not an AILEE state db?)");
      }
    }
    if (read_only) {
      open_cfs.clear();
      for (const auto& name : AllCfs()) {
        const bool present = std::find(existing.begin(), existing.end(), name) != existing.end();
        if (present) {
          open_cfs.push_back(name);
        } else if (!AddedLater(name)) {
          return DataLoss("state db " + dir + ": column family \"" + name + "\" is missing");
        }
      }
    }
  }
  for (const auto& name : open_cfs) descs.emplace_back(name, CfOptions(compact));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(dbo, dir, descs, &handles, &raw)
                                : rocksdb::DB::Open(dbo, dir, descs, &handles, &raw);
  RETURN_IF_ERROR(FromRocks(s, std::string("opening state db ") + dir + (read_only ? " read-only" : "")));
  out->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) out->cfs_[descs[i].name] = handles[i];

  auto fmt = out->Get(kCfMeta, kMetaFormat);
  if (!fmt.ok()) return fmt.status();
  if (!fmt->has_value()) {
    if (read_only) {
      // A crash right after creation leaves a database without it; that is
      // the empty genesis state, anything more is not ours or damaged.
      auto tip = out->Get(kCfMeta, kMetaTip);
      if (!tip.ok()) return tip.status();
      if (tip->has_value()) return DataLoss("state db " + dir + ": meta/format_version is missing");
      return out;
    }
    std::string v;
    PutU32(&v, kFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(out->db_->Put(wo, out->cf(kCfMeta), std::string(kMetaFormat), v),
                              "writing format version to " + dir));
  } else {
    Reader r(**fmt);
    uint32_t version = 0;
    if (!r.U32(&version) || !r.done()) return DataLoss("state db " + dir + ": malformed meta/format_version");
    if (version != kFormatVersion) {
      return FailedPrecondition("state db " + dir + ": format version " + std::to_string(version) +
                                " is not supported (this build reads version " + std::to_string(kFormatVersion) + ")");
    }
  }
  return out;
}

std::vector<rocksdb::ColumnFamilyHandle*> RocksDb::column_families() const {
  std::vector<rocksdb::ColumnFamilyHandle*> out;
  for (const auto& [name, handle] : cfs_) out.push_back(handle);
  return out;
}

RocksDb::~RocksDb() {
  if (!db_) return;
  for (auto& [name, h] : cfs_) db_->DestroyColumnFamilyHandle(h);
  (void)db_->Close();
}

rocksdb::ColumnFamilyHandle* RocksDb::cf(std::string_view name) const {
  auto it = cfs_.find(name);
  return it == cfs_.end() ? nullptr : it->second;
}

Result<std::optional<std::string>> RocksDb::Get(std::string_view cf_name, std::string_view key,
                                                const rocksdb::Snapshot* snap) const {
  rocksdb::ColumnFamilyHandle* handle = cf(cf_name);
  if (handle == nullptr) {
    if (AddedLater(cf_name)) return std::optional<std::string>();  // an older database, opened read-only
    return Internal("reading " + std::string(cf_name) + ": no such column family");
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string value;
  rocksdb::Status s = db_->Get(ro, handle, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "reading " + std::string(cf_name)));
  return std::optional<std::string>(std::move(value));
}

Result<TipRecord> RocksDb::ReadTip(const rocksdb::Snapshot* snap) const {
  ASSIGN_OR_RETURN(auto raw, Get(kCfMeta, kMetaTip, snap));
  if (!raw) {
    TipRecord genesis;
    genesis.state_root = EmptyStateRoot();
    return genesis;
  }
  return DecodeTip(*raw);
}

Result<LtHash> RocksDb::ReadAccumulator(const rocksdb::Snapshot* snap) const {
  ASSIGN_OR_RETURN(auto raw, Get(kCfMeta, kMetaAccumulator, snap));
  if (!raw) return LtHash();
  return LtHash::FromBytes(*raw);
}

Result<uint64_t> RocksDb::ReadCounter(std::string_view key, const rocksdb::Snapshot* snap) const {
  ASSIGN_OR_RETURN(auto raw, Get(kCfMeta, key, snap));
  if (!raw) return uint64_t{0};
  uint64_t v = 0;
  if (!DecodeU64(*raw, &v)) return DataLoss("meta/" + std::string(key) + ": malformed counter");
  return v;
}

Result<ScanResult> ScanStateAccumulator(const RocksDb& db, const rocksdb::Snapshot* snap, int threads,
                                        const std::function<void(uint64_t)>& on_entries) {
  // Work items: each state CF split at the first key byte 0x80. Account,
  // peg-in and peg-out keys are hashes, so the halves are even.
  struct Range {
    std::string_view cf;
    std::string lo, hi;  // hi empty = unbounded
  };
  std::vector<Range> ranges;
  for (auto cf : kStateCfs) {
    if (db.cf(cf) == nullptr) continue;  // added later, absent from an older read-only database: empty
    ranges.push_back({cf, "", std::string(1, '\x80')});
    ranges.push_back({cf, std::string(1, '\x80'), ""});
  }
  // Each worker sums into its own accumulator; they combine at the end.
  std::vector<LtHash> partial(static_cast<size_t>(std::max(threads, 1)));
  std::vector<uint64_t> counts(partial.size(), 0);
  std::atomic<uint64_t> done{0};
  RETURN_IF_ERROR(ParallelFor(ranges.size(), threads, [&](size_t i, int worker) {
    const Range& r = ranges[i];
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.fill_cache = false;
    ro.verify_checksums = true;
    rocksdb::Slice upper(r.hi);
    if (!r.hi.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(ro, db.cf(r.cf)));
    uint64_t& count = counts[worker];
    for (it->Seek(r.lo); it->Valid(); it->Next()) {
      partial[worker].Add(r.cf, std::string_view(it->key().data(), it->key().size()),
                          std::string_view(it->value().data(), it->value().size()));
      if (++count % 4096 == 0 && on_entries) on_entries(done.fetch_add(4096) + 4096);
    }
    return FromRocks(it->status(), "scanning " + std::string(r.cf));
  }));
  ScanResult result;
  for (size_t w = 0; w < partial.size(); ++w) {
    result.accumulator.Combine(partial[w]);
    result.entries += counts[w];
  }
  if (on_entries) on_entries(result.entries);
  return result;
}

}  // namespace ailee::state::internal
