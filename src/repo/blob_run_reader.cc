#include "repo/blob_run_reader.h"

#include <cstring>

namespace ailee::repo {

BlobRun PlanBlobRun(const std::vector<std::optional<BlobLocation>>& locations, size_t first,
                    const BlobReadOptions& options) {
  const BlobLocation& start = *locations[first];
  BlobRun run{start.pack, start.offset, start.length, first, 1};
  for (size_t j = first + 1; j < locations.size(); ++j) {
    const auto& l = locations[j];
    if (!l || l->pack != run.pack) break;
    const uint64_t end = run.offset + run.length;
    // Only forward: a blob stored earlier (or the same blob again) starts a new run.
    if (l->offset < end || l->offset - end > options.max_gap) break;
    const uint64_t length = l->offset + l->length - run.offset;
    if (length > options.max_bytes) break;
    run.length = length;
    ++run.count;
  }
  return run;
}

BlobRunReader::BlobRunReader(const Repository& repo, const std::vector<Id>& blobs, const BlobReadOptions& options,
                             BlobRunBuffers* buffers)
    : repo_(repo), blobs_(blobs), options_(options), buffers_(buffers) {
  locations_.reserve(blobs.size());
  for (const Id& id : blobs) locations_.push_back(repo.index().Find(id));
}

Status BlobRunReader::Fetch(const BlobRun& run) {
  buffers_->run.Reserve(run.length);
  ++reads_;
  Status st = repo_.store().GetRangeInto(PackKey(run.pack), run.offset, run.length, buffers_->run.data());
  if (st.ok()) return st;
  // The index says these bytes exist (as in Repository::ReadBlob).
  if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound) st = DataLoss(st.message());
  return st.WithContext("read blobs " + std::to_string(run.first + 1) + " to " + std::to_string(run.first + run.count) +
                        " of " + std::to_string(blobs_.size()) + " from pack " + IdHex(run.pack));
}

Result<std::string_view> BlobRunReader::Decode(size_t index) {
  const BlobLocation& l = *locations_[index];
  char* stored = buffers_->blob.StoredArea(l.length);
  std::memcpy(stored, buffers_->run.data() + (l.offset - run_.offset), l.length);
  auto plain = DecodeBlobInPlace(repo_.master_key(), blobs_[index], stored, l.length, &buffers_->blob);
  if (!plain.ok()) return plain.status().WithContext("pack " + IdHex(l.pack));
  return plain;
}

Result<std::string_view> BlobRunReader::Next() {
  if (done()) return Internal("BlobRunReader: read past the last of " + std::to_string(blobs_.size()) + " blobs");
  const size_t i = next_++;
  const bool in_run = run_.count > 0 && i >= run_.first && i < run_.first + run_.count;
  if (!locations_[i] || (in_run && run_failed_)) return repo_.ReadBlob(blobs_[i], &buffers_->blob);
  if (!in_run) {
    run_ = PlanBlobRun(locations_, i, options_);
    run_failed_ = false;
    if (run_.count == 1) {
      // Alone: straight into the blob's buffer, no copy.
      ++reads_;
      return repo_.ReadBlob(blobs_[i], &buffers_->blob);
    }
    Status st = Fetch(run_);
    if (!st.ok()) {
      if (st.code() == StatusCode::kUnavailable) {
        run_.count = 0;  // the next blob plans a new run (and tries the store again)
        return st;
      }
      // Damage somewhere in the run: each blob answers for itself.
      run_failed_ = true;
      return repo_.ReadBlob(blobs_[i], &buffers_->blob);
    }
  }
  return Decode(i);
}

}  // namespace ailee::repo
