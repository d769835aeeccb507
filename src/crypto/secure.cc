#include "crypto/secure.h"

#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "crypto/sodium_init.h"

namespace ailee::crypto {

SecureBytes::SecureBytes(size_t n) {
  EnsureSodium();
  if (n == 0) return;
  data_ = static_cast<char*>(sodium_malloc(n));  // guarded pages, mlock'ed
  if (!data_) throw std::bad_alloc();
  size_ = n;
  std::memset(data_, 0, n);
}

SecureBytes::SecureBytes(std::string_view d) : SecureBytes(d.size()) {
  if (!d.empty()) std::memcpy(data_, d.data(), d.size());
}

SecureBytes::SecureBytes(const SecureBytes& other) : SecureBytes(other.view()) {}

SecureBytes& SecureBytes::operator=(const SecureBytes& other) {
  if (this != &other) {
    SecureBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecureBytes::SecureBytes(SecureBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecureBytes::~SecureBytes() { Release(); }

void SecureBytes::Release() {
  if (data_) sodium_free(data_);  // wipes before unmapping
  data_ = nullptr;
  size_ = 0;
}

bool SecureBytes::operator==(const SecureBytes& other) const {
  return size_ == other.size_ && (size_ == 0 || sodium_memcmp(data_, other.data_, size_) == 0);
}

void Wipe(void* p, size_t n) {
  if (n) sodium_memzero(p, n);
}

Result<SecureBytes> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, e);
  }
  if (!S_ISREG(sb.st_mode) || static_cast<size_t>(sb.st_size) > kMaxSecretFileSize) {
    ::close(fd);
    return InvalidArgument(path + " is not a regular file of at most 1 MiB");
  }
  SecureBytes buf(static_cast<size_t>(sb.st_size) + 1);
  size_t len = 0;
  for (;;) {
    if (len == buf.size()) {
      ::close(fd);
      return Aborted(path + " grew while being read");
    }
    ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return ErrnoStatus("read", path, e);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  return SecureBytes(std::string_view(buf.data(), len));
}

void DisableCoreDumps() {
  struct rlimit rl {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace ailee::crypto
