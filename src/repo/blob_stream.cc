#include "repo/blob_stream.h"

#include "crypto/hash.h"

namespace ailee::repo {

Status StreamFileBlobs(const Repository& repo, const FileEntry& entry,
                       const std::function<Status(std::string_view bytes)>& sink) {
  if (entry.type != FileEntry::Type::kFile) return InvalidArgument(entry.path + " is not a regular file in the snapshot");
  crypto::Sha256Stream sha;
  uint64_t size = 0;
  BlobBuffers buffers;
  for (size_t i = 0; i < entry.chunks.size(); ++i) {
    auto blob = repo.ReadBlob(entry.chunks[i], &buffers);
    if (!blob.ok()) {
      // A blob the index does not know is as lost as one that is damaged.
      Status st = blob.status().code() == StatusCode::kNotFound ? DataLoss(blob.status().message()) : blob.status();
      return st.WithContext("reading blob " + std::to_string(i + 1) + " of " + std::to_string(entry.chunks.size()) + " of " +
                            entry.path);
    }
    sha.Update(*blob);
    size += blob->size();
    RETURN_IF_ERROR(sink(*blob));
  }
  ASSIGN_OR_RETURN(crypto::Hash256 digest, sha.Finish());
  std::string got = crypto::HashToHex(digest);
  if (got != entry.sha256 || size != entry.size) {
    return DataLoss(entry.path + ": its " + std::to_string(entry.chunks.size()) + " blobs join to " + std::to_string(size) +
                    " bytes with SHA-256 " + got + "; the snapshot records " + std::to_string(entry.size) + " bytes and " +
                    (entry.sha256.empty() ? std::string("no SHA-256") : entry.sha256));
  }
  return Status::Ok();
}

Result<std::string> ReadFileBlobs(const Repository& repo, const FileEntry& entry) {
  std::string data;
  RETURN_IF_ERROR(StreamFileBlobs(repo, entry, [&data](std::string_view bytes) {
    data.append(bytes);
    return Status::Ok();
  }));
  return data;
}

}  // namespace ailee::repo
