#include "keys/shamir.h"

// libgfshare.h has no extern "C" guard of its own.
extern "C" {
#include <libgfshare.h>
}

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>

#include "crypto/random.h"
#include "keys/secret_input.h"

namespace ailee::keys {
namespace {

void SecureRand(unsigned char* buf, unsigned int n) { crypto::RandomFill(buf, n); }

// libgfshare draws coefficients (and scrubs buffers in gfshare_ctx_free)
// through a global function pointer that is NULL by default; point it at
// libsodium's CSPRNG before any context exists.
void InitGfshare() {
  static std::once_flag once;
  std::call_once(once, [] { gfshare_fill_rand = SecureRand; });
}

struct CtxDeleter {
  void operator()(gfshare_ctx* c) const { gfshare_ctx_free(c); }
};
using CtxPtr = std::unique_ptr<gfshare_ctx, CtxDeleter>;

}  // namespace

Result<ShareSpec> ParseShareSpec(const std::string& text) {
  ShareSpec s;
  size_t pos = text.find('/');
  if (pos == std::string::npos) return InvalidArgument("--shares must be K/N (e.g. 3/5), got '" + text + "'");
  try {
    size_t used = 0;
    s.threshold = std::stoi(text.substr(0, pos), &used);
    if (used != pos) throw std::invalid_argument("k");
    s.count = std::stoi(text.substr(pos + 1), &used);
    if (used != text.size() - pos - 1) throw std::invalid_argument("n");
  } catch (const std::exception&) {
    return InvalidArgument("--shares must be K/N (e.g. 3/5), got '" + text + "'");
  }
  if (s.threshold < 2 || s.count < s.threshold || s.count > 255)
    return InvalidArgument("--shares K/N needs 2 <= K <= N <= 255, got " + text);
  return s;
}

Result<std::vector<Share>> SplitSecret(const crypto::SecureBytes& secret, ShareSpec spec) {
  if (secret.empty()) return InvalidArgument("cannot split an empty secret");
  if (spec.threshold < 2 || spec.count < spec.threshold || spec.count > 255)
    return InvalidArgument("share threshold/count out of range");
  InitGfshare();
  // Distinct random non-zero share numbers, like gfsplit.
  std::vector<unsigned char> numbers;
  std::set<unsigned char> used;
  while (numbers.size() < static_cast<size_t>(spec.count)) {
    unsigned char b = 0;
    crypto::RandomFill(&b, 1);
    if (b == 0 || !used.insert(b).second) continue;
    numbers.push_back(b);
  }
  std::sort(numbers.begin(), numbers.end());
  CtxPtr ctx(gfshare_ctx_init_enc(numbers.data(), static_cast<unsigned>(spec.count),
                                  static_cast<unsigned char>(spec.threshold), static_cast<unsigned>(secret.size())));
  if (!ctx) return Internal("gfshare_ctx_init_enc failed");
  crypto::SecureBytes copy(secret);  // libgfshare takes a non-const pointer
  gfshare_ctx_enc_setsecret(ctx.get(), reinterpret_cast<unsigned char*>(copy.data()));
  std::vector<Share> shares;
  for (int i = 0; i < spec.count; ++i) {
    Share s;
    s.number = numbers[static_cast<size_t>(i)];
    s.bytes = crypto::SecureBytes(secret.size());
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), reinterpret_cast<unsigned char*>(s.bytes.data()));
    shares.push_back(std::move(s));
  }
  return shares;
}

Result<crypto::SecureBytes> CombineShares(const std::vector<Share>& shares) {
  if (shares.size() < 2) return InvalidArgument("need at least 2 shares to combine, got " + std::to_string(shares.size()));
  size_t size = shares.front().bytes.size();
  std::vector<unsigned char> numbers;
  std::set<int> seen;
  for (const auto& s : shares) {
    if (s.number < 1 || s.number > 255) return InvalidArgument("share number " + std::to_string(s.number) + " out of range 1-255");
    if (!seen.insert(s.number).second)
      return InvalidArgument("share number " + std::to_string(s.number) + " given twice");
    if (s.bytes.size() != size)
      return InvalidArgument("shares differ in length (" + std::to_string(size) + " vs " +
                             std::to_string(s.bytes.size()) + " bytes): they come from different splits");
    numbers.push_back(static_cast<unsigned char>(s.number));
  }
  if (size == 0) return InvalidArgument("empty share");
  InitGfshare();
  CtxPtr ctx(gfshare_ctx_init_dec(numbers.data(), static_cast<unsigned>(numbers.size()), static_cast<unsigned>(size)));
  if (!ctx) return Internal("gfshare_ctx_init_dec failed");
  for (size_t i = 0; i < shares.size(); ++i) {
    crypto::SecureBytes copy(shares[i].bytes);
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), reinterpret_cast<unsigned char*>(copy.data()));
  }
  crypto::SecureBytes out(size);
  gfshare_ctx_dec_extract(ctx.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

Result<Share> ReadShareFile(const std::string& path) {
  // gfcombine takes the number from the last three characters after a dot.
  size_t n = path.size();
  if (n < 5 || path[n - 4] != '.' || !std::all_of(path.end() - 3, path.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return InvalidArgument("share file " + path + " is not named <stem>.NNN (NNN = share number, as gfsplit writes)");
  int number = std::stoi(path.substr(n - 3));
  if (number < 1 || number > 255) return InvalidArgument("share file " + path + ": share number must be 001-255");
  ASSIGN_OR_RETURN(crypto::SecureBytes bytes, ReadSecretFile(path));
  if (bytes.empty()) return DataLoss("share file " + path + " is empty");
  return Share{number, std::move(bytes)};
}

}  // namespace ailee::keys
