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

std::string BlobAd(const Id& id) { return "ailee-blob-v1" + crypto::HashToString(id); }

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

ZSTD_CCtx* ThreadCctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

// Compresses into out (after its first `prefix` bytes); returns compressed size or 0 on error.
size_t Compress(std::string_view in, int level, std::string* out, size_t prefix) {
  out->resize(prefix + ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(ThreadCctx(), out->data() + prefix, out->size() - prefix, in.data(), in.size(), level);
  if (ZSTD_isError(n)) return 0;
  out->resize(prefix + n);
  return n;
}

}  // namespace

Id ComputeBlobId(const MasterKey& key, std::string_view plaintext) {
  return crypto::HmacSha256(key.id_key.view(), plaintext);
}

Result<EncodedBlob> EncodeBlob(const MasterKey& key, const Id& id, std::string_view plaintext, int zstd_level) {
  if (plaintext.size() > kMaxBlobSize) return InvalidArgument("blob larger than 64 MiB");
  EncodedBlob out;
  out.raw_length = static_cast<uint32_t>(plaintext.size());
  std::string payload;
  bool compress = false;
  if (zstd_level > 0 && plaintext.size() >= 512) {
    std::string_view sample = plaintext.substr(0, kSampleSize);
    std::string tmp;
    size_t n = Compress(sample, 1, &tmp, 0);
    compress = n > 0 && static_cast<double>(n) < kSampleRatio * static_cast<double>(sample.size());
  }
  if (compress) {
    size_t n = Compress(plaintext, zstd_level, &payload, 1);
    if (n > 0 && n + 1 < plaintext.size()) {
      payload[0] = kZstd;
      out.compressed = true;
    }
  }
  if (!out.compressed) {
    payload.clear();
    payload.reserve(plaintext.size() + 1);
    payload.push_back(kRaw);
    payload.append(plaintext);
  }
  ASSIGN_OR_RETURN(out.sealed, crypto::AeadSeal(key.data_key, payload, BlobAd(id)));
  return out;
}

Result<std::string> DecodeBlob(const MasterKey& key, const Id& id, std::string_view sealed) {
  auto payload = crypto::AeadOpen(key.data_key, sealed, BlobAd(id));
  if (!payload.ok()) return DataLoss("blob " + IdHex(id) + " fails authentication (damaged or modified)");
  if (payload->empty()) return DataLoss("blob " + IdHex(id) + " has an empty payload");
  std::string plain;
  if ((*payload)[0] == kRaw) {
    plain = payload->substr(1);
  } else if ((*payload)[0] == kZstd) {
    std::string_view frame(payload->data() + 1, payload->size() - 1);
    unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxBlobSize) {
      return DataLoss("blob " + IdHex(id) + ": bad zstd frame header");
    }
    plain.resize(size);
    size_t n = ZSTD_decompress(plain.data(), plain.size(), frame.data(), frame.size());
    if (ZSTD_isError(n) || n != size) return DataLoss("blob " + IdHex(id) + ": zstd decompression failed");
  } else {
    return DataLoss("blob " + IdHex(id) + ": unknown payload type " + std::to_string((*payload)[0]));
  }
  if (ComputeBlobId(key, plain) != id) {
    return DataLoss("blob " + IdHex(id) + ": content does not match its id");
  }
  return plain;
}

}  // namespace ailee::repo
