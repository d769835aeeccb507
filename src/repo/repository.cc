#include "repo/repository.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "crypto/aead.h"

namespace ailee::repo {
namespace {

std::string EncodeConfig(const RepoConfig& c) {
  nlohmann::json j;
  j["format"] = "ailee-backup-repository";
  j["version"] = c.version;
  j["id"] = c.id;
  j["created_ms"] = c.created_ms;
  j["chunker"] = {{"algorithm", "fixed"}, {"chunk_size", c.chunk_size}};
  return j.dump(2);
}

Result<RepoConfig> DecodeConfig(const std::string& text, const std::string& location) {
  RepoConfig c;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("format", "") != "ailee-backup-repository") {
      return DataLoss("config in " + location + " is not an ailee repository config");
    }
    c.version = j.at("version").get<int>();
    c.id = j.at("id").get<std::string>();
    c.created_ms = j.value("created_ms", int64_t{0});
    if (j.at("chunker").at("algorithm").get<std::string>() != "fixed") {
      return DataLoss("config in " + location + ": unknown chunker");
    }
    c.chunk_size = j.at("chunker").at("chunk_size").get<uint64_t>();
  } catch (const std::exception& e) {
    return DataLoss("config in " + location + " is damaged: " + e.what());
  }
  if (c.version != kFormatVersion) {
    return FailedPrecondition("repository at " + location + " has format version " + std::to_string(c.version) +
                              "; this build reads version " + std::to_string(kFormatVersion));
  }
  if (c.chunk_size < 4096 || c.chunk_size > kMaxBlobSize) return DataLoss("config in " + location + ": bad chunk size");
  return c;
}

}  // namespace

std::string_view Repository::KindName(ObjectKind kind) {
  return kind == ObjectKind::kIndex ? "index" : "snapshot";
}

std::string Repository::KindKey(ObjectKind kind, const Id& id) {
  return kind == ObjectKind::kIndex ? IndexKey(id) : SnapshotKey(id);
}

Result<std::unique_ptr<Repository>> Repository::Init(std::shared_ptr<storage::ObjectStore> store,
                                                     std::string_view passphrase, const InitOptions& options,
                                                     const OpenOptions& open) {
  ASSIGN_OR_RETURN(bool exists, store->Exists(ConfigKey()));
  if (exists) return AlreadyExists("a repository already exists at " + store->Location());
  if (options.chunk_size < 4096 || options.chunk_size > kMaxBlobSize) {
    return InvalidArgument("chunk size must be between 4 KiB and 64 MiB");
  }
  std::unique_ptr<Repository> repo(new Repository(std::move(store), open.clock ? open.clock : &Clock::Real()));
  repo->config_.id = IdHex(RandomId());
  repo->config_.chunk_size = options.chunk_size;
  repo->config_.created_ms = repo->clock_->NowMillis();
  repo->master_ = NewMasterKey();
  const std::string config_text = EncodeConfig(repo->config_);
  repo->config_sha256_ = IdHex(crypto::Sha256(config_text));
  ASSIGN_OR_RETURN(std::string slot, SealKeySlot(repo->master_, passphrase, options.kdf, repo->config_.id,
                                                 repo->config_.created_ms, repo->config_sha256_));
  repo->key_id_ = IdHex(crypto::Sha256(slot));
  RETURN_IF_ERROR(repo->store_->Put(KeySlotKey(repo->key_id_), slot));
  // The config is the commit point: written last, create-only, so two racing
  // inits cannot both think they created the repository.
  RETURN_IF_ERROR(repo->store_->PutIfAbsent(ConfigKey(), config_text));
  return repo;
}

