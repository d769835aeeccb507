#include "ops/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "state/state_db.h"
#include "state/verify.h"

namespace ailee::ops {
namespace {

using nlohmann::json;

Result<crypto::Hash256> HashFile(const std::string& path) { return crypto::Sha256File(path); }

// Copies src to dst (created exclusively), hashing what it writes, fsynced.
Result<crypto::Hash256> CopyFileHashed(const std::string& src, const std::string& dst) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("open", src, errno);
  ::posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto out = fs::FileWriter::Create(dst, 0644, true);
  if (!out.ok()) {
    ::close(in);
    return out.status();
  }
  crypto::Sha256Stream sha;
  std::string buf(1 << 20, '\0');
  Status st;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoStatus("read", src, errno);
      break;
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    sha.Update(chunk);
    st = out->Append(chunk);
    if (!st.ok()) break;
  }
  ::close(in);
  if (st.ok()) st = out->Sync();
  if (st.ok()) st = out->Close();
  if (!st.ok()) {
    ::unlink(dst.c_str());
    return st;
  }
  return sha.Finish();
}

std::vector<std::string> RegularFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = std::filesystem::relative(it->path(), dir, ec).string();
    if (rel == kCheckpointManifestName) continue;
    out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs fn(i) for i in [0, n) on two threads; returns the first error.
Status ParallelFor(size_t n, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = st;
        next = n;
      }
    }
  };
  auto other = std::async(std::launch::async, worker);
  worker();
  other.get();
  return first;
}

}  // namespace

std::string EncodeManifest(const CheckpointManifest& m) {
  json files = json::array();
  for (const auto& f : m.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", crypto::HashToHex(f.sha256)}});
  json j = {{"format", "ailee-checkpoint/" + std::to_string(m.format)},
            {"node_id", m.node_id},
            {"height", m.height},
            {"block_hash", crypto::HashToHex(m.block_hash)},
            {"state_root", crypto::HashToHex(m.state_root)},
            {"created", FormatUtc(m.created_unix)},
            {"source", m.source},
            {"files", files}};
  return j.dump(2) + "\n";
}

Result<CheckpointManifest> DecodeManifest(std::string_view text, const std::string& where) {
  CheckpointManifest m;
  try {
    json j = json::parse(text);
    if (j.at("format").get<std::string>() != "ailee-checkpoint/1")
      return InvalidArgument(where + ": unsupported manifest format " + j.at("format").dump());
    m.node_id = j.at("node_id").get<std::string>();
    m.height = j.at("height").get<uint64_t>();
    if (!crypto::HashFromHex(j.at("block_hash").get<std::string>(), &m.block_hash) ||
        !crypto::HashFromHex(j.at("state_root").get<std::string>(), &m.state_root))
      return DataLoss(where + ": block_hash/state_root are not 64 hex characters");
    ParseUtc(j.at("created").get<std::string>(), &m.created_unix);
    m.source = j.value("source", "");
    for (const auto& f : j.at("files")) {
      CheckpointFile cf{f.at("path").get<std::string>(), f.at("size").get<uint64_t>(), {}};
      if (!crypto::HashFromHex(f.at("sha256").get<std::string>(), &cf.sha256))
        return DataLoss(where + ": file " + cf.path + " has a malformed sha256");
      if (cf.path.empty() || cf.path[0] == '/' || cf.path.find("..") != std::string::npos)
        return DataLoss(where + ": file path '" + cf.path + "' escapes the checkpoint");
      m.files.push_back(std::move(cf));
    }
  } catch (const std::exception& e) {
    return DataLoss(where + ": manifest is not valid: " + e.what());
  }
  return m;
}

Result<CheckpointManifest> ReadManifest(const std::string& dir) {
  std::string path = fs::JoinPath(dir, kCheckpointManifestName);
  auto text = fs::ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return NotFound(dir + " is not a checkpoint: " + kCheckpointManifestName + " is missing (incomplete or not created by ailee-cli)");
    return text.status();
  }
  return DecodeManifest(*text, path);
}

Result<std::vector<CheckpointFile>> HashTree(const std::string& dir, const ProgressFn& progress) {
  auto names = RegularFiles(dir);
  std::vector<CheckpointFile> files(names.size());
  std::atomic<uint64_t> done{0};
  RETURN_IF_ERROR(ParallelFor(names.size(), [&](size_t i) -> Status {
    std::string full = fs::JoinPath(dir, names[i]);
    ASSIGN_OR_RETURN(uint64_t size, fs::FileSize(full));
    ASSIGN_OR_RETURN(auto hash, HashFile(full));
    files[i] = {names[i], size, hash};
    done += size;
    return Status::Ok();
  }));
  if (progress) progress("hash", done, done);
  return files;
}

