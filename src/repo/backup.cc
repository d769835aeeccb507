#include "repo/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "base/aligned_buffer.h"
#include "base/fs.h"
#include "repo/key_slots.h"
#include "repo/pack.h"
#include "repo/snapshot.h"

namespace ailee::repo {
namespace {

// An index file is written every this many packs, so a killed backup loses little.
constexpr size_t kPacksBetweenIndexFiles = 16;

// A FIFO with a capacity; Close() wakes everyone and makes Push fail.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  bool Push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

struct FileChunks {
  std::mutex mu;
  std::vector<Id> ids;
};

// The buffers one chunk travels in, recycled so that the steady state
// allocates (and page-faults) nothing per chunk.
struct ChunkBuffers {
  AlignedBuffer data;   // the plaintext (capacity chunk_size)
  AlignedBuffer frame;  // its zstd frame, when compression pays
};

class BufferPool {
 public:
  explicit BufferPool(size_t chunk_size) : chunk_size_(chunk_size) {}
  ChunkBuffers Take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        ChunkBuffers b = std::move(free_.back());
        free_.pop_back();
        return b;
      }
    }
    return ChunkBuffers{AlignedBuffer(chunk_size_), AlignedBuffer()};
  }
  void Give(ChunkBuffers b) {
    std::lock_guard lock(mu_);
    if (free_.size() < 16) free_.push_back(std::move(b));
  }

 private:
  const size_t chunk_size_;
  std::mutex mu_;
  std::vector<ChunkBuffers> free_;
};

struct ChunkJob {
  FileChunks* file;
  size_t index;
  ChunkBuffers buffers;
  size_t length;  // plaintext bytes at buffers.data
  CompressionChoice compression;
};

// A new blob on its way into a pack: its body points into `buffers`.
struct BlobJob {
  Id id;
  ChunkBuffers buffers;
  BlobBody body;
  uint32_t raw_length;
};

// Shared state of one backup run. Stages and threads:
//   reader (the caller): reads and hashes files        -> chunks_
//   `workers` threads: blob ids, dedup, compression     -> blobs_
//   packer: seals blobs straight into the pack, hashing -> packs_
//   `uploads` uploaders: each stores one pack at a time; every 16 stored
//   packs, one of them writes the index file naming them.
// Bounded queues between the stages keep every core busy and several packs
// on their way to the store while the next one is built (on S3 each upload
// spends most of its time waiting for the server), with a fixed amount of
// memory.
class Pipeline {
 public:
  Pipeline(Repository& repo, const BackupOptions& options, int uploads)
      : repo_(repo), options_(options), uploads_(uploads), chunks_(static_cast<size_t>(options.workers) + 1),
        blobs_(2), packs_(1), buffers_(repo.config().chunk_size) {}

  void Start() {
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
    packer_ = std::thread([this] { PackerLoop(); });
    for (int i = 0; i < uploads_; ++i) uploaders_.emplace_back([this] { UploaderLoop(); });
  }

  // Returns false when the pipeline failed (see status()).
  bool Submit(ChunkJob job) { return !failed_.load() && chunks_.Push(std::move(job)); }
  ChunkBuffers TakeBuffers() { return buffers_.Take(); }

  // Drains every stage, stores the last pack and writes the last index file.
  Status Finish() {
    chunks_.Close();
    for (auto& w : workers_) w.join();
    blobs_.Close();
    packer_.join();
    packs_.Close();
    for (auto& u : uploaders_) u.join();
    if (!failed_) {
      Status st = FlushIndex();
      if (!st.ok()) Fail(st);
    }
    return status();
  }

  Status status() {
    std::lock_guard lock(mu_);
    return first_error_;
  }
  bool failed() const { return failed_.load(); }

  std::atomic<uint64_t> bytes_new{0}, bytes_stored{0}, blobs_new{0}, packs_written{0};

 private:
  void Fail(Status st) {
    {
      std::lock_guard lock(mu_);
      if (first_error_.ok()) first_error_ = std::move(st);
    }
    failed_ = true;
    chunks_.Close();
    blobs_.Close();
    packs_.Close();
  }

