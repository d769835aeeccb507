// AlignedBuffer: a heap byte buffer aligned for direct I/O, for bulk data
// paths that reuse one buffer per thread instead of allocating (and
// zero-filling, and page-faulting) a fresh std::string per 4 MiB chunk.
// Its bytes are uninitialized until written. Buffers of 2 MiB and more are
// backed by transparent huge pages where the kernel offers them: filling a
// fresh 4 MiB buffer then takes 2 page faults instead of 1024, which on a
// virtual machine is most of the cost of touching new memory.
// Move-only; not thread-safe.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace ailee {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 4096;
  static constexpr size_t kHugePage = 2 << 20;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t capacity) { Reserve(capacity); }

  // Makes room for at least `capacity` bytes. Growing discards the contents.
  void Reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    const size_t align = capacity >= kHugePage ? kHugePage : kAlignment;
    size_t rounded = (capacity + align - 1) / align * align;
    char* p = static_cast<char*>(std::aligned_alloc(align, rounded));
    if (!p) throw std::bad_alloc();
    if (align == kHugePage) (void)::madvise(p, rounded, MADV_HUGEPAGE);  // a hint; failure is harmless
    data_.reset(p);
    capacity_ = rounded;
  }

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
};

}  // namespace ailee
