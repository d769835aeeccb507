#include "state/encoding.h"

namespace ailee::state {

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void PutU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

std::string EncodeU64(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

bool DecodeU64(std::string_view in, uint64_t* v) {
  Reader r(in);
  return r.U64(v) && r.done();
}

bool Reader::Take(size_t n, std::string_view* out) {
  if (!ok_ || in_.size() < n) {
    ok_ = false;
    return false;
  }
  *out = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Reader::U8(uint8_t* v) {
  std::string_view s;
  if (!Take(1, &s)) return false;
  *v = static_cast<uint8_t>(s[0]);
  return true;
}

bool Reader::U32(uint32_t* v) {
  std::string_view s;
  if (!Take(4, &s)) return false;
  uint32_t x = 0;
  for (char c : s) x = (x << 8) | static_cast<uint8_t>(c);
  *v = x;
  return true;
}

bool Reader::U64(uint64_t* v) {
  std::string_view s;
  if (!Take(8, &s)) return false;
  uint64_t x = 0;
  for (char c : s) x = (x << 8) | static_cast<uint8_t>(c);
  *v = x;
  return true;
}

bool Reader::Bytes(std::string* v, uint32_t max_len) {
  uint32_t n = 0;
  if (!U32(&n)) return false;
  if (n > max_len) {
    ok_ = false;
    return false;
  }
  return Fixed(n, v);
}

bool Reader::Fixed(size_t n, std::string* v) {
  std::string_view s;
  if (!Take(n, &s)) return false;
  v->assign(s);
  return true;
}

}  // namespace ailee::state
