// BackupTree: stores a directory tree as a new snapshot.
//
// What it does, in order:
//   1. takes a shared lock (fails with kAborted while a prune holds the
//      exclusive one), reloads the index and indexes packs a crashed or
//      concurrent backup stored without an index (so their blobs are reused);
//   2. walks `source_dir` (files, directories, symlinks; other types are
//      skipped), and for every regular file either reuses the parent
//      snapshot's entry without reading the file or reads it. Reuse needs
//      proof that the file is the one the parent read, never path, size and
//      mtime alone: the same device, inode, birth time, nanosecond mtime,
//      size, ctime (unless options.compare_ctime is off) and
//      options.file_identity, recorded in a parent whose file_identity
//      version this build knows; or a content hash the caller vouches for
//      (options.known_sha256). options.full reads every file. The rule is in
//      docs/repository-format.md, section 8;
//   3. read data flows through a bounded pipeline: the calling thread reads
//      and hashes files; `workers` threads compute blob ids, skip blobs the
//      repository already has and compress the rest where that pays (as
//      options.file_compression says for the file, else as a sample of each
//      chunk says); a
//      packer thread encrypts them straight into the current pack;
//      options.uploads uploader threads store the finished packs, several
//      at once (while the next one is built), and an index file naming
//      16 stored packs as they complete, and the rest at the end;
//   4. writes the snapshot last, after every uploader has returned and every
//      pack and index file is durable. A pack upload that fails (after the
//      store's retries) fails the backup with the store's error naming the
//      pack; no snapshot is written, and the packs stored so far are adopted
//      by the next backup (step 1) or removed by prune.
//
// Crash safety: killed at any point, the repository stays valid: packs
// without an index are picked up by the next backup (step 1) or removed by
// prune; no snapshot refers to data that is not stored. Two backups may run
// at once; they may store a blob twice, which is harmless.
// Memory: at most (4 * workers + 10) * chunk_size + (uploads + 2) * pack_size
// (chunks in flight with their zstd frames; a pack being built, one queued,
// `uploads` being stored). With the defaults on S3 (2 workers, 4 MiB chunks,
// 4 uploads of 32 MiB packs): 72 + 192 = 264 MiB.
// Not reentrant on one Repository from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "repo/compression_choice.h"
#include "repo/lock.h"
#include "repo/repository.h"

namespace ailee::repo {

struct Snapshot;  // repo/snapshot.h

struct BackupProgress {
  uint64_t bytes_done = 0;   // read or skipped as unchanged
  uint64_t bytes_total = 0;
  uint64_t files_done = 0;
  uint64_t files_total = 0;
};

struct BackupOptions {
  std::string kind = "state";
  std::vector<std::string> tags;
  nlohmann::json meta = nlohmann::json::object();
  // Snapshot to back up incrementally from: an id, a unique prefix, or
  // "latest" (the newest snapshot of the same kind and host; none yet is
  // fine: the backup is then a full one). Empty: no parent.
  std::string parent;
  // The parent already loaded by the caller (who listed the snapshots to
  // choose it): used as it is instead of `parent`, which is not looked up
  // again. Its files are reused only as `parent`'s would be (their chunks
  // must be in the index as read under the backup's lock).
  std::shared_ptr<const Snapshot> parent_snapshot;
  bool full = false;   // re-read and re-hash every file
  // False when the source's files get a new ctime for every backup without
  // changing (a RocksDB checkpoint hard-links its table files anew each
  // time); file_identity should then vouch for the files that matter.
  bool compare_ctime = true;
  // The identity of the file at `path` (absolute), recorded in its entry and
  // compared with the parent's: e.g. a RocksDB table file's unique id. An
  // empty string: none. An error other than kNotFound (the file vanished:
  // left out) only makes the file ineligible for reuse.
  std::function<Result<std::string>(const std::string& path)> file_identity;
  // The SHA-256 (hex) of the file at `rel_path` when the caller knows it
  // (it wrote the file itself), else empty. A parent entry with that content
  // and size is reused, whatever the file's identity.
  std::function<std::string(const std::string& rel_path)> known_sha256;
  // Whether compressing the file at `path` (absolute) pays, when the
  // caller knows from its format (a RocksDB table file records how its
  // blocks are compressed): kStoreRaw and kCompress spare every chunk's
  // sample. Unset, or an error (the file is then read as usual and may
  // fail there): each chunk's sample decides (repo/compression_choice.h).
  std::function<Result<CompressionChoice>(const std::string& path)> file_compression;
  std::string host;    // empty: this host's name
  // Called from the reading thread; keep it cheap.
  std::function<void(const BackupProgress&)> progress;
  // Returns true for relative paths to leave out (a skipped directory is not descended).
  std::function<bool(const std::string& rel_path)> skip;
  uint64_t pack_size = 32ull << 20;  // target pack size
  int workers = 2;
  // Packs stored at once. 0: what the store suggests
  // (StoreFeatures::puts_in_flight: 1 for a local directory, where one
  // upload already keeps the disk busy; backup.s3.parallel_uploads, default
  // 4, on S3, where each upload mostly waits for the server).
  int uploads = 0;
  int zstd_level = 2;                // 0 disables compression (see blob.cc for why 2)
  LockOptions lock;
};

struct BackupStats {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t files_unchanged = 0;  // reused from the parent without reading
  uint64_t bytes_total = 0;      // sum of file sizes in the snapshot
  uint64_t bytes_read = 0;       // bytes actually read from disk
  uint64_t bytes_new = 0;        // plaintext bytes of newly stored blobs
  uint64_t bytes_stored = 0;     // bytes written in packs (after compression/encryption)
  uint64_t blobs_new = 0;
  uint64_t packs_written = 0;
  uint64_t packs_recovered = 0;  // unindexed packs from an earlier crash, now indexed
  int64_t duration_ms = 0;
};

struct BackupResult {
  Id snapshot_id{};
  BackupStats stats;
};

Result<BackupResult> BackupTree(Repository& repo, const std::string& source_dir, const BackupOptions& options);

}  // namespace ailee::repo
