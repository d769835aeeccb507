#include "ops/config/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "base/file_system.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "crypto/hash.h"
#include "keys/gpg_envelope.h"
#include "ops/config/secrets.h"
#include "ops/config/snapshot.h"
#include "repo/blob_stream.h"
#include "repo/key_slots.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

namespace stdfs = std::filesystem;

struct Source {
  std::string path;  // absolute, normalized
  bool dir = false;
  struct stat st {};  // lstat when gathered; files are classified on what ReadSourceFile opened
};


// Every file and directory below the configured paths, by absolute path.
void Gather(const ConfigBackupOptions& o, std::map<std::string, Source>* out, std::vector<std::string>* skipped) {
  std::set<std::string> secrets;
  for (const auto& s : o.secret_paths) secrets.insert(NormalizedPath(s));
  auto add = [&](const std::string& abs) {
    Source s;
    s.path = NormalizedPath(abs);
    if (s.path.empty() || s.path.front() != '/') {
      skipped->push_back(abs + ": not an absolute path");
      return;
    }
    if (::lstat(s.path.c_str(), &s.st) != 0) {
      skipped->push_back(s.path + ": missing");
      return;
    }
    if (S_ISDIR(s.st.st_mode)) {
      s.dir = true;
    } else if (!S_ISREG(s.st.st_mode)) {
      skipped->push_back(s.path + (S_ISLNK(s.st.st_mode) ? ": symlink (not followed)" : ": not a regular file"));
      return;
    }
    (*out)[s.path] = s;
  };
  for (const auto& p : o.paths) {
    std::error_code ec;
    if (stdfs::is_directory(stdfs::symlink_status(p, ec))) {
      add(p);
      for (auto it = stdfs::recursive_directory_iterator(p, stdfs::directory_options::none, ec);
           !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
        add(it->path().string());
      }
      if (ec) skipped->push_back(p + ": " + ec.message());
    } else {
      add(p);
    }
  }
  for (const auto& s : secrets) {
    if (!out->count(s)) add(s);
  }
}

// A file of the staged view (scratch that is backed up, then removed: it
// needs no sync). Created exclusively, so a name planted there is refused.
Status WriteStaged(const std::string& path, std::string_view data, int64_t mtime_ns) {
  fs::FileSystem* fsys = fs::FileSystem::Default();
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(path), 0700, fsys));
  ASSIGN_OR_RETURN(auto out, fsys->NewWritableFile(path, 0600, true));
  fs::FileAttributes attributes;
  attributes.mode = 0600;
  attributes.mtime_ns = mtime_ns;
  Status st = out->Append(data);
  if (st.ok()) st = out->SetAttributes(attributes);
  Status closed = out->Close();
  return (st.ok() ? closed : st).WithContext("stage " + path);
}

int64_t MtimeNs(const struct stat& st) { return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

class StagingDir {
 public:
  ~StagingDir() { if (!path_.empty()) (void)fs::RemoveAll(path_); }
  Status Create(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* t = std::getenv("TMPDIR");
      base = t && *t ? t : "/tmp";
    }
    // The name carries its owner (base/scratch.h): a view a killed backup
    // left here is removed now, a live backup's never.
    fs::RemoveAbandoned(base, kPrefix);
    std::string path = fs::JoinPath(base, fs::ScratchName(kPrefix));
    RETURN_IF_ERROR(fs::FileSystem::Default()->Mkdir(path, 0700, false).WithContext("create staging directory in " + base));
    path_ = path;
    ::chmod(path_.c_str(), 0700);
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  static constexpr std::string_view kPrefix = ".ailee-config-backup-";
  std::string path_;
};

}  // namespace

ConfigBackupOptions ConfigBackupOptionsForPath(const std::string& config_path) {
  ConfigBackupOptions o;
  o.config_path = stdfs::absolute(config_path).lexically_normal().string();
  o.paths.push_back(fs::Dirname(o.config_path));
  // The file does not load, but what it still says about secret files and
  // the node id keeps them encrypted and the snapshot attributed.
  if (auto text = fs::ReadFile(o.config_path); text.ok()) {
    auto analysis = config::AnalyzeConfig(*text, o.config_path);
    o.node_id = analysis.config.node.id;
    o.named_secrets = ConfigNamedSecrets(analysis.config);
  }
  return o;
}