Result<std::unique_ptr<Repository>> Repository::Open(std::shared_ptr<storage::ObjectStore> store,
                                                     std::string_view passphrase, const OpenOptions& open) {
  const std::string location = store->Location();
  auto config_text = store->Get(ConfigKey());
  if (!config_text.ok()) {
    if (config_text.status().code() == StatusCode::kNotFound) {
      return NotFound("no repository at " + location + ": run `ailee-cli repo init`");
    }
    return config_text.status().WithContext("open repository at " + location);
  }
  std::unique_ptr<Repository> repo(new Repository(std::move(store), open.clock ? open.clock : &Clock::Real()));
  repo->config_sha256_ = IdHex(crypto::Sha256(*config_text));
  auto config = DecodeConfig(*config_text, location);
  ASSIGN_OR_RETURN(auto slots, repo->store_->List(std::string(kKeysPrefix)));
  if (slots.empty()) return DataLoss("repository at " + location + " has no key slots (keys/ is empty)");
  // Key-file slots first: they cost microseconds to try, a passphrase slot
  // costs a full Argon2id derivation whether or not it opens. Damaged slots
  // are not tried at all: their KDF parameters may be anything.
  std::vector<std::pair<std::string, std::string>> ordered;  // key, slot bytes
  std::vector<std::string> damaged;                           // slot ids
  std::string config_recorded;  // a config SHA-256 some intact slot recorded, when it differs
  for (const auto& obj : slots) {
    ASSIGN_OR_RETURN(std::string slot, repo->store_->Get(obj.key));
    const std::string id = obj.key.substr(kKeysPrefix.size());
    if (IdHex(crypto::Sha256(slot)) != id) {
      damaged.push_back(id);
      continue;
    }
    auto info = DescribeKeySlot(slot);
    if (info.ok() && !info->config_sha256.empty() && info->config_sha256 != repo->config_sha256_) {
      config_recorded = info->config_sha256;
    }
    bool cheap = info.ok() && info->kind == KeySlotKind::kKeyFile;
    ordered.insert(cheap ? ordered.begin() : ordered.end(), {obj.key, std::move(slot)});
  }
  // A slot that does not open cannot prove it belongs here (it may have been
  // copied from another repository), so a differing config hash is only a
  // suspicion, said beside "wrong passphrase"; verify, which knows the slot
  // that opened, reports a damaged config as such.
  auto config_suspect = [&] {
    return " or the config is damaged: its SHA-256 " + repo->config_sha256_ + " differs from " + config_recorded +
           ", recorded by a key slot when it was made (the repository id in the config is bound into every "
           "slot); compare `config` with a replica of this repository";
  };
  if (!config.ok()) return config_recorded.empty() ? config.status() : config.status().WithContext(config_suspect());
  repo->config_ = std::move(config).value();
  bool opened = false;
  for (const auto& [key, slot] : ordered) {
    auto master = OpenKeySlot(slot, passphrase, repo->config_.id);
    if (master.ok()) {
      repo->master_ = std::move(master).value();
      repo->key_id_ = key.substr(kKeysPrefix.size());
      opened = true;
      break;
    }
    if (master.status().code() != StatusCode::kPermissionDenied &&
        master.status().code() != StatusCode::kDataLoss) {
      return master.status();
    }
  }
  if (!opened) {
    if (!damaged.empty()) {
      return DataLoss(DamagedKeySlotMessage(damaged.front(), location) +
                      (damaged.size() > 1 ? " (and " + std::to_string(damaged.size() - 1) + " more damaged slots)" : "") +
                      ". No intact key slot opens with this secret, so it may be the damaged slot's: open with "
                      "another passphrase or key file and replace it (`ailee-cli repo key add`, then `repo key remove " +
                      damaged.front() + "`), or copy keys/" + damaged.front() + " back from a replica");
    }
    if (!config_recorded.empty()) {
      return PermissionDenied("no key slot in " + location + " opens with this secret: the passphrase is wrong," +
                              config_suspect());
    }
    return PermissionDenied("wrong passphrase (no key slot in " + location + " opens with it)");
  }
  ASSIGN_OR_RETURN(IndexLoadReport report, repo->LoadIndex());
  (void)report;  // damaged index files are verify's business; backup re-indexes their packs
  return repo;
}

Result<std::unique_ptr<Repository>> Repository::OpenReplica(std::shared_ptr<storage::ObjectStore> store) const {
  const std::string location = store->Location();
  auto config_text = store->Get(ConfigKey());
  if (!config_text.ok()) {
    if (config_text.status().code() == StatusCode::kNotFound) return NotFound("no repository at " + location);
    return config_text.status().WithContext("open replica at " + location);
  }
  ASSIGN_OR_RETURN(RepoConfig config, DecodeConfig(*config_text, location));
  if (config.id != config_.id) {
    return FailedPrecondition("the repository at " + location + " (id " + config.id.substr(0, 8) +
                              ") is not a copy of the one at " + Location() + " (id " + config_.id.substr(0, 8) +
                              "); copy into an empty location or into a copy made by `ailee-cli copy`");
  }
  std::unique_ptr<Repository> replica(new Repository(std::move(store), clock_));
  replica->config_ = std::move(config);
  replica->config_sha256_ = IdHex(crypto::Sha256(*config_text));
  replica->master_ = master_;
  ASSIGN_OR_RETURN(IndexLoadReport report, replica->LoadIndex());
  (void)report;
  return replica;
}

