// BlobRunReader: reads a list of blobs (a file's chunks, in order) with as
// few requests as the pack layout allows.
//
// Consecutive blobs of the list that lie in one pack in increasing order,
// each starting at most `max_gap` bytes after the previous one ends, form a
// run, fetched with one ranged read of at most `max_bytes` (the gap bytes
// are read and dropped). A backup writes a file's chunks into a pack one
// after another, so a file typically costs one request per `max_bytes`
// instead of one per chunk: on S3 that is the per-request latency and the
// server's per-request work (a multipart object's manifest, for one) saved.
//
// Each blob is then decoded and checked as Repository::ReadBlob does (AEAD,
// decompression, id); errors are ReadBlob's: kDataLoss naming blob and pack
// for a blob the index lacks or whose bytes are damaged or missing, the
// store's error (kUnavailable after its retries) otherwise. When a run's
// read fails with anything but kUnavailable (a pack truncated or missing),
// its blobs are read one by one, so that every blob gets its own answer and
// the intact ones before the damage still read.
//
// Memory: the caller's BlobRunBuffers, one run of at most max_bytes plus
// one blob, reused from run to run and from reader to reader. Not
// thread-safe: one reader (and one BlobRunBuffers) per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/aligned_buffer.h"
#include "repo/index.h"
#include "repo/repository.h"

namespace ailee::repo {

struct BlobReadOptions {
  uint64_t max_bytes = 16ull << 20;  // largest ranged read; a single larger blob is read alone
  uint64_t max_gap = 256ull << 10;   // unwanted bytes worth reading to save a request
};

// One ranged read: blobs [first, first + count) of the list, all in `pack`.
struct BlobRun {
  Id pack{};
  uint64_t offset = 0;
  uint64_t length = 0;
  size_t first = 0;
  size_t count = 0;
};

// The run that starts at blobs[first] (whose location is locations[first]);
// `locations` holds nullopt for blobs the index lacks (never merged).
BlobRun PlanBlobRun(const std::vector<std::optional<BlobLocation>>& locations, size_t first,
                    const BlobReadOptions& options);

// A reader's buffers, kept by the caller (one per worker thread).
struct BlobRunBuffers {
  AlignedBuffer run;  // a run's stored bytes as read
  BlobBuffers blob;   // one blob, copied out of the run so its plaintext is 4 KiB-aligned
};

class BlobRunReader {
 public:
  // `repo`, `blobs` and `buffers` must outlive the reader.
  BlobRunReader(const Repository& repo, const std::vector<Id>& blobs, const BlobReadOptions& options,
                BlobRunBuffers* buffers);

  // The next blob's plaintext, in list order; valid until the next call.
  // After an error the reader moves on to the following blob.
  Result<std::string_view> Next();
  bool done() const { return next_ >= blobs_.size(); }
  // Ranged reads issued so far (for tests and statistics).
  uint64_t reads() const { return reads_; }

 private:
  Status Fetch(const BlobRun& run);
  Result<std::string_view> Decode(size_t index);

  const Repository& repo_;
  const std::vector<Id>& blobs_;
  const BlobReadOptions options_;
  std::vector<std::optional<BlobLocation>> locations_;
  size_t next_ = 0;
  BlobRun run_;              // the fetched run; next_ is inside it while run_.count > 0
  bool run_failed_ = false;  // read its blobs one by one
  BlobRunBuffers* buffers_;
  uint64_t reads_ = 0;
};

}  // namespace ailee::repo
