#include "repo/index.h"

#include <mutex>
#include <nlohmann/json.hpp>

namespace ailee::repo {

void Index::AddPack(const Id& pack, const PackRecord& record) {
  std::unique_lock lock(mu_);
  for (const auto& b : record.blobs) {
    blobs_.try_emplace(b.id, BlobLocation{pack, b.offset, b.length, b.raw_length, b.compressed});
  }
  packs_[pack] = record;
}

std::optional<BlobLocation> Index::Find(const Id& blob) const {
  std::shared_lock lock(mu_);
  auto it = blobs_.find(blob);
  if (it == blobs_.end()) return std::nullopt;
  return it->second;
}

bool Index::Has(const Id& blob) const {
  std::shared_lock lock(mu_);
  return blobs_.count(blob) > 0;
}

bool Index::HasPack(const Id& pack) const {
  std::shared_lock lock(mu_);
  return packs_.count(pack) > 0;
}

std::map<Id, PackRecord> Index::Packs() const {
  std::shared_lock lock(mu_);
  return std::map<Id, PackRecord>(packs_.begin(), packs_.end());
}

size_t Index::blob_count() const {
  std::shared_lock lock(mu_);
  return blobs_.size();
}

void Index::Clear() {
  std::unique_lock lock(mu_);
  blobs_.clear();
  packs_.clear();
}

std::string EncodeIndexFile(const std::map<Id, PackRecord>& packs) {
  nlohmann::json j;
  j["version"] = kFormatVersion;
  auto& arr = j["packs"] = nlohmann::json::array();
  for (const auto& [id, rec] : packs) {
    nlohmann::json p;
    p["id"] = IdHex(id);
    p["size"] = rec.size;
    auto& blobs = p["blobs"] = nlohmann::json::array();
    for (const auto& b : rec.blobs) {
      blobs.push_back({{"id", IdHex(b.id)}, {"offset", b.offset}, {"length", b.length},
                       {"raw_length", b.raw_length}, {"compressed", b.compressed}});
    }
    arr.push_back(std::move(p));
  }
  return j.dump();
}

Result<std::map<Id, PackRecord>> DecodeIndexFile(std::string_view json, std::string_view what) {
  std::map<Id, PackRecord> out;
  try {
    auto j = nlohmann::json::parse(json);
    if (j.at("version").get<int>() != kFormatVersion) {
      return DataLoss(std::string(what) + ": unsupported index version " + j.at("version").dump());
    }
    for (const auto& p : j.at("packs")) {
      ASSIGN_OR_RETURN(Id pack, ParseId(p.at("id").get<std::string>()));
      PackRecord rec;
      rec.size = p.at("size").get<uint64_t>();
      for (const auto& b : p.at("blobs")) {
        PackBlob pb;
        ASSIGN_OR_RETURN(pb.id, ParseId(b.at("id").get<std::string>()));
        pb.offset = b.at("offset").get<uint64_t>();
        pb.length = b.at("length").get<uint64_t>();
        pb.raw_length = b.at("raw_length").get<uint32_t>();
        pb.compressed = b.at("compressed").get<bool>();
        rec.blobs.push_back(pb);
      }
      out[pack] = std::move(rec);
    }
  } catch (const std::exception& e) {
    return DataLoss(std::string(what) + ": malformed index: " + e.what());
  }
  return out;
}

}  // namespace ailee::repo
