// Scratch directories that held secrets (a restored signer key, a config
// snapshot's decrypted secrets): every file in them is overwritten before it
// is unlinked, on every way out, and a killed run's are shredded by the next.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::ops {

// Overwrites the regular file at `path` with zeros, syncs it and unlinks it
// (any other entry but a directory is unlinked, never followed). A missing
// file is not an error; a directory is left alone.
Status ShredFile(const std::string& path);

// Shreds every file below `dir`, then removes it. A missing `dir` is fine.
Status ShredTree(const std::string& dir);

// A scratch directory, shredded and removed when this goes (or by Remove).
class ShreddedScratch {
 public:
  explicit ShreddedScratch(std::string path) : path_(std::move(path)) {}
  ShreddedScratch(const ShreddedScratch&) = delete;
  ShreddedScratch& operator=(const ShreddedScratch&) = delete;
  ~ShreddedScratch() { (void)Remove(); }
  const std::string& path() const { return path_; }
  Status Remove() { return ShredTree(path_); }

 private:
  std::string path_;
};

// Shreds the entries of `parent` named "<prefix><owner tag>..." (base/scratch.h)
// whose owner process is certainly gone: a killed run's scratch. Best effort.
void ShredAbandoned(const std::string& parent, std::string_view prefix);

}  // namespace ailee::ops
