// Files a key operation created, removed again unless it succeeds: a call
// that fails part way leaves only what was there before, so it can simply
// be rerun. Writes go through fs::WriteFileExclusive (temporary name, fsync,
// link(2) into place, directory fsync): never replacing anything, and never
// writing through a symlink or into a FIFO planted at the name.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"

namespace ailee::keys {

class CreatedFiles {
 public:
  CreatedFiles() = default;
  CreatedFiles(const CreatedFiles&) = delete;
  CreatedFiles& operator=(const CreatedFiles&) = delete;
  ~CreatedFiles() {
    if (committed_) return;
    for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) ::unlink(it->c_str());
  }
  Status Write(const std::string& path, std::string_view data, unsigned mode) {
    Status st = fs::WriteFileExclusive(path, data, mode);
    if (st.code() == StatusCode::kAlreadyExists) return AlreadyExists(path + " already exists; refusing to overwrite it");
    RETURN_IF_ERROR(st);
    paths_.push_back(path);
    return Status::Ok();
  }
  void Commit() { committed_ = true; }

 private:
  std::vector<std::string> paths_;
  bool committed_ = false;
};

}  // namespace ailee::keys
