// Reading one file of a snapshot back: its blobs in file order, joined and
// checked against the file's recorded SHA-256 and size.
//
// Each blob is authenticated on its own (Repository::ReadBlob: AEAD and id
// check), which proves the bytes are some blob of this repository, not that
// they belong to this file: a snapshot whose chunk list was spliced (another
// file's blob, a reordered, truncated or extended list) only shows in the
// whole file's hash. Every reader of a file's content goes through here so
// that check is never forgotten.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::repo {

// Hands each blob of `entry` (a kFile entry) to `sink` in order, then checks
// the joined content's SHA-256 and size against the entry. The sink sees
// bytes before the file is proven: it writes to a temporary name (or memory)
// and commits only when this returns Ok. Errors: kDataLoss naming
// entry.path when a blob is missing or the content does not match; the
// sink's own error as it returned it; kInvalidArgument for a non-file entry.
Status StreamFileBlobs(const Repository& repo, const FileEntry& entry,
                       const std::function<Status(std::string_view bytes)>& sink);

// The whole file in memory, checked as above (small files: configs, logs).
Result<std::string> ReadFileBlobs(const Repository& repo, const FileEntry& entry);

}  // namespace ailee::repo
