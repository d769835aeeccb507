#include "repo/copy.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "base/parallel.h"
#include "repo/block_archive_upkeep.h"
#include "repo/snapshot.h"

namespace ailee::repo {
namespace {

// Reads `key` from `from` and checks that its name is the SHA-256 of its
// bytes (every content-addressed object is named so).
Result<std::string> ReadChecked(storage::ObjectStore& from, const std::string& key, const Id& expected) {
  ASSIGN_OR_RETURN(std::string bytes, from.Get(key));
  if (crypto::Sha256(bytes) != expected) {
    return DataLoss(key + " in " + from.Location() +
                    " does not match its name (damaged); it was not copied. Run `ailee-cli verify --read-data`");
  }
  return bytes;
}

Result<std::set<std::string>> ListKeys(storage::ObjectStore& store, std::string_view prefix) {
  ASSIGN_OR_RETURN(auto objects, store.List(std::string(prefix)));
  std::set<std::string> keys;
  for (auto& o : objects) keys.insert(std::move(o.key));
  return keys;
}

Result<std::vector<Snapshot>> SelectSnapshots(Repository& source, const std::vector<std::string>& refs) {
  if (refs.empty()) {
    ASSIGN_OR_RETURN(SnapshotListing listing, ListSnapshots(source));
    return std::move(listing.snapshots);
  }
  std::vector<Snapshot> out;
  std::set<Id> seen;
  for (const auto& ref : refs) {
    ASSIGN_OR_RETURN(Snapshot s, FindSnapshot(source, ref));
    if (seen.insert(s.id).second) out.push_back(std::move(s));
  }
  return out;
}

// Makes `destination` hold this repository's key slots and config. Refuses
// a destination that holds another repository before writing anything.
Status PrepareReplica(Repository& source, storage::ObjectStore& destination, CopyStats& stats) {
  auto config = destination.Get(ConfigKey());
  if (config.ok()) {
    std::string id;
    try {
      id = nlohmann::json::parse(*config).at("id").get<std::string>();
    } catch (const std::exception&) {
      return DataLoss("config in " + destination.Location() + " is damaged; refusing to copy into it");
    }
    if (id != source.config().id) {
      return FailedPrecondition("the repository at " + destination.Location() + " (id " + id.substr(0, 8) +
                                ") is not a copy of the one at " + source.Location() + " (id " +
                                source.config().id.substr(0, 8) + "); copy into an empty location instead");
    }
  } else if (config.status().code() != StatusCode::kNotFound) {
    return config.status().WithContext("reading the destination's config");
  }
  ASSIGN_OR_RETURN(auto have, ListKeys(destination, kKeysPrefix));
  ASSIGN_OR_RETURN(auto want, ListKeys(source.store(), kKeysPrefix));
  for (const auto& key : want) {
    if (have.count(key)) continue;
    ASSIGN_OR_RETURN(Id id, IdFromKey(key));
    ASSIGN_OR_RETURN(std::string slot, ReadChecked(source.store(), key, id));
    RETURN_IF_ERROR(destination.Put(key, slot));
    stats.key_slots_copied++;
  }
  if (config.ok()) return Status::Ok();
  ASSIGN_OR_RETURN(std::string source_config, source.store().Get(ConfigKey()));
  Status st = destination.PutIfAbsent(ConfigKey(), source_config);
  if (st.ok()) {
    stats.created_replica = true;
    return st;
  }
  // A concurrent copy created it first: fine if it is the same repository
  // (OpenReplica checks).
  return st.code() == StatusCode::kAlreadyExists ? Status::Ok() : st;
}

// Copies `packs` with `workers` threads; stops at the first error.
Status CopyPacks(Repository& source, storage::ObjectStore& destination, const std::vector<std::pair<Id, uint64_t>>& packs,
                 const CopyOptions& options, CopyStats& stats) {
  std::mutex mu;  // orders progress reports
  uint64_t bytes_done = 0;
  uint64_t total = 0;
  for (const auto& p : packs) total += p.second;
  RETURN_IF_ERROR(ParallelFor(packs.size(), options.workers, [&](size_t i, int) {
    const Id& id = packs[i].first;
    auto bytes = ReadChecked(source.store(), PackKey(id), id);
    Status st = bytes.ok() ? destination.Put(PackKey(id), *bytes) : bytes.status();
    if (!st.ok()) return st.WithContext("copying pack " + ShortId(id));
    std::lock_guard<std::mutex> lock(mu);
    bytes_done += packs[i].second;
    if (options.progress) options.progress(CopyProgress{bytes_done, total});
    return Status::Ok();
  }));
  stats.packs_copied = packs.size();
  stats.bytes_copied = total;
  return Status::Ok();
}

}  // namespace

Result<CopyStats> CopySnapshots(Repository& source, std::shared_ptr<storage::ObjectStore> destination,
                                const CopyOptions& options) {
  CopyStats stats;
  ASSIGN_OR_RETURN(std::vector<Snapshot> selected, SelectSnapshots(source, options.snapshots));
  stats.snapshots_selected = selected.size();

  RETURN_IF_ERROR(PrepareReplica(source, *destination, stats));
  ASSIGN_OR_RETURN(auto replica, source.OpenReplica(destination));
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(destination, source.clock(), /*exclusive=*/false, options.lock));

