// Repository: an open, unlocked backup repository on an ObjectStore.
//
// Holds the master key (in locked, wiped memory), the config and the
// in-memory index. Use cases (backup.h, restore.h, prune.h, verify.h,
// retention.h) take a Repository&.
//
// Thread safety: all const methods and Index lookups may be used from many
// threads; LoadIndex, WriteIndex and the key-slot methods may run
// concurrently with lookups.
//
// Crash safety: Init writes the key slot before the config, so a crash
// leaves either no repository (init can be rerun) or a complete one. Every
// other object is immutable and content-addressed; see the use cases for
// the order in which they are written.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/kdf.h"
#include "repo/blob.h"
#include "repo/ids.h"
#include "repo/index.h"
#include "repo/key_slots.h"
#include "storage/object_store.h"

namespace ailee::repo {

struct RepoConfig {
  int version = kFormatVersion;
  std::string id;  // 64 hex, random
  uint64_t chunk_size = 4ull << 20;
  int64_t created_ms = 0;
};

struct InitOptions {
  crypto::Argon2Params kdf;           // Argon2Params::ForTests() in tests only
  uint64_t chunk_size = 4ull << 20;   // fixed-size chunking; 4 KiB .. 64 MiB
};

struct OpenOptions {
  Clock* clock = nullptr;  // nullptr: Clock::Real(); not owned, must outlive the Repository
};

// What LoadIndex found: damaged index files are reported, not fatal (their
// packs can be re-indexed from the pack headers).
struct IndexLoadReport {
  size_t files_loaded = 0;
  std::vector<std::pair<Id, Status>> damaged;
};

enum class ObjectKind { kIndex, kSnapshot };

class Repository {
 public:
  // kAlreadyExists when `store` already holds a repository.
  static Result<std::unique_ptr<Repository>> Init(std::shared_ptr<storage::ObjectStore> store,
                                                  std::string_view passphrase, const InitOptions& options,
                                                  const OpenOptions& open = {});
  // kNotFound "no repository at <location>: run `ailee-cli repo init`";
  // kPermissionDenied when no key slot opens with the secret (a passphrase,
  // or a key file's content; see key_slots.h). Key slots whose content does not
  // match their name are damaged and never tried: when no intact slot opens,
  // that is kDataLoss "damaged key slot <id> ...", not a wrong passphrase;
  // likewise kDataLoss naming the config when its SHA-256 differs from the
  // one the key slots recorded. Loads the index.
  static Result<std::unique_ptr<Repository>> Open(std::shared_ptr<storage::ObjectStore> store,
                                                  std::string_view passphrase, const OpenOptions& open = {});

  // Opens the replica of this repository held by `store` (same config id;
  // made by repo/copy.h) with this repository's master key, so no passphrase
  // and no key derivation are needed. kNotFound when `store` holds no
  // repository, kFailedPrecondition when it holds a different one.
  Result<std::unique_ptr<Repository>> OpenReplica(std::shared_ptr<storage::ObjectStore> store) const;

  storage::ObjectStore& store() const { return *store_; }
  const std::shared_ptr<storage::ObjectStore>& shared_store() const { return store_; }
  std::string Location() const { return store_->Location(); }
  const RepoConfig& config() const { return config_; }
  // Hex SHA-256 of the config object as read when this Repository was opened.
  const std::string& config_sha256() const { return config_sha256_; }
  const MasterKey& master_key() const { return master_; }
  Clock& clock() const { return *clock_; }

  // Key slots. AddKey and AddKeyFile return the new slot id; AddKeyFile
  // takes a key file made by NewKeyFile (key_slots.h), which the caller must have
  // stored durably first. RemoveKey accepts an id or a
  // unique prefix; it refuses (kFailedPrecondition) to remove the last slot.
  // Removing the slot this Repository was opened with is allowed only while
  // another slot exists.
  Result<std::string> AddKey(std::string_view passphrase, const crypto::Argon2Params& params);
  Result<std::string> AddKeyFile(std::string_view key_file);
  // Every slot, damaged ones marked (KeyInfo::damaged).
  Result<std::vector<KeyInfo>> ListKeys();
  // Refuses to remove the last intact slot.
  Status RemoveKey(std::string_view id_or_prefix);
  const std::string& current_key_id() const { return key_id_; }

  // Encrypted, content-addressed objects outside packs (index, snapshots).
  // Load checks the content hash and authentication: kDataLoss naming the
  // object when it is truncated, bit-flipped or edited.
  Result<Id> SaveObject(ObjectKind kind, std::string_view plaintext);
  Result<std::string> LoadObject(ObjectKind kind, const Id& id);

  // Index. LoadIndex reads index files not read yet (call again to pick up
  // other writers' work). WriteIndex stores one index file for `packs` and
  // returns its id. IndexUnindexedPacks adds packs present in data/ but in no
  // index (left by a crashed or concurrent backup) by reading their headers,
  // writes an index file for them and returns how many it added.
  Index& index() { return index_; }
  const Index& index() const { return index_; }
  Result<IndexLoadReport> LoadIndex();
  Result<Id> WriteIndex(const std::map<Id, PackRecord>& packs);
  Result<size_t> IndexUnindexedPacks();
  std::set<Id> loaded_index_files() const;
  // Drops the in-memory index and reloads from scratch.
  Result<IndexLoadReport> ReloadIndex();
  // The index exactly as ReloadIndex would leave it, reading only the index
  // files not read yet. A full reload still happens when an index file read
  // earlier is gone (a prune rewrote the index and may have deleted packs
  // it listed: only prune deletes packs, after the index files naming them)
  // or when the index holds packs no index file names (AddUnfiledPack by a
  // backup that failed before indexing them: a prune may have deleted them
  // since). Call under the repository lock, as a backup does.
  Result<IndexLoadReport> RefreshIndex();
  // Adds a pack just stored to the in-memory index before an index file
  // names it (WriteIndex does): RefreshIndex then reloads from scratch.
  void AddUnfiledPack(const Id& pack, const PackRecord& record);

  // Reads one blob: index lookup, ranged read from its pack into `buffers`,
  // decrypt in place, decompress, id check. The view is valid until
  // `buffers` is used again; one BlobBuffers per thread. kDataLoss names
  // blob and pack.
  Result<std::string_view> ReadBlob(const Id& id, BlobBuffers* buffers) const;
  // The same, copied out (for callers outside the bulk paths).
  Result<std::string> LoadBlob(const Id& id) const;

 private:
  Repository(std::shared_ptr<storage::ObjectStore> store, Clock* clock) : store_(std::move(store)), clock_(clock) {}
  static std::string_view KindName(ObjectKind kind);
  // Reads the index files among `files` not read yet.
  Result<IndexLoadReport> LoadIndexFiles(const std::vector<storage::ObjectInfo>& files);
  static std::string KindKey(ObjectKind kind, const Id& id);

  std::shared_ptr<storage::ObjectStore> store_;
  Clock* clock_;
  RepoConfig config_;
  std::string config_sha256_;
  MasterKey master_;
  std::string key_id_;
  Index index_;
  mutable std::mutex mu_;
  std::set<Id> loaded_index_files_;
  std::set<Id> unfiled_packs_;  // in index_, named by no index file yet
};

}  // namespace ailee::repo
