#include "repo/pack.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"

namespace ailee::repo {
namespace {

constexpr std::string_view kMagic = "AILEEPK1";
constexpr size_t kTrailerSize = 4 + 8;
constexpr std::string_view kHeaderAd = "ailee-pack-header-v1";

Result<std::vector<PackBlob>> DecodeHeader(const MasterKey& key, const Id& pack, std::string_view sealed,
                                           uint64_t header_offset) {
  auto plain = crypto::AeadOpen(key.data_key, sealed, kHeaderAd);
  if (!plain.ok()) return DataLoss("pack " + IdHex(pack) + ": header fails authentication (damaged)");
  std::vector<PackBlob> blobs;
  try {
    auto j = nlohmann::json::parse(*plain);
    if (j.at("version").get<int>() != kFormatVersion) {
      return DataLoss("pack " + IdHex(pack) + ": unsupported header version");
    }
    for (const auto& b : j.at("blobs")) {
      PackBlob pb;
      ASSIGN_OR_RETURN(pb.id, ParseId(b.at("id").get<std::string>()));
      pb.offset = b.at("offset").get<uint64_t>();
      pb.length = b.at("length").get<uint64_t>();
      pb.raw_length = b.at("raw_length").get<uint32_t>();
      pb.compressed = b.at("compressed").get<bool>();
      if (pb.offset + pb.length > header_offset) {
        return DataLoss("pack " + IdHex(pack) + ": header lists a blob past the data section");
      }
      blobs.push_back(pb);
    }
  } catch (const std::exception& e) {
    return DataLoss("pack " + IdHex(pack) + ": malformed header: " + e.what());
  }
  return blobs;
}

Result<std::pair<uint64_t, uint32_t>> DecodeTrailer(const Id& pack, std::string_view trailer, uint64_t pack_size) {
  if (trailer.size() != kTrailerSize || trailer.substr(4) != kMagic) {
    return DataLoss("pack " + IdHex(pack) + ": missing trailer (truncated or not a pack)");
  }
  uint32_t len = 0;
  for (int i = 3; i >= 0; --i) len = (len << 8) | static_cast<uint8_t>(trailer[static_cast<size_t>(i)]);
  if (len + kTrailerSize > pack_size) return DataLoss("pack " + IdHex(pack) + ": header length out of range");
  return std::make_pair(pack_size - kTrailerSize - len, len);
}

}  // namespace

char* PackBuilder::Extend(size_t n) {
  if (size_ + n > buffer_.capacity()) {
    AlignedBuffer bigger(std::max<size_t>(2 * buffer_.capacity(), size_ + n));
    std::memcpy(bigger.data(), buffer_.data(), size_);
    buffer_ = std::move(bigger);
  }
  char* at = buffer_.data() + size_;
  size_ += n;
  return at;
}

Status PackBuilder::Add(const MasterKey& key, const Id& id, const BlobBody& body, uint32_t raw_length) {
  const size_t n = StoredBlobSize(body.bytes.size());
  const uint64_t offset = size_;
  char* out = Extend(n);
  Status st = SealBlob(key, id, body, out);
  if (!st.ok()) {
    size_ = offset;
    return st;
  }
  // Hashed while the sealed bytes are still in cache.
  sha_.Update(std::string_view(out, n));
  blobs_.push_back({id, offset, n, raw_length, body.compressed});
  return Status::Ok();
}

Result<PackBuilder::Finished> PackBuilder::Finish(const MasterKey& key) {
  nlohmann::json j;
  j["version"] = kFormatVersion;
  auto& arr = j["blobs"] = nlohmann::json::array();
  for (const auto& b : blobs_) {
    arr.push_back({{"id", IdHex(b.id)}, {"offset", b.offset}, {"length", b.length},
                   {"raw_length", b.raw_length}, {"compressed", b.compressed}});
  }
  ASSIGN_OR_RETURN(std::string header, crypto::AeadSeal(key.data_key, j.dump(), kHeaderAd));
  std::string tail = header;
  uint32_t len = static_cast<uint32_t>(header.size());
  for (int i = 0; i < 4; ++i) tail.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  tail.append(kMagic);
  std::memcpy(Extend(tail.size()), tail.data(), tail.size());
  sha_.Update(tail);
  Finished out;
  ASSIGN_OR_RETURN(out.id, sha_.Finish());
  out.size = size_;
  out.buffer = std::move(buffer_);
  out.blobs = std::move(blobs_);
  buffer_ = AlignedBuffer();
  size_ = 0;
  blobs_.clear();
  return out;
}

Result<std::vector<PackBlob>> ReadPackHeader(storage::ObjectStore& store, const MasterKey& key, const Id& pack,
                                             uint64_t pack_size) {
  if (pack_size < kTrailerSize) return DataLoss("pack " + IdHex(pack) + ": truncated to " + std::to_string(pack_size) + " bytes");
  ASSIGN_OR_RETURN(std::string trailer, store.GetRange(PackKey(pack), pack_size - kTrailerSize, kTrailerSize));
  ASSIGN_OR_RETURN(auto where, DecodeTrailer(pack, trailer, pack_size));
  ASSIGN_OR_RETURN(std::string sealed, store.GetRange(PackKey(pack), where.first, where.second));
  return DecodeHeader(key, pack, sealed, where.first);
}

Result<std::vector<PackBlob>> ParsePackHeader(const MasterKey& key, const Id& pack, std::string_view bytes) {
  if (bytes.size() < kTrailerSize) return DataLoss("pack " + IdHex(pack) + ": truncated");
  ASSIGN_OR_RETURN(auto where, DecodeTrailer(pack, bytes.substr(bytes.size() - kTrailerSize), bytes.size()));
  return DecodeHeader(key, pack, bytes.substr(where.first, where.second), where.first);
}

}  // namespace ailee::repo