Result<CheckpointManifest> TakeCheckpoint(const CreateCheckpointOptions& o, const std::string& dir) {
  CheckpointManifest m;
  m.node_id = o.node_id;
  m.created_unix = Clock::Real().NowSeconds();
  if (!o.node_url.empty()) {
    node::NodeClient client(o.node_url, o.admin_token, 600000);
    ASSIGN_OR_RETURN(auto info, client.PostJson("/v1/admin/checkpoint", {{"path", dir}}, true));
    m.height = info["height"].get<uint64_t>();
    crypto::HashFromHex(info["block_hash"].get<std::string>(), &m.block_hash);
    crypto::HashFromHex(info["state_root"].get<std::string>(), &m.state_root);
    if (info.contains("node_id")) m.node_id = info["node_id"].get<std::string>();
    m.source = "online:" + o.node_url;
    return m;
  }
  if (o.data_dir.empty()) return InvalidArgument("no running node to ask and no data dir to open");
  if (!fs::IsDirectory(o.data_dir)) return NotFound("data dir " + o.data_dir + " does not exist");
  auto db = state::StateDb::Open(o.data_dir, state::OpenOptions{false, false});
  if (!db.ok()) {
    if (db.status().code() == StatusCode::kUnavailable)
      return WithHint(FailedPrecondition("data dir " + o.data_dir + " is in use by a running node"), "stop the node first (systemctl stop ailee-node), or take the checkpoint through its admin API: without --offline, with the node answering at its configured listen address");
    return db.status();
  }
  ASSIGN_OR_RETURN(auto info, (*db)->CreateCheckpoint(dir));
  m.height = info.height;
  m.block_hash = info.block_hash;
  m.state_root = info.state_root;
  m.source = "offline:" + o.data_dir;
  return m;
}

Result<CheckpointManifest> CreateCheckpoint(const CreateCheckpointOptions& o) {
  if (o.output.empty()) return InvalidArgument("--output: a directory path is required");
  std::string output = std::filesystem::absolute(o.output).lexically_normal().string();
  if (!output.empty() && output.back() == '/') output.pop_back();
  if (fs::Exists(output)) return AlreadyExists("checkpoint target " + output + " already exists");
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(output)));
  std::string staging = output + ".partial";
  RETURN_IF_ERROR(fs::RemoveAll(staging));  // leftover of an interrupted run

  ASSIGN_OR_RETURN(CheckpointManifest m, TakeCheckpoint(o, staging));
  auto cleanup = [&](Status st) { (void)fs::RemoveAll(staging); return st; };
  auto files = HashTree(staging, o.progress);
  if (!files.ok()) return cleanup(files.status());
  m.files = std::move(*files);
  for (const auto& f : m.files) {
    Status st = fs::FsyncFile(fs::JoinPath(staging, f.path));
    if (!st.ok()) return cleanup(st);
  }
  Status st = fs::WriteFileAtomic(fs::JoinPath(staging, kCheckpointManifestName), EncodeManifest(m));
  if (st.ok()) st = fs::RenameDurable(staging, output);
  if (!st.ok()) return cleanup(st);
  return m;
}

Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<state::Federation>& federation,
                                                const ProgressFn& progress, bool files_hashed) {
  CheckpointVerifyReport r;
  ASSIGN_OR_RETURN(r.manifest, ReadManifest(dir));
  // 1. Files against the manifest.
  std::map<std::string, const CheckpointFile*> expected;
  for (const auto& f : r.manifest.files) expected[f.path] = &f;
  auto present = RegularFiles(dir);
  for (const auto& p : present) {
    if (!expected.count(p)) r.problems.push_back("file " + p + ": not in the manifest (added after the checkpoint was made)");
  }
  std::vector<std::string> problems(r.manifest.files.size());
  std::atomic<uint64_t> bytes{0};
  RETURN_IF_ERROR(ParallelFor(r.manifest.files.size(), [&](size_t i) -> Status {
    const auto& f = r.manifest.files[i];
    std::string full = fs::JoinPath(dir, f.path);
    auto size = fs::FileSize(full);
    if (!size.ok()) { problems[i] = "file " + f.path + ": missing"; return Status::Ok(); }
    if (*size != f.size) {
      problems[i] = "file " + f.path + ": size " + std::to_string(*size) + ", manifest says " + std::to_string(f.size);
      return Status::Ok();
    }
    if (files_hashed) {
      bytes += f.size;
      return Status::Ok();
    }
    auto hash = HashFile(full);
    if (!hash.ok()) { problems[i] = "file " + f.path + ": " + hash.status().message(); return Status::Ok(); }
    if (*hash != f.sha256) problems[i] = "file " + f.path + ": SHA-256 " + crypto::HashToHex(*hash) + " differs from the manifest's " + crypto::HashToHex(f.sha256);
    bytes += f.size;
    return Status::Ok();
  }));
  for (auto& p : problems) if (!p.empty()) r.problems.push_back(std::move(p));
  r.files_checked = r.manifest.files.size();
  r.bytes_checked = bytes;
  if (progress) progress("files", r.bytes_checked, r.bytes_checked);

  // 2. The database itself: chain, signatures, anchors, state root from scratch.
  state::VerifyOptions vo;
  vo.federation = federation;
  vo.expected_state_root = r.manifest.state_root;
  if (progress) vo.progress = [&](const state::VerifyProgress& p) { progress(p.phase, p.done, p.total); };
  auto vr = state::VerifyState(dir, vo);
  if (!vr.ok()) {
    r.problems.push_back("database: " + vr.status().message());
  } else {
    r.recomputed_state_root = vr->state_root;
    r.entries_checked = vr->entries_checked;
    for (const auto& p : vr->problems) r.problems.push_back("database: " + p);
    if (vr->tip_height != r.manifest.height)
      r.problems.push_back("database tip is height " + std::to_string(vr->tip_height) + ", manifest says " + std::to_string(r.manifest.height));
    if (vr->tip_block_hash != r.manifest.block_hash)
      r.problems.push_back("database tip hash " + crypto::HashToHex(vr->tip_block_hash) + " differs from the manifest's " + crypto::HashToHex(r.manifest.block_hash));
  }
  r.ok = r.problems.empty();
  return r;
}