Result<std::string> Repository::AddKey(std::string_view passphrase, const crypto::Argon2Params& params) {
  ASSIGN_OR_RETURN(std::string slot,
                   SealKeySlot(master_, passphrase, params, config_.id, clock_->NowMillis(), config_sha256_));
  std::string id = IdHex(crypto::Sha256(slot));
  RETURN_IF_ERROR(store_->Put(KeySlotKey(id), slot));
  return id;
}

Result<std::string> Repository::AddKeyFile(std::string_view key_file) {
  ASSIGN_OR_RETURN(std::string slot,
                   SealKeyFileSlot(master_, key_file, config_.id, clock_->NowMillis(), config_sha256_));
  std::string id = IdHex(crypto::Sha256(slot));
  RETURN_IF_ERROR(store_->Put(KeySlotKey(id), slot));
  return id;
}

Result<std::vector<KeyInfo>> Repository::ListKeys() {
  ASSIGN_OR_RETURN(auto slots, store_->List(std::string(kKeysPrefix)));
  std::vector<KeyInfo> out;
  for (const auto& obj : slots) {
    ASSIGN_OR_RETURN(std::string slot, store_->Get(obj.key));
    auto info = DescribeKeySlot(slot);
    KeyInfo k = info.ok() ? *info : KeyInfo{};
    k.id = obj.key.substr(kKeysPrefix.size());
    k.current = k.id == key_id_;
    k.damaged = IdHex(crypto::Sha256(slot)) != k.id;
    out.push_back(std::move(k));
  }
  return out;
}

Status Repository::RemoveKey(std::string_view id_or_prefix) {
  ASSIGN_OR_RETURN(auto keys, ListKeys());
  const KeyInfo* match = nullptr;
  for (const auto& k : keys) {
    if (id_or_prefix.empty() || k.id.compare(0, id_or_prefix.size(), id_or_prefix) != 0) continue;
    if (match) return InvalidArgument("key id prefix \"" + std::string(id_or_prefix) + "\" is ambiguous");
    match = &k;
  }
  if (!match) return NotFound("no key slot \"" + std::string(id_or_prefix) + "\" in " + Location());
  size_t intact_left = 0;
  for (const auto& k : keys) intact_left += !k.damaged && &k != match;
  if (intact_left == 0) {
    return FailedPrecondition("refusing to remove the last key slot of " + Location() +
                              ": the repository would be unreadable; add another key first");
  }
  return store_->Delete(KeySlotKey(match->id));
}

Result<Id> Repository::SaveObject(ObjectKind kind, std::string_view plaintext) {
  ASSIGN_OR_RETURN(std::string sealed,
                   crypto::AeadSeal(master_.data_key, plaintext, "ailee-" + std::string(KindName(kind)) + "-v1"));
  Id id = crypto::Sha256(sealed);
  RETURN_IF_ERROR(store_->Put(KindKey(kind, id), sealed));
  return id;
}

Result<std::string> Repository::LoadObject(ObjectKind kind, const Id& id) {
  const std::string name = std::string(KindName(kind)) + " " + IdHex(id);
  auto sealed = store_->Get(KindKey(kind, id));
  if (!sealed.ok()) return sealed.status().WithContext("load " + name);
  if (crypto::Sha256(*sealed) != id) {
    return DataLoss(name + " in " + Location() + " is damaged: content does not match its name (truncated or modified)");
  }
  auto plain = crypto::AeadOpen(master_.data_key, *sealed, "ailee-" + std::string(KindName(kind)) + "-v1");
  if (!plain.ok()) {
    return DataLoss(name + " in " + Location() + " fails authentication (edited, damaged, or from another repository)");
  }
  return plain;
}

Result<IndexLoadReport> Repository::LoadIndex() {
  ASSIGN_OR_RETURN(auto files, store_->List(std::string(kIndexPrefix)));
  return LoadIndexFiles(files);
}

