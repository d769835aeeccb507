#include "repo/verify.h"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "repo/pack.h"
#include "repo/snapshot.h"

namespace ailee::repo {
namespace {

// Runs fn(i) for i in [0, n) on `workers` threads.
template <typename Fn>
void ParallelFor(size_t n, int workers, Fn fn) {
  std::atomic<size_t> next{0};
  auto loop = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < workers; ++t) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
}

}  // namespace

std::string VerifyProblem::ToString() const {
  std::string s = object + ": " + message;
  if (!snapshot_id.empty()) s += " [snapshot " + snapshot_id + "]";
  if (!path.empty()) s += " [file " + path + "]";
  if (!pack_id.empty() && object.rfind("pack", 0) != 0) s += " [pack " + pack_id + "]";
  if (!blob_id.empty() && object.rfind("blob", 0) != 0) s += " [blob " + blob_id + "]";
  return s;
}

Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options) {
  VerifyReport report;
  std::mutex mu;
  auto add = [&](VerifyProblem p) {
    std::lock_guard lock(mu);
    report.problems.push_back(std::move(p));
  };

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

  // Snapshots and their references.
  ASSIGN_OR_RETURN(SnapshotListing listing, ListSnapshots(repo));
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
  if (!options.read_data) return report;

  // Whole packs: content hash and header.
  std::vector<std::pair<Id, uint64_t>> pack_list(present.begin(), present.end());
  uint64_t total = 0;
  for (const auto& p : pack_list) total += p.second;
  std::atomic<uint64_t> done{0};
  std::unordered_map<Id, std::string, IdHash> damaged_packs;
  Status fatal;
  ParallelFor(pack_list.size(), options.workers, [&](size_t i) {
    const Id& pack = pack_list[i].first;
    auto bytes = repo.store().Get(PackKey(pack));
    if (!bytes.ok()) {
      std::lock_guard lock(mu);
      if (bytes.status().code() == StatusCode::kUnavailable && fatal.ok()) fatal = bytes.status();
      damaged_packs[pack] = bytes.status().message();
      return;
    }
    done += bytes->size();
    if (options.progress) options.progress(done.load(), total);
    std::string problem;
    if (crypto::Sha256(*bytes) != pack) {
      problem = "content does not match its name (bit rot, truncation or tampering)";
    } else if (auto header = ParsePackHeader(repo.master_key(), pack, *bytes); !header.ok()) {
      problem = header.status().message();
    }
    if (!problem.empty()) {
      std::lock_guard lock(mu);
      damaged_packs[pack] = problem;
    }
  });
  RETURN_IF_ERROR(fatal);
  report.bytes_read = done.load();
  for (const auto& [pack, why] : damaged_packs) {
    add({"pack " + IdHex(pack), "", "", IdHex(pack), "", why});
  }

  // Every distinct file: decode each blob and check the file hash.
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
  // Problems found per distinct file, then reported for every snapshot holding it.
  std::vector<std::vector<VerifyProblem>> file_problems(files.size());
  std::mutex blob_mu;
  std::unordered_map<Id, std::string, IdHash> bad_blobs;
  ParallelFor(files.size(), options.workers, [&](size_t i) {
    const FileEntry& f = *files[i].file;
    crypto::Sha256Stream sha;
    bool complete = true;
    for (const auto& c : f.chunks) {
      auto loc = repo.index().Find(c);
      std::string pack_hex = loc ? IdHex(loc->pack) : "";
      auto data = repo.LoadBlob(c);
      if (!data.ok()) {
        complete = false;
        file_problems[i].push_back({"blob " + IdHex(c), "", f.path, pack_hex, IdHex(c), data.status().message()});
        std::lock_guard lock(blob_mu);
        bad_blobs[c] = data.status().message();
        continue;
      }
      sha.Update(*data);
    }
    if (complete && crypto::HashToHex(sha.Finish()) != f.sha256) {
      file_problems[i].push_back({"file " + f.path, "", f.path, "", "", "content does not match the recorded SHA-256"});
    }
  });
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
  return report;
}

}  // namespace ailee::repo
