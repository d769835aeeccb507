#include "repo/key_file.h"

#include <algorithm>

#include "base/fs.h"
#include "repo/key_slots.h"

namespace ailee::repo {

Result<std::string> AddKeyFileSlot(Repository& repo, const std::string& path) {
  crypto::SecureBytes secret = NewKeyFile();
  crypto::SecureBytes line(secret.size() + 1);
  std::copy_n(secret.data(), secret.size(), line.data());
  line.data()[secret.size()] = '\n';
  RETURN_IF_ERROR(fs::WriteFileExclusive(path, line.view(), 0600).WithContext("write key file"));
  return repo.AddKeyFile(secret.view());
}

}  // namespace ailee::repo