  // True if this run should store the blob (nobody has it yet).
  bool Claim(const Id& id) {
    if (repo_.index().Has(id)) return false;
    std::lock_guard lock(mu_);
    return claimed_.insert(id).second;
  }

  void WorkerLoop() {
    while (auto job = chunks_.Pop()) {
      std::string_view data(job->buffers.data.data(), job->length);
      Id id = ComputeBlobId(repo_.master_key(), data);
      {
        std::lock_guard lock(job->file->mu);
        job->file->ids[job->index] = id;
      }
      if (!Claim(id)) {
        buffers_.Give(std::move(job->buffers));
        continue;
      }
      auto body = ChooseBlobBodyAs(job->compression, data, options_.zstd_level, &job->buffers.frame);
      if (!body.ok()) return Fail(body.status());
      bytes_new += job->length;
      ++blobs_new;
      if (!blobs_.Push(BlobJob{id, std::move(job->buffers), *body, static_cast<uint32_t>(job->length)})) return;
    }
  }

  void PackerLoop() {
    const uint64_t reserve = options_.pack_size + StoredBlobSize(repo_.config().chunk_size) + (1 << 20);
    PackBuilder pack;
    while (auto blob = blobs_.Pop()) {
      if (pack.count() == 0) {
        if (auto spare = TakeSparePack()) pack.Recycle(std::move(*spare));
        pack.Reserve(reserve);
      }
      Status st = pack.Add(repo_.master_key(), blob->id, blob->body, blob->raw_length);
      buffers_.Give(std::move(blob->buffers));
      if (!st.ok()) return Fail(st);
      if (pack.size() >= options_.pack_size && !FinishPack(pack)) return;
    }
    if (!failed_ && pack.count() > 0) FinishPack(pack);
  }

  bool FinishPack(PackBuilder& pack) {
    auto finished = pack.Finish(repo_.master_key());
    if (!finished.ok()) {
      Fail(finished.status());
      return false;
    }
    return packs_.Push(std::move(finished).value());
  }

  void UploaderLoop() {
    while (auto pack = packs_.Pop()) {
      // After a failure nothing more is stored: the backup is lost anyway,
      // and what is stored without an index is the next backup's to adopt.
      if (failed_) return;
      Status st = repo_.store().Put(PackKey(pack->id), pack->bytes());
      if (!st.ok()) return Fail(st);
      bytes_stored += pack->size;
      ++packs_written;
      PackRecord rec{pack->size, std::move(pack->blobs)};
      repo_.AddUnfiledPack(pack->id, rec);
      std::map<Id, PackRecord> full;
      {
        std::lock_guard lock(mu_);
        pending_index_[pack->id] = std::move(rec);
        if (pending_index_.size() >= kPacksBetweenIndexFiles) full.swap(pending_index_);
      }
      GiveSparePack(std::move(pack->buffer));
      if (!full.empty()) {
        st = repo_.WriteIndex(full).status();
        if (!st.ok()) return Fail(st);
      }
    }
  }

  // Only packs already stored may be listed: an index file names durable
  // packs. Called once every uploader has returned.
  Status FlushIndex() {
    if (pending_index_.empty()) return Status::Ok();
    RETURN_IF_ERROR(repo_.WriteIndex(pending_index_).status());
    pending_index_.clear();
    return Status::Ok();
  }

  std::optional<AlignedBuffer> TakeSparePack() {
    std::lock_guard lock(mu_);
    if (spare_packs_.empty()) return std::nullopt;
    AlignedBuffer b = std::move(spare_packs_.back());
    spare_packs_.pop_back();
    return b;
  }
  void GiveSparePack(AlignedBuffer b) {
    std::lock_guard lock(mu_);
    if (spare_packs_.size() < static_cast<size_t>(uploads_) + 1) spare_packs_.push_back(std::move(b));
  }