Status EnsureNotInUse(const std::string& dir) {
  std::string lock = fs::JoinPath(dir, "LOCK");
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::Ok();
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int rc = ::fcntl(fd, F_GETLK, &fl);
  ::close(fd);
  if (rc == 0 && fl.l_type != F_UNLCK)
    return WithHint(FailedPrecondition(dir + " is in use by a running node (pid " + std::to_string(fl.l_pid) + ")"), "stop the node first (systemctl stop ailee-node), then rerun");
  return Status::Ok();
}

Status InstallDirectory(const std::string& staged, const std::string& target) {
  RETURN_IF_ERROR(fs::FsyncDir(staged));
  if (!fs::Exists(target)) return fs::RenameDurable(staged, target);
  // Atomic swap: the target path switches from the old tree to the new one
  // in a single step; `staged` then names the old tree, removed afterwards.
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0)
    return ErrnoStatus("swap " + staged + " with", target, errno);
  // From here the new state is in place: the old tree is only garbage (the
  // next apply removes a leftover), and a failed sync is reported as such.
  Status synced = fs::FsyncDir(fs::Dirname(target));
  (void)fs::RemoveAll(staged);
  return synced.WithContext("the new state is at " + target + " but its directory could not be synced");
}

Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target_in, const ProgressFn& progress,
                                       bool consume_src) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  ApplyReport r;
  ASSIGN_OR_RETURN(r.manifest, ReadManifest(src));
  RETURN_IF_ERROR(EnsureNotInUse(target));
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(target)));
  std::string staged = target + ".apply-partial";
  RETURN_IF_ERROR(fs::RemoveAll(staged));
  RETURN_IF_ERROR(fs::MakeDirs(staged));
  auto fail = [&](Status st) { (void)fs::RemoveAll(staged); return st; };

  // Existing target files, by relative path, for reuse.
  std::map<std::string, bool> existing;
  if (fs::IsDirectory(target)) for (auto& p : RegularFiles(target)) existing[p] = true;

  std::atomic<uint64_t> written{0}, reused{0}, reused_files{0};
  uint64_t total = 0;
  for (const auto& f : r.manifest.files) total += f.size;
  Status st = ParallelFor(r.manifest.files.size(), [&](size_t i) -> Status {
    const auto& f = r.manifest.files[i];
    std::string dst = fs::JoinPath(staged, f.path);
    RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(dst)));
    if (existing.count(f.path)) {
      std::string old = fs::JoinPath(target, f.path);
      auto size = fs::FileSize(old);
      if (size.ok() && *size == f.size) {
        auto hash = HashFile(old);
        // Only immutable files may be shared by hard link; the rest are copied.
        if (hash.ok() && *hash == f.sha256) {
          bool is_sst = f.path.size() > 4 && f.path.compare(f.path.size() - 4, 4, ".sst") == 0;
          if (is_sst && ::link(old.c_str(), dst.c_str()) == 0) {
            reused += f.size;
            reused_files++;
            return Status::Ok();
          }
          ASSIGN_OR_RETURN(auto h2, CopyFileHashed(old, dst));
          if (h2 == f.sha256) {
            reused += f.size;
            reused_files++;
            return Status::Ok();
          }
          ::unlink(dst.c_str());
        }
      }
    }
    if (consume_src && ::link(fs::JoinPath(src, f.path).c_str(), dst.c_str()) == 0) {
      written += f.size;
      if (progress) progress("apply", written + reused, total);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto hash, CopyFileHashed(fs::JoinPath(src, f.path), dst));
    if (hash != f.sha256) {
      return DataLoss("checkpoint file " + fs::JoinPath(src, f.path) + " does not match its manifest (SHA-256 " +
                      crypto::HashToHex(hash) + "); the checkpoint is damaged, nothing was applied");
    }
    written += f.size;
    if (progress) progress("apply", written + reused, total);
    return Status::Ok();
  });
  if (!st.ok()) return fail(st.WithContext("applying " + src + " to " + target));
  st = fs::WriteFileAtomic(fs::JoinPath(staged, kCheckpointManifestName), EncodeManifest(r.manifest));
  if (st.ok()) st = InstallDirectory(staged, target);
  if (!st.ok()) return fail(st);
  r.files = r.manifest.files.size();
  r.files_reused = reused_files;
  r.bytes_written = written;
  r.bytes_reused = reused;
  return r;
}

}  // namespace ailee::ops