  ASSIGN_OR_RETURN(auto present_snapshots, ListKeys(*destination, kSnapshotsPrefix));
  std::vector<const Snapshot*> missing;
  for (const auto& s : selected) {
    if (!present_snapshots.count(SnapshotKey(s.id))) missing.push_back(&s);
  }

  // The packs the missing snapshots need that the destination has not
  // indexed. A blob the destination already indexes (in any pack) is fine.
  std::set<Id> needed;
  for (const Snapshot* s : missing) {
    for (const auto& f : s->files) {
      for (const Id& blob : f.chunks) {
        if (replica->index().Has(blob)) continue;
        auto loc = source.index().Find(blob);
        if (!loc) {
          return DataLoss("snapshot " + ShortId(s->id) + " file " + f.path + ": blob " + ShortId(blob) +
                          " is in no index of " + source.Location() + "; run `ailee-cli verify` there");
        }
        needed.insert(loc->pack);
      }
    }
  }
  stats.packs_needed = needed.size();

  ASSIGN_OR_RETURN(auto present_packs, ListKeys(*destination, kDataPrefix));
  const std::map<Id, PackRecord> source_packs = source.index().Packs();
  std::vector<std::pair<Id, uint64_t>> to_copy;
  std::map<Id, PackRecord> to_index;
  for (const Id& pack : needed) {
    auto rec = source_packs.find(pack);
    if (rec == source_packs.end()) return Internal("pack " + ShortId(pack) + " vanished from the source index");
    if (!present_packs.count(PackKey(pack))) to_copy.emplace_back(pack, rec->second.size);
    to_index.emplace(pack, rec->second);
  }
  RETURN_IF_ERROR(CopyPacks(source, *destination, to_copy, options, stats));
  if (!to_index.empty()) {
    RETURN_IF_ERROR(replica->WriteIndex(to_index).status());
    stats.index_files_written = 1;
  }

  // Snapshots last: each is the commit point of its copy.
  for (const Snapshot* s : missing) {
    const std::string key = SnapshotKey(s->id);
    ASSIGN_OR_RETURN(std::string bytes, ReadChecked(source.store(), key, s->id));
    RETURN_IF_ERROR(destination->Put(key, bytes));
    stats.snapshots_copied++;
    stats.copied_snapshot_ids.push_back(s->id_hex());
  }
  // The block archive travels with the snapshots it rolls forward.
  ASSIGN_OR_RETURN(stats.block_segments_copied, CopyBlockSegments(source, *destination));
  RETURN_IF_ERROR(lock->Release());
  return stats;
}

Result<ReplicaListing> ListReplica(storage::ObjectStore& store) {
  ReplicaListing out;
  auto config = store.Get(ConfigKey());
  if (!config.ok()) {
    if (config.status().code() == StatusCode::kNotFound) return NotFound("no repository at " + store.Location());
    return config.status();
  }
  try {
    out.repo_id = nlohmann::json::parse(*config).at("id").get<std::string>();
  } catch (const std::exception&) {
    return DataLoss("config in " + store.Location() + " is damaged");
  }
  ASSIGN_OR_RETURN(auto snapshots, store.List(std::string(kSnapshotsPrefix)));
  for (const auto& o : snapshots) {
    auto id = IdFromKey(o.key);
    if (id.ok()) out.snapshot_ids.push_back(IdHex(*id));
  }
  std::sort(out.snapshot_ids.begin(), out.snapshot_ids.end());
  return out;
}

}  // namespace ailee::repo
