#include "audit/head_store.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/hash.h"

namespace ailee::audit {
namespace {

constexpr std::string_view kAd = "ailee-audit-head-v1";
constexpr std::string_view kPrefix = "audit/";

std::string SeriesPrefix(const std::string& host, const std::string& path) {
  return std::string(kPrefix) + AuditLogKey(host, path) + "/";
}

std::string SeqName(uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

}  // namespace

std::string AuditLogKey(const std::string& host, const std::string& path) {
  std::string id = host;
  id.push_back('\0');
  id += AbsoluteLogPath(path);
  return crypto::HashToHex(crypto::Sha256(id));
}

std::string AbsoluteLogPath(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().string();
}

Status RecordAuditHead(storage::ObjectStore& store, const crypto::SecureBytes& data_key,
                       const RecordedAuditHead& recorded) {
  const std::string prefix = SeriesPrefix(recorded.host, recorded.path);
  nlohmann::json doc = {{"v", 1},
                        {"host", recorded.host},
                        {"path", AbsoluteLogPath(recorded.path)},
                        {"seq", recorded.head.seq},
                        {"hash", recorded.head.hash},
                        {"time_ms", recorded.time_ms}};
  ASSIGN_OR_RETURN(std::string sealed, crypto::AeadSeal(data_key, doc.dump(), kAd));
  const std::string key = prefix + SeqName(recorded.head.seq);
  Status put = store.Put(key, sealed);
  if (!put.ok()) return put.WithContext("recording the audit head " + std::to_string(recorded.head.seq) + " in " +
                                        store.Location());
  // Older heads of this log are superseded; a failure here only leaves them.
  auto listed = store.List(prefix);
  if (listed.ok()) {
    for (const auto& obj : *listed) {
      if (obj.key < key) (void)store.Delete(obj.key);
    }
  }
  return Status::Ok();
}

Result<std::optional<RecordedAuditHead>> NewestAuditHead(storage::ObjectStore& store,
                                                         const crypto::SecureBytes& data_key,
                                                         const std::string& host, const std::string& path) {
  ASSIGN_OR_RETURN(auto listed, store.List(SeriesPrefix(host, path)));
  // Sorted by key, and the names are zero-padded seqs: the last is the newest.
  for (auto it = listed.rbegin(); it != listed.rend(); ++it) {
    auto sealed = store.Get(it->key);
    if (!sealed.ok()) {
      if (sealed.status().code() == StatusCode::kNotFound) continue;  // removed by a concurrent writer
      return sealed.status().WithContext("reading the recorded audit head " + it->key);
    }
    auto plain = crypto::AeadOpen(data_key, *sealed, kAd);
    if (!plain.ok()) {
      return DataLoss("the audit head " + it->key + " in " + store.Location() +
                      " fails authentication (edited, or not written with this repository's key)");
    }
    auto doc = nlohmann::json::parse(*plain, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("v", 0) != 1 || !doc["seq"].is_number_unsigned() ||
        !doc["hash"].is_string()) {
      return DataLoss("the audit head " + it->key + " in " + store.Location() + " is not a version 1 head record");
    }
    RecordedAuditHead r;
    r.host = doc.value("host", "");
    r.path = doc.value("path", "");
    r.head.seq = doc["seq"].get<uint64_t>();
    r.head.hash = doc["hash"].get<std::string>();
    r.time_ms = doc.value("time_ms", int64_t{0});
    if (it->key.substr(it->key.rfind('/') + 1) != SeqName(r.head.seq)) {
      return DataLoss("the audit head " + it->key + " in " + store.Location() + " holds seq " +
                      std::to_string(r.head.seq) + ", not the one in its name (moved)");
    }
    return std::optional<RecordedAuditHead>(std::move(r));
  }
  return std::optional<RecordedAuditHead>();
}

}  // namespace ailee::audit