  Repository& repo_;
  const BackupOptions& options_;
  const int uploads_;
  BoundedQueue<ChunkJob> chunks_;
  BoundedQueue<BlobJob> blobs_;
  BoundedQueue<PackBuilder::Finished> packs_;
  BufferPool buffers_;
  std::vector<std::thread> workers_;
  std::thread packer_;
  std::vector<std::thread> uploaders_;
  std::mutex mu_;
  Status first_error_;
  std::atomic<bool> failed_{false};
  std::unordered_set<Id, IdHash> claimed_;
  std::vector<AlignedBuffer> spare_packs_;  // stored packs' buffers, for the packer to reuse
  std::map<Id, PackRecord> pending_index_;  // stored, not yet in an index file (mu_)
};

int64_t Nanos(const statx_timestamp& t) { return t.tv_sec * 1000000000 + t.tv_nsec; }

// Whether `now` (just walked) is provably the file `old` describes, so that
// its chunks can be taken without reading it (docs/repository-format.md,
// section 8). `parent_identities`: the parent records identities this build
// knows; `known_sha256`: the content hash the caller vouches for, or empty.
bool SameFile(const FileEntry& old, const FileEntry& now, bool parent_identities, const std::string& known_sha256,
              const BackupOptions& options) {
  if (old.type != FileEntry::Type::kFile || old.size != now.size) return false;
  if (!known_sha256.empty()) return old.sha256 == known_sha256;
  return parent_identities && old.mtime_ns == now.mtime_ns && old.dev == now.dev && old.inode == now.inode &&
         old.btime_ns == now.btime_ns && (!options.compare_ctime || old.ctime_ns == now.ctime_ns) &&
         old.identity == now.identity;
}

