// Memory that holds secrets: locked against swapping where the OS allows and
// wiped when released. Use for passphrases, master keys and private keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::crypto {

class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(size_t n);
  explicit SecureBytes(std::string_view data);
  SecureBytes(const SecureBytes& other);
  SecureBytes& operator=(const SecureBytes& other);
  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  ~SecureBytes();

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  bool operator==(const SecureBytes& other) const;

 private:
  void Release();
  char* data_ = nullptr;
  size_t size_ = 0;
};

// Overwrites a buffer in a way the compiler cannot elide.
void Wipe(void* p, size_t n);
inline void Wipe(std::string& s) { Wipe(s.data(), s.size()); s.clear(); }

inline constexpr size_t kMaxSecretFileSize = 1 << 20;

// Reads a whole small (<= 1 MiB) regular file straight into locked memory,
// so no unwiped copy of a key or passphrase is left in ordinary heap.
Result<SecureBytes> ReadSecretFile(const std::string& path);

// Disables core dumps for this process (secrets must never reach a core file).
void DisableCoreDumps();

}  // namespace ailee::crypto
