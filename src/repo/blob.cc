#include "repo/blob.h"

#include <zstd.h>

#include <memory>

#include "crypto/aead.h"

namespace ailee::repo {
namespace {

constexpr char kRaw = 0;
constexpr char kZstd = 1;
constexpr size_t kSampleSize = 64 << 10;
// Compress only if the sample shrinks below this fraction.
constexpr double kSampleRatio = 0.90;

std::string BlobAd(const Id& id, char type) { return "ailee-blob-v1" + crypto::HashToString(id) + type; }

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

ZSTD_CCtx* ThreadCctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

// Compresses `in` into a per-thread scratch buffer that keeps its size, so
// the steady state neither allocates nor zero-fills. The view is valid until
// the next call on this thread; empty on error.
std::string_view Compress(std::string_view in, int level) {
  thread_local std::string scratch;
  size_t bound = ZSTD_compressBound(in.size());
  if (scratch.size() < bound) scratch.resize(bound);
  size_t n = ZSTD_compressCCtx(ThreadCctx(), scratch.data(), bound, in.data(), in.size(), level);
  if (ZSTD_isError(n)) return {};
  return std::string_view(scratch.data(), n);
}

}  // namespace

Id ComputeBlobId(const MasterKey& key, std::string_view plaintext) {
  return crypto::HmacSha256(key.id_key.view(), plaintext);
}

Result<EncodedBlob> EncodeBlob(const MasterKey& key, const Id& id, std::string_view plaintext, int zstd_level) {
  if (plaintext.size() > kMaxBlobSize) return InvalidArgument("blob larger than 64 MiB");
  EncodedBlob out;
  out.raw_length = static_cast<uint32_t>(plaintext.size());
  bool compress = false;
  if (zstd_level > 0 && plaintext.size() >= 512) {
    std::string_view sample = plaintext.substr(0, kSampleSize);
    size_t n = Compress(sample, 1).size();
    compress = n > 0 && static_cast<double>(n) < kSampleRatio * static_cast<double>(sample.size());
  }
  if (compress) {
    std::string_view frame = Compress(plaintext, zstd_level);
    if (!frame.empty() && frame.size() < plaintext.size()) {
      out.compressed = true;
      ASSIGN_OR_RETURN(out.sealed, crypto::AeadSeal(key.data_key, frame, BlobAd(id, kZstd)));
      return out;
    }
  }
  ASSIGN_OR_RETURN(out.sealed, crypto::AeadSeal(key.data_key, plaintext, BlobAd(id, kRaw)));
  return out;
}

Result<std::string> DecodeBlob(const MasterKey& key, const Id& id, std::string_view stored) {
  if (stored.empty()) return DataLoss("blob " + IdHex(id) + " is empty");
  const char type = stored[0];
  if (type != kRaw && type != kZstd) {
    return DataLoss("blob " + IdHex(id) + ": unknown type " + std::to_string(static_cast<int>(type)));
  }
  auto body = crypto::AeadOpen(key.data_key, stored.substr(1), BlobAd(id, type));
  if (!body.ok()) return DataLoss("blob " + IdHex(id) + " fails authentication (damaged or modified)");
  std::string plain;
  if (type == kRaw) {
    plain = std::move(body).value();
  } else {
    std::string_view frame(*body);
    unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxBlobSize) {
      return DataLoss("blob " + IdHex(id) + ": bad zstd frame header");
    }
    plain.resize(size);
    size_t n = ZSTD_decompress(plain.data(), plain.size(), frame.data(), frame.size());
    if (ZSTD_isError(n) || n != size) return DataLoss("blob " + IdHex(id) + ": zstd decompression failed");
  }
  if (ComputeBlobId(key, plain) != id) {
    return DataLoss("blob " + IdHex(id) + ": content does not match its id");
  }
  return plain;
}

}  // namespace ailee::repo