Status Walk(const std::string& root, const std::string& rel, const BackupOptions& options,
            std::vector<FileEntry>* out) {
  std::string dir = rel.empty() ? root : fs::JoinPath(root, rel);
  ASSIGN_OR_RETURN(auto names, fs::ListDir(dir));
  for (const auto& name : names) {
    std::string child_rel = rel.empty() ? name : rel + "/" + name;
    if (options.skip && options.skip(child_rel)) continue;
    std::string full = fs::JoinPath(root, child_rel);
    struct statx sb {};
    if (::statx(AT_FDCWD, full.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sb) != 0) {
      if (errno == ENOENT) continue;  // vanished while walking
      return ErrnoStatus("statx", full, errno);
    }
    FileEntry e;
    e.path = child_rel;
    e.mode = sb.stx_mode & 07777;
    e.uid = sb.stx_uid;
    e.gid = sb.stx_gid;
    e.mtime_ns = Nanos(sb.stx_mtime);
    e.inode = sb.stx_ino;
    if (S_ISDIR(sb.stx_mode)) {
      e.type = FileEntry::Type::kDir;
      out->push_back(std::move(e));
      RETURN_IF_ERROR(Walk(root, child_rel, options, out));
    } else if (S_ISREG(sb.stx_mode)) {
      e.type = FileEntry::Type::kFile;
      e.size = sb.stx_size;
      e.dev = makedev(sb.stx_dev_major, sb.stx_dev_minor);
      e.btime_ns = (sb.stx_mask & STATX_BTIME) ? Nanos(sb.stx_btime) : 0;
      e.ctime_ns = Nanos(sb.stx_ctime);
      out->push_back(std::move(e));
    } else if (S_ISLNK(sb.stx_mode)) {
      e.type = FileEntry::Type::kSymlink;
      std::string target(static_cast<size_t>(sb.stx_size) + 1, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoStatus("readlink", full, errno);
      target.resize(static_cast<size_t>(n));
      e.link_target = std::move(target);
      out->push_back(std::move(e));
    }
  }
  return Status::Ok();
}

// How the chunks of the file at `path` are to be compressed.
CompressionChoice FileCompressionChoice(const std::string& path, const BackupOptions& options) {
  if (!options.file_compression) return CompressionChoice::kBySample;
  auto choice = options.file_compression(path);
  return choice.ok() ? *choice : CompressionChoice::kBySample;
}

// Reads one file into chunks; fills entry size and sha256.
Status ReadFile(const std::string& path, uint64_t chunk_size, FileEntry* entry, FileChunks* chunks,
                Pipeline* pipeline, BackupProgress* progress, BackupStats* stats, const BackupOptions& options) {
  const CompressionChoice compression = FileCompressionChoice(path, options);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  crypto::Sha256Stream sha;
  uint64_t total = 0;
  size_t index = 0;
  Status st;
  for (;;) {
    // Ask for the next two chunks now, so the disk reads them while this
    // one is hashed and handed on, instead of each read() waiting for it.
    ::posix_fadvise(fd, static_cast<off_t>(total + chunk_size), static_cast<off_t>(2 * chunk_size), POSIX_FADV_WILLNEED);
    ChunkBuffers buf = pipeline->TakeBuffers();
    char* data = buf.data.data();
    size_t got = 0;
    while (got < chunk_size) {
      ssize_t n = ::read(fd, data + got, chunk_size - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        st = ErrnoStatus("read", path, errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    if (!st.ok() || got == 0) break;
    sha.Update(std::string_view(data, got));
    total += got;
    {
      std::lock_guard lock(chunks->mu);
      chunks->ids.emplace_back();
    }
    progress->bytes_done += got;
    stats->bytes_read += got;
    if (!pipeline->Submit(ChunkJob{chunks, index++, std::move(buf), got, compression})) {
      st = pipeline->status();
      break;
    }
    if (options.progress) options.progress(*progress);
    if (got < chunk_size) break;
  }
  ::close(fd);
  RETURN_IF_ERROR(st);
  entry->size = total;
  ASSIGN_OR_RETURN(crypto::Hash256 hash, sha.Finish());
  entry->sha256 = crypto::HashToHex(hash);
  return Status::Ok();
}

}  // namespace

Result<BackupResult> BackupTree(Repository& repo, const std::string& source_dir, const BackupOptions& options) {
  const int64_t start_wall = Clock::Real().MonotonicNanos();
  if (!fs::IsDirectory(source_dir)) return NotFound("backup source " + source_dir + " is not a directory");
  if (options.workers < 1 || options.pack_size < 1 || options.uploads < 0) {
    return InvalidArgument("workers and pack_size must be positive, uploads not negative");
  }
  const int uploads = options.uploads > 0 ? options.uploads : std::max(1, repo.store().Features().puts_in_flight);
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo.shared_store(), repo.clock(), false, options.lock));

  BackupResult result;
  BackupStats& stats = result.stats;
  // The index as stored now, not as it was when this Repository was opened:
  // a prune by another process since may have deleted packs that the
  // in-memory index still lists, and deduplicating against those would lose
  // data (RefreshIndex reloads from scratch then, and reads only new index
  // files otherwise). Under our lock no prune can start, so this view stays
  // valid.
  RETURN_IF_ERROR(repo.RefreshIndex().status());
  ASSIGN_OR_RETURN(stats.packs_recovered, repo.IndexUnindexedPacks());

  std::map<std::string, const FileEntry*> previous;
  std::shared_ptr<const Snapshot> parent = options.parent_snapshot;
  const std::string host = options.host.empty() ? LocalHostname() : options.host;
  if (!parent && !options.parent.empty()) {
    auto found = FindSnapshot(repo, options.parent, SnapshotFilter{options.kind, host});
    if (!found.ok() && !(options.parent == "latest" && found.status().code() == StatusCode::kNotFound)) {
      return found.status().WithContext("parent of the backup");
    }
    if (found.ok()) parent = std::make_shared<const Snapshot>(std::move(found).value());
  }
  if (parent) {
    for (const auto& f : parent->files) previous[f.path] = &f;
  }
  const bool parent_identities = parent && parent->file_identity == kFileIdentityVersion;

  Snapshot snap;
  snap.time_ms = repo.clock().NowMillis();
  snap.host = host;
  snap.user = LocalUsername();
  snap.kind = options.kind;
  snap.tags = options.tags;
  snap.meta = options.meta;
  snap.file_identity = kFileIdentityVersion;
  if (parent) snap.parent = parent->id_hex();
  RETURN_IF_ERROR(Walk(source_dir, "", options, &snap.files));

  BackupProgress progress;
  for (const auto& f : snap.files) {
    if (f.type != FileEntry::Type::kFile) continue;
    ++progress.files_total;
    progress.bytes_total += f.size;
  }

  Pipeline pipeline(repo, options, uploads);
  pipeline.Start();
  std::vector<std::unique_ptr<FileChunks>> chunk_lists(snap.files.size());
  Status read_status;
  for (size_t i = 0; i < snap.files.size() && read_status.ok(); ++i) {
    FileEntry& e = snap.files[i];
    if (e.type == FileEntry::Type::kDir) ++stats.dirs;
    if (e.type != FileEntry::Type::kFile) continue;
    ++stats.files;
    const std::string path = fs::JoinPath(source_dir, e.path);
    bool identified = true;
    if (options.file_identity) {
      auto identity = options.file_identity(path);
      if (identity.ok()) {
        e.identity = std::move(identity).value();
      } else if (identity.status().code() == StatusCode::kNotFound) {
        e.path.clear();  // deleted since the walk: left out, as below
        continue;
      } else {
        identified = false;  // backed up all the same, but never taken from the parent
      }
    }
    if (!options.full && identified) {
      auto it = previous.find(e.path);
      if (it != previous.end()) {
        const FileEntry& old = *it->second;
        bool same = SameFile(old, e, parent_identities, options.known_sha256 ? options.known_sha256(e.path) : "", options);
        for (size_t c = 0; same && c < old.chunks.size(); ++c) same = repo.index().Has(old.chunks[c]);
        if (same) {
          e.sha256 = old.sha256;
          e.chunks = old.chunks;
          ++stats.files_unchanged;
          ++progress.files_done;
          progress.bytes_done += e.size;
          if (options.progress) options.progress(progress);
          continue;
        }
      }
    }
    chunk_lists[i] = std::make_unique<FileChunks>();
    read_status = ReadFile(path, repo.config().chunk_size, &e, chunk_lists[i].get(),
                           &pipeline, &progress, &stats, options);
    if (!read_status.ok() && read_status.code() == StatusCode::kNotFound && !pipeline.failed()) {
      // Deleted between walk and read: leave it out, as if it never existed.
      read_status = Status::Ok();
      e.path.clear();
      continue;
    }
    ++progress.files_done;
  }
  Status pipe_status = pipeline.Finish();
  if (!pipe_status.ok()) return pipe_status.WithContext("backup of " + source_dir + " to " + repo.Location());
  if (!read_status.ok()) return read_status.WithContext("backup of " + source_dir);

  std::vector<FileEntry> files;
  files.reserve(snap.files.size());
  for (size_t i = 0; i < snap.files.size(); ++i) {
    FileEntry& e = snap.files[i];
    if (e.path.empty()) continue;
    if (chunk_lists[i]) e.chunks = std::move(chunk_lists[i]->ids);
    if (e.type == FileEntry::Type::kFile) snap.total_bytes += e.size;
    files.push_back(std::move(e));
  }
  snap.files = std::move(files);
  stats.bytes_total = snap.total_bytes;
  stats.bytes_new = pipeline.bytes_new;
  stats.bytes_stored = pipeline.bytes_stored;
  stats.blobs_new = pipeline.blobs_new;
  stats.packs_written = pipeline.packs_written;

  // Every pack and index file is durable now; the snapshot is the commit point.
  ASSIGN_OR_RETURN(result.snapshot_id, SaveSnapshot(repo, snap));
  RETURN_IF_ERROR(lock->Release());
  stats.duration_ms = (Clock::Real().MonotonicNanos() - start_wall) / 1000000;
  return result;
}

}  // namespace ailee::repo