Result<IndexLoadReport> Repository::LoadIndexFiles(const std::vector<storage::ObjectInfo>& files) {
  IndexLoadReport report;
  for (const auto& obj : files) {
    auto id = IdFromKey(obj.key);
    if (!id.ok()) continue;
    {
      std::lock_guard lock(mu_);
      if (loaded_index_files_.count(*id)) continue;
    }
    auto text = LoadObject(ObjectKind::kIndex, *id);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // removed by a concurrent prune
      if (text.status().code() != StatusCode::kDataLoss) return text.status();
      report.damaged.emplace_back(*id, text.status());
      continue;
    }
    auto packs = DecodeIndexFile(*text, "index " + IdHex(*id));
    if (!packs.ok()) {
      report.damaged.emplace_back(*id, packs.status());
      continue;
    }
    for (const auto& [pack, rec] : *packs) index_.AddPack(pack, rec);
    std::lock_guard lock(mu_);
    loaded_index_files_.insert(*id);
    ++report.files_loaded;
  }
  return report;
}

Result<IndexLoadReport> Repository::ReloadIndex() {
  {
    std::lock_guard lock(mu_);
    loaded_index_files_.clear();
    unfiled_packs_.clear();
    index_.Clear();
  }
  return LoadIndex();
}

Result<IndexLoadReport> Repository::RefreshIndex() {
  ASSIGN_OR_RETURN(auto files, store_->List(std::string(kIndexPrefix)));
  {
    std::lock_guard lock(mu_);
    std::set<Id> present;
    for (const auto& obj : files) {
      if (auto id = IdFromKey(obj.key); id.ok()) present.insert(*id);
    }
    const bool stale = !unfiled_packs_.empty() ||
                       !std::includes(present.begin(), present.end(), loaded_index_files_.begin(),
                                      loaded_index_files_.end());
    if (stale) {
      loaded_index_files_.clear();
      unfiled_packs_.clear();
      index_.Clear();
    }
  }
  return LoadIndexFiles(files);
}

void Repository::AddUnfiledPack(const Id& pack, const PackRecord& record) {
  index_.AddPack(pack, record);
  std::lock_guard lock(mu_);
  unfiled_packs_.insert(pack);
}

std::set<Id> Repository::loaded_index_files() const {
  std::lock_guard lock(mu_);
  return loaded_index_files_;
}

Result<Id> Repository::WriteIndex(const std::map<Id, PackRecord>& packs) {
  ASSIGN_OR_RETURN(Id id, SaveObject(ObjectKind::kIndex, EncodeIndexFile(packs)));
  for (const auto& [pack, rec] : packs) index_.AddPack(pack, rec);
  std::lock_guard lock(mu_);
  loaded_index_files_.insert(id);
  for (const auto& [pack, rec] : packs) unfiled_packs_.erase(pack);
  return id;
}

Result<size_t> Repository::IndexUnindexedPacks() {
  ASSIGN_OR_RETURN(auto objects, store_->List(std::string(kDataPrefix)));
  std::map<Id, PackRecord> found;
  for (const auto& obj : objects) {
    auto id = IdFromKey(obj.key);
    if (!id.ok() || index_.HasPack(*id)) continue;
    auto blobs = ReadPackHeader(*store_, master_, *id, obj.size);
    if (!blobs.ok()) continue;  // damaged leftovers are verify's and prune's business
    found[*id] = PackRecord{obj.size, std::move(blobs).value()};
  }
  if (found.empty()) return size_t{0};
  RETURN_IF_ERROR(WriteIndex(found).status());
  return found.size();
}

Result<std::string_view> Repository::ReadBlob(const Id& id, BlobBuffers* buffers) const {
  auto loc = index_.Find(id);
  if (!loc) return DataLoss("blob " + IdHex(id) + " is not in the index of " + Location());
  char* stored = buffers->StoredArea(loc->length);
  Status st = store_->GetRangeInto(PackKey(loc->pack), loc->offset, loc->length, stored);
  if (!st.ok()) {
    // The index says these bytes exist: a pack that is missing or shorter
    // than that is damaged repository data, not a caller's mistake.
    if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound) st = DataLoss(st.message());
    return st.WithContext("read blob " + IdHex(id) + " from pack " + IdHex(loc->pack));
  }
  auto plain = DecodeBlobInPlace(master_, id, stored, loc->length, buffers);
  if (!plain.ok()) return plain.status().WithContext("pack " + IdHex(loc->pack));
  return plain;
}

Result<std::string> Repository::LoadBlob(const Id& id) const {
  BlobBuffers buffers;
  ASSIGN_OR_RETURN(std::string_view plain, ReadBlob(id, &buffers));
  return std::string(plain);
}

}  // namespace ailee::repo
