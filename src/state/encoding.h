// Deterministic binary encoding used by every on-disk and signed format in
// state/: big-endian fixed-width integers and u32-length-prefixed byte
// strings. docs/state-format.md writes the layouts out in full.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ailee::state {

void PutU8(std::string* out, uint8_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
// u32 big-endian length, then the bytes.
void PutBytes(std::string* out, std::string_view bytes);
std::string EncodeU64(uint64_t v);  // 8 bytes big-endian (also the height key)

// Reads the encoding above. Every getter returns false once the input is
// exhausted or malformed and stays false, so callers check ok() at the end
// (or after each field when they want to name the bad field).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool Bytes(std::string* v, uint32_t max_len = 1u << 24);
  bool Fixed(size_t n, std::string* v);
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  bool Take(size_t n, std::string_view* out);
  std::string_view in_;
  bool ok_ = true;
};

bool DecodeU64(std::string_view in, uint64_t* v);

}  // namespace ailee::state
