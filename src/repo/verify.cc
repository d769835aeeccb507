#include "repo/verify.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "base/parallel.h"
#include "repo/blob_run_reader.h"
#include "repo/block_archive_upkeep.h"
#include "repo/pack.h"
#include "repo/snapshot.h"

namespace ailee::repo {

std::string VerifyProblem::ToString() const {
  // Messages from lower layers often start with the object already.
  std::string s = message.rfind(object + ":", 0) == 0 ? message : object + ": " + message;
  if (!snapshot_id.empty()) s += " [snapshot " + snapshot_id + "]";
  if (!path.empty()) s += " [file " + path + "]";
  if (!pack_id.empty() && object.rfind("pack", 0) != 0) s += " [pack " + pack_id + "]";
  if (!blob_id.empty() && object.rfind("blob", 0) != 0) s += " [blob " + blob_id + "]";
  return s;
}

Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options) {
  ASSIGN_OR_RETURN(auto repo_lock,
                   RepoLock::Acquire(repo.shared_store(), repo.clock(), /*exclusive=*/false, options.lock));
  VerifyReport report;
  std::mutex mu;
  auto add = [&](VerifyProblem p) {
    std::lock_guard lock(mu);
    report.problems.push_back(std::move(p));
  };

  // Key slots and the config: every slot's bytes hash to its name, also the
  // slots this Repository was not opened with (a damaged one would fail the
  // next run that relies on it); the config hashes to what the slots recorded.
  ASSIGN_OR_RETURN(auto keys, repo.ListKeys());
  ASSIGN_OR_RETURN(std::string config_text, repo.store().Get(ConfigKey()));
  const std::string config_sha256 = IdHex(crypto::Sha256(config_text));
  const KeyInfo* config_witness = nullptr;
  for (const auto& k : keys) {
    if (k.damaged) {
      add({"key slot " + k.id, "", "", "", "", DamagedKeySlotMessage(k.id, repo.Location())});
    } else if (k.current && !k.config_sha256.empty() && k.config_sha256 != config_sha256) {
      config_witness = &k;  // the slot that opened: it belongs to this repository
    }
  }
  if (config_witness) {
    add({"config", "", "", "", "",
         "damaged: its SHA-256 " + config_sha256 + " differs from " + config_witness->config_sha256 +
             ", recorded by key slot " + config_witness->id +
             " when the repository was created; copy `config` back from a replica of this repository"});
  }

  // Snapshots are listed before the index is read: a backup running beside
  // this verify (it holds a shared lock too) saves its snapshot only after
  // its packs and index files are durable, so every snapshot listed here has
  // its blobs in the index read next. Read the other way round, a snapshot
  // that lands in between would look like one whose blobs are in no index.
  ASSIGN_OR_RETURN(SnapshotListing listing, ListSnapshots(repo));

  // Index files.
  ASSIGN_OR_RETURN(IndexLoadReport loaded, repo.ReloadIndex());
  report.index_files = loaded.files_loaded + loaded.damaged.size();
  for (const auto& [id, st] : loaded.damaged) {
    add({"index " + IdHex(id), "", "", "", "", st.message()});
  }

  // Packs: listed ones exist with the right size.
  ASSIGN_OR_RETURN(auto stored, repo.store().List(std::string(kDataPrefix)));
  std::map<Id, uint64_t> present;
  for (const auto& obj : stored) {
    auto id = IdFromKey(obj.key);
    if (!id.ok()) continue;
    present[*id] = obj.size;
  }
  const auto packs = repo.index().Packs();
  report.packs = packs.size();
  for (const auto& [pack, rec] : packs) {
    report.blobs += rec.blobs.size();
    auto it = present.find(pack);
    if (it == present.end()) {
      add({"pack " + IdHex(pack), "", "", IdHex(pack), "", "listed in the index but missing from the store"});
    } else if (it->second != rec.size) {
      add({"pack " + IdHex(pack), "", "", IdHex(pack), "",
           "size is " + std::to_string(it->second) + " bytes, the index records " + std::to_string(rec.size) +
               " (truncated or replaced)"});
    }
  }
  for (const auto& [pack, size] : present) {
    if (!packs.count(pack)) ++report.unreferenced_packs;
  }

  // Snapshots (listed above) and their references.
  report.snapshots = listing.snapshots.size() + listing.damaged.size();
  for (const auto& [id, st] : listing.damaged) {
    add({"snapshot " + IdHex(id), IdHex(id), "", "", "", st.message()});
  }
  for (const auto& s : listing.snapshots) {
    for (const auto& f : s.files) {
      for (const auto& c : f.chunks) {
        if (!repo.index().Has(c)) {
          add({"blob " + IdHex(c), s.id_hex(), f.path, "", IdHex(c), "referenced but in no index"});
        }
      }
    }
  }
  // The block archive (block_archive_upkeep.h): ranges always, contents with read_data.
  ASSIGN_OR_RETURN(BlockArchiveCheck blocks, CheckBlockArchive(repo, options.read_data));
  report.block_segments = blocks.segments;
  for (auto& p : blocks.problems) add({p.object, "", "", "", "", p.message});
  if (!options.read_data) return report;

  // Read every stored byte once: pack headers, then every referenced blob
  // file by file (decrypt, decompress, id check, file hash), then the blobs
  // no file references. AEAD tags cover every blob and header, so this finds
  // any damage that a whole-object hash would, and says which file it hits.
  std::vector<std::pair<Id, uint64_t>> pack_list(present.begin(), present.end());
  uint64_t total = 0;
  for (const auto& [pack, rec] : packs) {
    for (const auto& b : rec.blobs) total += b.length;
  }
  std::atomic<uint64_t> done{0};
  // Damage is a problem to report; a store that does not answer
  // (kUnavailable) ends verify: ParallelFor stops at the first one.
  auto fatal = [](const Status& st) { return st.code() == StatusCode::kUnavailable; };
  RETURN_IF_ERROR(ParallelFor(pack_list.size(), options.workers, [&](size_t i, int) {
    const auto& [pack, size] = pack_list[i];
    auto header = ReadPackHeader(repo.store(), repo.master_key(), pack, size);
    if (!header.ok()) {
      if (fatal(header.status())) return header.status();
      add({"pack " + IdHex(pack), "", "", IdHex(pack), "", header.status().message()});
      return Status::Ok();
    }
    auto it = packs.find(pack);
    if (it != packs.end() && header->size() != it->second.blobs.size()) {
      add({"pack " + IdHex(pack), "", "", IdHex(pack), "",
           "header lists " + std::to_string(header->size()) + " blobs, the index " +
               std::to_string(it->second.blobs.size())});
    }
    return Status::Ok();
  }));

  // Distinct files (same content in many snapshots is checked once).
  struct FileRef {
    const Snapshot* snap;
    const FileEntry* file;
  };
  std::vector<FileRef> files;
  std::map<std::pair<std::string, std::vector<Id>>, size_t> seen;
  for (const auto& s : listing.snapshots) {
    for (const auto& f : s.files) {
      if (f.type != FileEntry::Type::kFile) continue;
      if (seen.emplace(std::make_pair(f.sha256, f.chunks), files.size()).second) files.push_back({&s, &f});
    }
  }
  std::mutex blob_mu;
  std::unordered_map<Id, Status, IdHash> checked;  // blob -> result of decoding it
  auto record_blob = [&](const Id& id, const Result<std::string_view>& data) {
    if (data.ok()) done += data->size();
    if (options.progress) options.progress(done.load(), total);
    std::lock_guard lock(blob_mu);
    checked[id] = data.ok() ? Status::Ok() : data.status();
  };
  // Largest files first, so that no worker is left hashing a big file alone.
  std::vector<size_t> order(files.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return files[a].file->size > files[b].file->size; });
  std::vector<std::vector<VerifyProblem>> file_problems(files.size());
  // One set of reusable buffers per worker thread. A file's adjacent chunks
  // come with one ranged read (repo/blob_run_reader.h).
  std::vector<BlobRunBuffers> buffers(static_cast<size_t>(std::max(1, options.read_workers)));
  RETURN_IF_ERROR(ParallelFor(files.size(), options.read_workers, [&](size_t k, int worker) {
    const size_t i = order[k];
    const FileEntry& f = *files[i].file;
    crypto::Sha256Stream sha;
    bool complete = true;
    BlobRunReader reader(repo, f.chunks, options.reads, &buffers[worker]);
    for (const auto& c : f.chunks) {
      auto data = reader.Next();
      record_blob(c, data);
      if (!data.ok()) {
        if (fatal(data.status())) return data.status();
        complete = false;
        auto loc = repo.index().Find(c);
        file_problems[i].push_back(
            {"blob " + IdHex(c), "", f.path, loc ? IdHex(loc->pack) : "", IdHex(c), data.status().message()});
        continue;
      }
      sha.Update(*data);
    }
    if (!complete) return Status::Ok();
    ASSIGN_OR_RETURN(crypto::Hash256 hash, sha.Finish());
    if (crypto::HashToHex(hash) != f.sha256) {
      file_problems[i].push_back({"file " + f.path, "", f.path, "", "", "content does not match the recorded SHA-256"});
    }
    return Status::Ok();
  }));
  report.files_checked = files.size();
  for (const auto& s : listing.snapshots) {
    for (const auto& f : s.files) {
      if (f.type != FileEntry::Type::kFile) continue;
      for (const auto& p : file_problems[seen.at({f.sha256, f.chunks})]) {
        VerifyProblem q = p;
        q.snapshot_id = s.id_hex();
        q.path = f.path;
        add(std::move(q));
      }
    }
  }

  // What a restore would find: each snapshot whose files all read back
  // intact goes through the caller's check (for state snapshots: do the
  // files form a database that opens). Snapshots with problems above are
  // already reported and not checked again.
  if (options.check_snapshot) {
    std::set<std::string> damaged;
    {
      std::lock_guard lock(mu);
      for (const auto& p : report.problems) {
        if (!p.snapshot_id.empty()) damaged.insert(p.snapshot_id);
      }
    }
    std::vector<const Snapshot*> to_open;
    for (const auto& s : listing.snapshots) {
      if (!damaged.count(s.id_hex())) to_open.push_back(&s);
    }
    RETURN_IF_ERROR(ParallelFor(to_open.size(), options.workers, [&](size_t i, int) {
      const Snapshot& s = *to_open[i];
      Status st = options.check_snapshot(s);
      if (st.ok() || fatal(st)) return st;
      // The message names the file first ("table file 000123.sst: ...").
      std::string path;
      const std::string& m = st.message();
      size_t colon = m.find(": ");
      if (colon != std::string::npos) {
        std::string head = m.substr(0, colon);
        if (head.rfind("table file ", 0) == 0) head = head.substr(11);
        for (const auto& f : s.files) {
          if (f.path == head) path = head;
        }
      }
      add({"snapshot " + s.id_hex(), s.id_hex(), path, "", "", m});
      return Status::Ok();
    }));
    report.snapshots_checked = to_open.size();
  }

  // Blobs no snapshot references (prune will drop them; damage there is still reported).
  std::vector<std::pair<Id, Id>> rest;  // blob, pack
  for (const auto& [pack, rec] : packs) {
    for (const auto& b : rec.blobs) {
      if (!checked.count(b.id)) rest.emplace_back(b.id, pack);
    }
  }
  RETURN_IF_ERROR(ParallelFor(rest.size(), options.read_workers, [&](size_t i, int worker) {
    auto data = repo.ReadBlob(rest[i].first, &buffers[worker].blob);
    record_blob(rest[i].first, data);
    if (data.ok() || fatal(data.status())) return data.status();
    add({"blob " + IdHex(rest[i].first), "", "", IdHex(rest[i].second), IdHex(rest[i].first),
         data.status().message()});
    return Status::Ok();
  }));
  report.bytes_read = done.load();
  return report;
}

}  // namespace ailee::repo