ConfigBackupOptions ConfigBackupOptionsFor(const config::NodeConfig& cfg) {
  ConfigBackupOptions o;
  o.config_path = cfg.config_path;
  o.node_id = cfg.node.id;
  const auto& b = cfg.backup;
  if (b.config_paths.empty()) {
    o.paths.push_back(cfg.config_dir);
  } else {
    o.paths = b.config_paths;
  }
  for (const auto* list : {&b.env_files, &b.compose_files, &b.proxy_configs}) {
    o.paths.insert(o.paths.end(), list->begin(), list->end());
  }
  o.secret_paths = b.secret_paths;
  o.named_secrets = ConfigNamedSecrets(cfg);
  return o;
}

ConfigBackupOptions ConfigBackupOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& config_path) {
  return cfg ? ConfigBackupOptionsFor(*cfg) : ConfigBackupOptionsForPath(config_path);
}

Result<ConfigBackupResult> BackupConfig(repo::Repository& repo, const ConfigBackupOptions& options) {
  if (options.config_path.empty() || options.config_path.front() != '/') {
    return InvalidArgument("config backup needs the absolute path of the config file, got '" + options.config_path + "'");
  }
  ConfigBackupResult result;
  std::map<std::string, Source> sources;
  Gather(options, &sources, &result.skipped);
  if (sources.empty()) return NotFound("nothing to back up: none of the configured paths exists");

  const std::string host = options.host.empty() ? repo::LocalHostname() : options.host;
  // The parent is this node's newest config snapshot from this host: files
  // are reused from it by path, size and mtime, so another node's snapshot
  // (a shared repository) must never be the parent.
  std::optional<repo::Snapshot> parent;
  {
    ASSIGN_OR_RETURN(auto listing, repo::ListSnapshots(repo));
    for (auto& s : listing.snapshots) {
      if (s.kind != kConfigSnapshotKind || s.host != host) continue;
      if ((s.meta.is_object() ? s.meta.value("node_id", "") : "") != options.node_id) continue;
      if (!parent || s.time_ms >= parent->time_ms) parent = std::move(s);
    }
    if (parent) result.parent = parent->id_hex();
  }
  ConfigManifest previous;
  if (parent) {
    if (auto m = ParseConfigManifest(parent->meta); m.ok()) previous = std::move(*m);
  }

  SecretRules rules;
  rules.listed = options.named_secrets;
  for (const auto& p : options.secret_paths) rules.listed[NormalizedPath(p)] = "backup.secret_paths";
  // The same files by identity: the config may name a file by another path
  // than the one walked here (a symlinked directory such as /etc/ailee, a
  // hard link), and a passphrase or PIN file has no shape to recognise it by.
  std::map<std::pair<dev_t, ino_t>, std::string> listed_ids;
  for (const auto& [path, why] : rules.listed) {
    struct stat ls {};
    if (::stat(path.c_str(), &ls) == 0 && S_ISREG(ls.st_mode)) listed_ids.emplace(std::pair{ls.st_dev, ls.st_ino}, why + " as " + path);
  }
  bool reread = false;  // a file the parent would be wrongly reused for

  StagingDir staging;
  RETURN_IF_ERROR(staging.Create(options.scratch_dir));
  std::optional<keys::GpgSymmetric> gpg;
  ConfigManifest manifest;
  manifest.node_id = options.node_id;
  manifest.config_path = NormalizedPath(options.config_path);
  manifest.audit_head = options.audit_head;

  std::map<std::string, std::string> staged_sha256;  // staged path -> SHA-256 of what was staged there
  for (const auto& [abs, src] : sources) {
    ConfigFile f;
    f.path = abs;
    f.dir = src.dir;
    struct stat st = src.st;
    crypto::SecureBytes content;
    std::string reason;
    if (!src.dir) {
      auto read = ReadSourceFile(abs, &st);
      if (!read.ok() && read.status().code() == StatusCode::kFailedPrecondition) {
        result.skipped.push_back(read.status().message());
        continue;
      }
      if (!read.ok()) return read.status().WithContext("config backup");
      content = std::move(*read);
      reason = SecretReason(rules, abs, st.st_mode & 07777, content.view());
      if (auto id = listed_ids.find({st.st_dev, st.st_ino}); reason.empty() && id != listed_ids.end()) {
        reason = "named by " + id->second;
      }
    }
    f.secret = !reason.empty();
    f.mode = st.st_mode & 07777;
    f.uid = st.st_uid;
    f.gid = st.st_gid;
    f.mtime_ns = MtimeNs(st);
    std::string rel = abs.substr(1);
    if (src.dir) {
      f.stored = rel;
      RETURN_IF_ERROR(fs::MakeDirs(fs::JoinPath(staging.path(), rel), 0700));
    } else if (!f.secret) {
      f.stored = rel;
      f.size = content.size();
      f.sha256 = crypto::HashToHex(crypto::Sha256(content.view()));
      RETURN_IF_ERROR(WriteStaged(fs::JoinPath(staging.path(), rel), content.view(), f.mtime_ns));
      if (parent) {
        for (const auto& e : parent->files) {
          if (e.path != f.stored) continue;
          reread |= e.type == repo::FileEntry::Type::kFile && e.size == f.size && e.mtime_ns == f.mtime_ns && e.sha256 != f.sha256;
          break;
        }
      }
      ++result.files;
    } else {
      if (!options.secrets_passphrase || options.secrets_passphrase->empty()) {
        return InvalidArgument(abs + " is a secret (" + reason + ") and no secrets passphrase was given: it is only ever "
                               "stored encrypted. Give one (--secrets-passphrase-file, AILEE_SECRETS_PASSPHRASE or a terminal)");
      }
      const crypto::SecureBytes& plain = content;
      f.stored = std::string(kSecretsPrefix) + rel + ".gpg";
      f.size = plain.size();
      // No plaintext hash is recorded: one who holds the repository key but
      // not the secrets passphrase could test guesses of a short secret (a
      // PIN) against it. gpg's MDC and ciphertext_sha256 guard the content.
      if (!gpg) {
        ASSIGN_OR_RETURN(auto g, keys::GpgSymmetric::Create());
        gpg.emplace(std::move(g));
      }
      std::string ciphertext;
      int64_t staged_mtime = repo.clock().NowMillis() * 1000000;
      // Reuse the parent's ciphertext when it still opens with this
      // passphrase to the same plaintext: fresh encryption would store new
      // bytes (new salt) for an unchanged secret.
      const ConfigFile* old = previous.Find(abs);
      if (parent && old && old->secret && old->size == f.size) {
        for (const auto& e : parent->files) {
          if (e.path != old->stored || e.type != repo::FileEntry::Type::kFile) continue;
          auto ct = repo::ReadFileBlobs(repo, e);
          if (!ct.ok()) break;
          auto pt = gpg->Decrypt(*ct, *options.secrets_passphrase);
          if (pt.ok() && *pt == plain) {
            ciphertext = std::move(*ct);
            staged_mtime = e.mtime_ns;
            ++result.secrets_reused;
          }
          break;
        }
      }
      if (ciphertext.empty()) {
        ASSIGN_OR_RETURN(ciphertext, gpg->Encrypt(plain, *options.secrets_passphrase));
      }
      f.ciphertext_sha256 = crypto::HashToHex(crypto::Sha256(ciphertext));
      RETURN_IF_ERROR(WriteStaged(fs::JoinPath(staging.path(), f.stored), ciphertext, staged_mtime));
      result.secrets.push_back(abs);
      result.secret_reasons.push_back(reason);
    }
    if (!f.dir) staged_sha256[f.stored] = f.secret ? f.ciphertext_sha256 : f.sha256;
    manifest.files.push_back(std::move(f));
  }

  repo::BackupOptions bo;
  bo.kind = kConfigSnapshotKind;
  bo.tags = options.tags;
  bo.host = host;
  bo.parent = parent ? parent->id_hex() : "";
  bo.full = reread;
  // The staging tree is new every time: its files' identities never match
  // the parent's, but their content is known, which is a better proof.
  bo.known_sha256 = [&staged_sha256](const std::string& rel) {
    auto it = staged_sha256.find(rel);
    return it == staged_sha256.end() ? std::string() : it->second;
  };
  bo.meta = ConfigManifestToJson(manifest);
  bo.workers = 1;
  bo.pack_size = 4ull << 20;
  ASSIGN_OR_RETURN(result.backup, repo::BackupTree(repo, staging.path(), bo));
  return result;
}

}  // namespace ailee::ops
