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
#include "base/scratch.h"
#include "base/hint.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "ops/checkpoint_files.h"
#include "state/state_db.h"
#include "state/verify.h"

namespace ailee::ops {
namespace {

using nlohmann::json;

Result<crypto::Hash256> HashFile(const std::string& path) { return crypto::Sha256File(path); }

// Copies the opened file to dst (created exclusively), hashing what it
// writes, fsynced. Nothing is left at dst on failure.
Result<crypto::Hash256> CopyOpened(const OpenedFile& in, const std::string& dst) {
  ASSIGN_OR_RETURN(fs::FileWriter out, fs::FileWriter::Create(dst, 0644, true));
  auto hash = in.Hash(&out);
  Status st = hash.status();
  if (st.ok()) st = out.Sync();
  if (st.ok()) st = out.Close();
  if (!st.ok()) {
    ::unlink(dst.c_str());
    return st;
  }
  return *hash;
}

bool IsSst(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, ".sst") == 0; }

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

Result<CheckpointManifest> ReadManifest(const std::string& dir) { return ReadManifestNoFollow(dir); }

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

void ProveCheckpointDatabase(const std::string& dir, const CheckpointManifest& m,
                             const std::optional<state::Federation>& federation, const ProgressFn& progress,
                             CheckpointVerifyReport* r) {
  state::VerifyOptions vo;
  vo.federation = federation;
  vo.expected_state_root = m.state_root;
  if (progress) vo.progress = [&](const state::VerifyProgress& p) { progress(p.phase, p.done, p.total); };
  auto vr = state::VerifyState(dir, vo);
  if (!vr.ok()) {
    r->problems.push_back("database: " + vr.status().message());
    return;
  }
  r->recomputed_state_root = vr->state_root;
  r->entries_checked = vr->entries_checked;
  for (const auto& p : vr->problems) r->problems.push_back("database: " + p);
  if (vr->tip_height != m.height)
    r->problems.push_back("database tip is height " + std::to_string(vr->tip_height) + ", manifest says " + std::to_string(m.height));
  if (vr->tip_block_hash != m.block_hash)
    r->problems.push_back("database tip hash " + crypto::HashToHex(vr->tip_block_hash) + " differs from the manifest's " + crypto::HashToHex(m.block_hash));
}

Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<state::Federation>& federation,
                                                const ProgressFn& progress, bool files_hashed) {
  CheckpointVerifyReport r;
  ASSIGN_OR_RETURN(r.manifest, ReadManifest(dir));
  // 1. The tree holds the manifest's regular files and nothing else; an
  // entry of any other kind is named, never followed or opened.
  ASSIGN_OR_RETURN(auto unlisted, UnlistedEntries(dir, r.manifest));
  const bool tree_clean = unlisted.empty();
  for (auto& p : unlisted) r.problems.push_back(std::move(p));
  // 2. Each file against the manifest, read through a descriptor that is
  // known to be a regular file of the manifest's size, never past it.
  std::vector<std::string> problems(r.manifest.files.size());
  std::atomic<uint64_t> bytes{0};
  RETURN_IF_ERROR(ParallelFor(r.manifest.files.size(), [&](size_t i) -> Status {
    const auto& f = r.manifest.files[i];
    auto opened = OpenedFile::Open(dir, f.path, f.size);
    if (!opened.ok()) {
      problems[i] = opened.status().code() == StatusCode::kNotFound ? "file " + f.path + ": missing"
                                                                     : opened.status().message();
      return Status::Ok();
    }
    if (!files_hashed) {
      auto hash = opened->Hash();
      if (!hash.ok()) { problems[i] = "file " + f.path + ": " + hash.status().message(); return Status::Ok(); }
      if (*hash != f.sha256) {
        problems[i] = "file " + f.path + ": SHA-256 " + crypto::HashToHex(*hash) + " differs from the manifest's " + crypto::HashToHex(f.sha256);
        return Status::Ok();
      }
    }
    bytes += f.size;
    return Status::Ok();
  }));
  for (auto& p : problems) if (!p.empty()) r.problems.push_back(std::move(p));
  r.files_checked = r.manifest.files.size();
  r.bytes_checked = bytes;
  if (progress) progress("files", r.bytes_checked, r.bytes_checked);

  // 3. The database itself: chain, signatures, anchors, state root from
  // scratch. RocksDB opens files by name and would follow a symlink, block
  // on a FIFO or replay an extra WAL file: not opened unless the tree is clean.
  if (tree_clean) {
    ProveCheckpointDatabase(dir, r.manifest, federation, progress, &r);
  } else {
    r.problems.push_back("database: not opened, because the directory holds entries its manifest does not list (named above)");
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

Status CheckNotRollingBack(const std::string& target, uint64_t height, const crypto::Hash256& block_hash,
                           bool allow_rollback) {
  // No database (RocksDB names it in CURRENT, as EnsureNotInUse knows its
  // LOCK): nothing to lose. One that is there but does not open may be
  // ahead: refused like one that is.
  if (allow_rollback || !fs::Exists(fs::JoinPath(target, "CURRENT"))) return Status::Ok();
  // RocksDB opens the database's files by name: it would block forever on a
  // FIFO, and follow a symlink. A RocksDB data dir holds only regular files
  // and directories; anything else is refused before the database is opened.
  auto names = fs::ListDir(target);
  if (!names.ok()) return names.status().WithContext("reading the target " + target);
  for (const auto& name : *names) {
    const std::string path = fs::JoinPath(target, name);
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) continue;
    const char* kind = S_ISLNK(sb.st_mode)    ? "a symbolic link"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                       : S_ISCHR(sb.st_mode)  ? "a character device"
                       : S_ISBLK(sb.st_mode)  ? "a block device"
                                              : "an entry of unknown type";
    return FailedPrecondition("cannot read the chain tip of the target " + target + ": " + path + " is " + kind +
                              ", not a regular file (a data dir holds only files and directories; its database was "
                              "not opened), so it is not known whether applying would lose blocks; remove that "
                              "entry, or, to replace the target's state, rerun with --allow-rollback");
  }
  auto db = state::StateDb::Open(target, state::OpenOptions{true, false});
  if (!db.ok()) {
    return FailedPrecondition("cannot read the chain tip of the target " + target + " (" + db.status().message() +
                              "), so it is not known whether applying would lose blocks; if its state is damaged and "
                              "you mean to replace it, rerun with --allow-rollback");
  }
  const state::ChainTip tip = (*db)->Tip();
  if (tip.height < height) return Status::Ok();
  // Height 0 is the empty genesis state: no block, a hash of zeros.
  std::optional<crypto::Hash256> at_height;
  if (height == 0) {
    at_height = crypto::Hash256{};
  } else if (auto block = (*db)->GetBlock(height); block.ok()) {
    at_height = block->header.Hash();
  }
  const bool other_chain = !at_height || *at_height != block_hash;
  if (tip.height == height && !other_chain) return Status::Ok();  // the same state
  std::string what = "the target " + target + " is at height " + std::to_string(tip.height) + ", the source at height " +
                     std::to_string(height);
  if (other_chain) {
    what += "; the target is on another chain (its block at height " + std::to_string(height) + " is " +
            (at_height ? crypto::HashToHex(*at_height) : std::string("unreadable")) + ", the source's is " +
            crypto::HashToHex(block_hash) + ")";
  }
  return FailedPrecondition("refusing to roll back: " + what + "; applying would discard the target's blocks" +
                            (tip.height > height ? " above height " + std::to_string(height) : std::string()) +
                            ". Check that SRC and --target are the ones you mean; to replace the target anyway, rerun "
                            "with --allow-rollback");
}

Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target_in, const ApplyOptions& o) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  ApplyReport r;
  RETURN_IF_ERROR(EnsureNotInUse(target));
  // Cheap refusals first: the manifest names the source's tip.
  ASSIGN_OR_RETURN(CheckpointManifest first, ReadManifest(src));
  RETURN_IF_ERROR(CheckNotRollingBack(target, first.height, first.block_hash, o.allow_rollback));

  // 1. The source is verified exactly as verify-checkpoint does before a
  // byte of it is copied. A private download was hashed file by file as it
  // was written; its database is proven once, staged (step 3), which is
  // the same bytes.
  CheckpointVerifyReport verified;
  if (o.consume_src) {
    verified.manifest = first;
    ASSIGN_OR_RETURN(verified.problems, UnlistedEntries(src, first));
    verified.ok = verified.problems.empty();
  } else {
    ASSIGN_OR_RETURN(verified, VerifyCheckpoint(src, o.federation, o.progress));
  }
  if (!verified.ok) {
    return DataLoss("checkpoint " + src + " failed verification, nothing was applied to " + target + ": " +
                    verified.problems.front() +
                    (verified.problems.size() > 1
                         ? " (and " + std::to_string(verified.problems.size() - 1) + " more: `ailee-cli verify-checkpoint " + src + "` lists them)"
                         : std::string()));
  }
  r.manifest = verified.manifest;
  if (EncodeManifest(r.manifest) != EncodeManifest(first))
    return DataLoss("the manifest of " + src + " changed while it was being applied; nothing was applied to " + target);

  // Each run stages under a name carrying its owner (base/scratch.h): a
  // concurrent apply into the same target never removes or fills this run's
  // tree, and this run removes only what killed runs left (and the fixed
  // name older versions staged in).
  const std::string parent = fs::Dirname(target);
  RETURN_IF_ERROR(fs::MakeDirs(parent));
  const std::string scratch_prefix = "." + fs::Basename(target) + ".apply-";
  fs::RemoveAbandoned(parent, scratch_prefix);
  RETURN_IF_ERROR(fs::RemoveAll(target + ".apply-partial"));
  const std::string staged = fs::JoinPath(parent, fs::ScratchName(scratch_prefix));
  if (::mkdir(staged.c_str(), 0755) != 0) return ErrnoStatus("mkdir", staged, errno);
  auto fail = [&](Status st) { (void)fs::RemoveAll(staged); return st; };

  // 2. Assemble in `staged`. Every file, reused from the target or taken
  // from the source, is opened without following links, checked to be a
  // regular file of the manifest's size and read no further; copies are
  // hashed as they are written, links are checked to be the inode opened.
  const bool target_dir = fs::IsDirectory(target);
  std::atomic<uint64_t> written{0}, reused{0}, reused_files{0};
  uint64_t total = 0;
  for (const auto& f : r.manifest.files) total += f.size;
  auto placed = [&] { if (o.progress) o.progress("apply", written + reused, total); };
  Status st = ParallelFor(r.manifest.files.size(), [&](size_t i) -> Status {
    const auto& f = r.manifest.files[i];
    std::string dst = fs::JoinPath(staged, f.path);
    RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(dst)));
    if (target_dir) {
      auto old = OpenedFile::Open(target, f.path, f.size);
      if (old.ok()) {
        // Only immutable files may be shared by hard link; the rest are copied.
        bool reusable = false;
        if (IsSst(f.path)) {
          auto hash = old->Hash();
          reusable = hash.ok() && *hash == f.sha256 && old->LinkTo(dst);
        } else {
          auto hash = CopyOpened(*old, dst);
          reusable = hash.ok() && *hash == f.sha256;
          if (hash.ok() && !reusable) ::unlink(dst.c_str());
        }
        if (reusable) {
          reused += f.size;
          reused_files++;
          placed();
          return Status::Ok();
        }
      }
    }
    ASSIGN_OR_RETURN(OpenedFile in, OpenedFile::Open(src, f.path, f.size));
    if (o.consume_src && in.LinkTo(dst)) {
      written += f.size;
      placed();
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto hash, CopyOpened(in, dst));
    if (hash != f.sha256) {
      return DataLoss("checkpoint file " + in.path() + " does not match its manifest (SHA-256 " + crypto::HashToHex(hash) +
                      "): it changed after it was verified; the checkpoint is damaged or being modified, nothing was applied");
    }
    written += f.size;
    placed();
    return Status::Ok();
  });
  if (!st.ok()) return fail(st.WithContext("applying " + src + " to " + target));
  st = fs::WriteFileAtomic(fs::JoinPath(staged, kCheckpointManifestName), EncodeManifest(r.manifest));
  if (!st.ok()) return fail(st.WithContext("applying " + src + " to " + target));

  // 3. The staged tree proves before it may replace anything: what is
  // swapped in is exactly what was proven.
  CheckpointVerifyReport proof;
  ProveCheckpointDatabase(staged, r.manifest, o.federation, o.progress, &proof);
  if (!proof.problems.empty()) {
    return fail(DataLoss("the state assembled from " + src + " does not prove, so " + target +
                         " was left as it was: " + proof.problems.front()));
  }

  // 4. Swap.
  st = InstallDirectory(staged, target);
  if (!st.ok()) return fail(st);
  r.files = r.manifest.files.size();
  r.files_reused = reused_files;
  r.bytes_written = written;
  r.bytes_reused = reused;
  return r;
}

}  // namespace ailee::ops
