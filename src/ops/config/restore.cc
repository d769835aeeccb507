#include "ops/config/restore.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "archive/paths.h"
#include "archive/target.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "crypto/hash.h"
#include "keys/gpg_envelope.h"
#include "ops/config/backup.h"
#include "ops/config/secrets.h"
#include "ops/config/snapshot.h"
#include "repo/blob_stream.h"
#include "repo/restore.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

namespace stdfs = std::filesystem;

std::string Octal(uint32_t mode) {
  char b[8];
  snprintf(b, sizeof b, "%04o", mode);
  return b;
}

std::string Short(const std::string& hex) { return hex.substr(0, 12); }

bool LooksText(std::string_view s) { return s.size() <= (256u << 10) && s.find('\0') == std::string_view::npos; }

std::vector<std::string> Lines(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string_view::npos) j = s.size();
    out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A minimal line diff (LCS), only the removed and added lines.
std::string LineDiff(std::string_view before, std::string_view after) {
  auto a = Lines(before), b = Lines(after);
  if (a.size() * b.size() > 4'000'000) return "(too large for a line diff)\n";
  std::vector<std::vector<uint32_t>> l(a.size() + 1, std::vector<uint32_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      l[i][j] = a[i] == b[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i, ++j;
    } else if (j < b.size() && (i == a.size() || l[i][j + 1] >= l[i + 1][j])) {
      out += "+" + b[j++] + "\n";
    } else {
      out += "-" + a[i++] + "\n";
    }
  }
  return out;
}

// The previous version of `rel`, beside it. Left for the operator when a
// restore is killed, so named with its owner (base/scratch.h) like all scratch.
std::string AsideName(const std::string& rel) {
  auto slash = rel.rfind('/');
  std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return dir + fs::ScratchName(".ailee-restore-old-" + base.substr(0, 100) + "-");
}

Result<std::string> LoadEntry(repo::Repository& repo, const repo::Snapshot& snap, const std::string& stored) {
  for (const auto& e : snap.files) {
    if (e.path != stored) continue;
    if (e.type != repo::FileEntry::Type::kFile) break;
    auto data = repo::ReadFileBlobs(repo, e);
    if (!data.ok()) return data.status().WithContext("snapshot " + snap.id_hex().substr(0, 12));
    return data;
  }
  return DataLoss("snapshot " + snap.id_hex().substr(0, 12) + " lacks " + stored + " listed in its manifest");
}

// The manifest's files as target-relative entries, checked for safety.
Status CheckManifestPaths(const ConfigManifest& m) {
  std::vector<archive::ArchiveEntry> entries;
  std::vector<archive::EntryRefusal> refusals;
  for (const auto& f : m.files) {
    if (f.path.empty() || f.path.front() != '/') {
      refusals.push_back({f.path, "manifest path is not absolute"});
      continue;
    }
    entries.push_back({f.path.substr(1), f.dir ? archive::ArchiveEntry::Type::kDir : archive::ArchiveEntry::Type::kFile, "", ""});
  }
  auto more = archive::CheckEntries(entries);
  refusals.insert(refusals.end(), more.begin(), more.end());
  return archive::RefusalsToStatus(refusals, "config snapshot");
}

std::vector<std::string> ProblemsOf(const ConfigRestoreOptions& o, const std::string& path) {
  auto problems = o.validator ? o.validator(path) : config::ValidateConfigFile(path);
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.ToString());
  return out;
}

}  // namespace

const char* ConfigChangeKindName(ConfigChange::Kind kind) {
  switch (kind) {
    case ConfigChange::Kind::kAdded: return "added";
    case ConfigChange::Kind::kChanged: return "changed";
    case ConfigChange::Kind::kRemoved: return "removed";
    default: return "unchanged";
  }
}

size_t ConfigRestoreReport::Count(ConfigChange::Kind kind) const {
  size_t n = 0;
  for (const auto& c : changes) n += c.kind == kind;
  return n;
}

Status ConfigRestoreReport::ToStatus() const {
  if (!rolled_back) return Status::Ok();
  std::string msg = "restored config " + config_file + " does not validate; the previous files were put back:";
  for (const auto& p : problems) msg += "\n  " + p;
  return InvalidArgument(msg);
}

Result<ConfigRestoreReport> RestoreConfig(repo::Repository& repo, const std::string& ref, const std::string& target,
                                          const ConfigRestoreOptions& options) {
  ASSIGN_OR_RETURN(auto snap, FindConfigSnapshot(repo, ref, options.scope));
  ASSIGN_OR_RETURN(auto manifest, ParseConfigManifest(snap.meta));
  RETURN_IF_ERROR(CheckManifestPaths(manifest));
  ConfigRestoreReport report;
  report.snapshot_id = snap.id_hex();

  // 1. Fetch and check everything before touching the target.
  bool have_secrets = !manifest.SecretPaths().empty();
  bool can_decrypt = options.secrets_passphrase && !options.secrets_passphrase->empty();
  if (have_secrets && !can_decrypt && !options.dry_run) {
    return InvalidArgument("snapshot " + report.snapshot_id.substr(0, 12) + " holds " + std::to_string(manifest.SecretPaths().size()) +
                           " secret file(s) and no secrets passphrase was given");
  }
  std::map<std::string, std::string> plain;               // path -> content
  std::map<std::string, crypto::SecureBytes> secrets;     // path -> plaintext
  std::optional<keys::GpgSymmetric> gpg;
  for (const auto& f : manifest.files) {
    if (f.dir) continue;
    if (f.secret && !can_decrypt) continue;
    ASSIGN_OR_RETURN(std::string data, LoadEntry(repo, snap, f.stored));
    if (!f.secret) {
      plain[f.path] = std::move(data);
      continue;
    }
    if (!gpg) {
      ASSIGN_OR_RETURN(auto g, keys::GpgSymmetric::Create());
      gpg.emplace(std::move(g));
    }
    auto pt = gpg->Decrypt(data, *options.secrets_passphrase);
    if (!pt.ok()) return pt.status().WithContext("decrypting secret " + f.path + " from snapshot " + report.snapshot_id.substr(0, 12));
    // Manifests written before secrets lost their plaintext hash still have one.
    if (!f.sha256.empty() && crypto::HashToHex(crypto::Sha256(pt->view())) != f.sha256) {
      return DataLoss("secret " + f.path + " decrypts to content that does not match its recorded SHA-256");
    }
    secrets.emplace(f.path, std::move(*pt));
  }

  // 2. Diff.
  if (options.dry_run && !fs::IsDirectory(target)) {
    for (const auto& f : manifest.files) {
      ConfigChange c{ConfigChange::Kind::kAdded, f.path, fs::JoinPath(target, f.path.substr(1)), f.secret, f.dir,
                     "target does not exist yet", ""};
      report.changes.push_back(std::move(c));
    }
    return report;
  }
  ASSIGN_OR_RETURN(auto out, archive::SafeTarget::Open(target, !options.dry_run));
  const bool root = ::geteuid() == 0;
  std::set<std::string> listed;
  for (const auto& f : manifest.files) {
    ConfigChange c;
    c.path = f.path;
    c.target = fs::JoinPath(target, f.path.substr(1));
    c.secret = f.secret;
    c.dir = f.dir;
    listed.insert(c.target);
    std::string rel = f.path.substr(1);
    ASSIGN_OR_RETURN(auto existing, out.Stat(rel));
    uint32_t want_mode = f.mode;
    if (!existing) {
      c.kind = ConfigChange::Kind::kAdded;
      c.detail = f.dir ? "directory, mode " + Octal(want_mode) : "size " + std::to_string(f.size) + ", mode " + Octal(want_mode);
    } else if (f.dir) {
      if (!existing->is_dir) return FailedPrecondition(c.target + " should be a directory but is not; move it away first");
      c.kind = existing->mode == want_mode ? ConfigChange::Kind::kUnchanged : ConfigChange::Kind::kChanged;
      if (c.kind == ConfigChange::Kind::kChanged) c.detail = "mode " + Octal(existing->mode) + " -> " + Octal(want_mode);
    } else {
      if (!existing->is_file) return FailedPrecondition(c.target + " exists and is not a regular file; move it away first");
      ASSIGN_OR_RETURN(std::string cur, out.ReadFile(rel));
      std::string cur_sha = f.secret ? "" : crypto::HashToHex(crypto::Sha256(cur));
      std::vector<std::string> diffs;
      bool content_known = !f.secret || can_decrypt;
      if (f.secret && content_known) {
        // Compared in memory; no hash of a secret is ever printed.
        if (cur != secrets.at(f.path).view()) {
          diffs.push_back("size " + std::to_string(cur.size()) + " -> " + std::to_string(f.size) + ", content differs");
        }
        crypto::Wipe(cur);
      } else if (content_known && cur_sha != f.sha256) {
        diffs.push_back("size " + std::to_string(cur.size()) + " -> " + std::to_string(f.size) + ", sha256 " + Short(cur_sha) +
                        ".. -> " + Short(f.sha256) + "..");
        // Never print secret content: a key an older snapshot stores plain,
        // or one now in the file on disk.
        if (!SecretReason({}, f.path, 0644, cur).empty() || !SecretReason({}, f.path, 0644, plain[f.path]).empty()) {
          diffs.push_back("content not shown: it holds a secret");
        } else if (LooksText(cur) && LooksText(plain[f.path])) {
          c.text_diff = LineDiff(cur, plain[f.path]);
        }
      }
      if (!content_known) diffs.push_back("secret not compared (no passphrase)");
      if (existing->mode != want_mode) diffs.push_back("mode " + Octal(existing->mode) + " -> " + Octal(want_mode));
      if (root && (existing->uid != f.uid || existing->gid != f.gid)) {
        diffs.push_back("owner " + std::to_string(existing->uid) + ":" + std::to_string(existing->gid) + " -> " +
                        std::to_string(f.uid) + ":" + std::to_string(f.gid));
      }
      c.kind = diffs.empty() ? ConfigChange::Kind::kUnchanged : ConfigChange::Kind::kChanged;
      for (size_t i = 0; i < diffs.size(); ++i) c.detail += (i ? ", " : "") + diffs[i];
    }
    report.changes.push_back(std::move(c));
  }
  // Files now below a backed-up directory that the snapshot does not have.
  for (const auto& f : manifest.files) {
    if (!f.dir) continue;
    std::error_code ec;
    std::string dir = fs::JoinPath(target, f.path.substr(1));
    for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      std::string p = it->path().string();
      if (listed.count(p) || it->path().filename().string().rfind(".ailee-", 0) == 0) continue;
      if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
      listed.insert(p);
      ConfigChange c;
      c.kind = ConfigChange::Kind::kRemoved;
      c.path = "/" + stdfs::relative(it->path(), target).string();
      c.target = p;
      c.detail = "not in the snapshot; left in place";
      report.changes.push_back(std::move(c));
    }
  }
  for (const auto& f : manifest.files) {
    if (!f.dir && f.path == manifest.config_path) report.config_file = fs::JoinPath(target, f.path.substr(1));
  }
  if (options.dry_run) return report;

  // 3. Apply, keeping the previous version of each file aside.
  struct Written {
    std::string rel, aside;
  };
  std::vector<Written> written;
  auto roll_back = [&]() {
    for (auto it = written.rbegin(); it != written.rend(); ++it) {
      if (it->aside.empty()) {
        (void)out.Unlink(it->rel);
      } else {
        (void)out.Rename(it->aside, it->rel);
      }
    }
    (void)out.Sync();
  };
  auto apply = [&]() -> Status {
    for (size_t i = 0; i < manifest.files.size(); ++i) {
      const auto& f = manifest.files[i];
      const auto& c = report.changes[i];
      if (c.kind == ConfigChange::Kind::kUnchanged) continue;
      std::string rel = f.path.substr(1);
      archive::FileAttrs attrs{f.mode, f.mtime_ns, true, f.uid, f.gid};
      if (f.dir) {
        RETURN_IF_ERROR(out.MakeDir(rel, attrs));
        continue;
      }
      Written w{rel, ""};
      if (c.kind == ConfigChange::Kind::kChanged) {
        w.aside = AsideName(rel);
        RETURN_IF_ERROR(out.LinkAside(rel, w.aside));
      }
      written.push_back(w);
      if (f.secret) {
        attrs.mtime_ns = -1;
        RETURN_IF_ERROR(out.WriteFile(rel, secrets.at(f.path).view(), attrs));
        ++report.secrets_written;
      } else {
        RETURN_IF_ERROR(out.WriteFile(rel, plain.at(f.path), attrs));
      }
      ++report.written;
    }
    return out.Sync();
  };
  if (Status st = apply(); !st.ok()) {
    roll_back();
    return st.WithContext("restoring config snapshot " + report.snapshot_id.substr(0, 12) + " (previous files put back)");
  }

  // 4. Validate; put the previous files back when the result is invalid.
  if (options.validate && !report.config_file.empty()) {
    report.problems = ProblemsOf(options, report.config_file);
    if (!report.problems.empty()) {
      roll_back();
      report.rolled_back = true;
      return report;
    }
    report.validated = true;
  }
  for (const auto& w : written) {
    if (!w.aside.empty()) (void)out.Unlink(w.aside);
  }
  RETURN_IF_ERROR(out.Sync());
  return report;
}

ConfigExportOptions ConfigExportOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& host) {
  ConfigExportOptions o;
  o.scope = ConfigScopeFor(cfg, host);
  if (cfg) o.named_secrets = ConfigNamedSecrets(*cfg);
  return o;
}

Result<ConfigExportResult> ExportConfig(repo::Repository& repo, const std::string& ref, const std::string& output,
                                        const ConfigExportOptions& options) {
  ASSIGN_OR_RETURN(auto snap, FindConfigSnapshot(repo, ref, options.scope));
  ASSIGN_OR_RETURN(auto manifest, ParseConfigManifest(snap.meta));
  RETURN_IF_ERROR(CheckManifestPaths(manifest));
  ConfigExportResult result;
  result.snapshot_id = snap.id_hex();
  SecretRules rules;
  rules.listed = options.named_secrets;
  const bool can_encrypt = options.secrets_passphrase && !options.secrets_passphrase->empty();
  std::optional<keys::GpgSymmetric> gpg;
  std::vector<std::string> clear_secrets;  // "path (why)" stored plain, no passphrase to encrypt them
  std::vector<archive::TarMember> members;
  for (auto& f : manifest.files) {
    archive::TarMember m;
    m.entry.path = f.stored;
    m.attrs = archive::FileAttrs{f.mode, f.mtime_ns, true, f.uid, f.gid};
    if (f.dir) {
      m.entry.type = archive::ArchiveEntry::Type::kDir;
    } else {
      ASSIGN_OR_RETURN(m.data, LoadEntry(repo, snap, f.stored));
      std::string reason = f.secret ? "" : SecretReason(rules, f.path, f.mode, m.data);
      if (!reason.empty()) {
        // Stored in clear by an older backup: only ciphertext leaves.
        crypto::SecureBytes plain(m.data);
        crypto::Wipe(m.data);
        if (!can_encrypt) {
          clear_secrets.push_back(f.path + " (" + reason + ")");
          continue;
        }
        if (!gpg) {
          ASSIGN_OR_RETURN(auto g, keys::GpgSymmetric::Create());
          gpg.emplace(std::move(g));
        }
        ASSIGN_OR_RETURN(m.data, gpg->Encrypt(plain, *options.secrets_passphrase));
        f.secret = true;
        f.stored = std::string(kSecretsPrefix) + f.path.substr(1) + ".gpg";
        f.ciphertext_sha256 = crypto::HashToHex(crypto::Sha256(m.data));
        m.entry.path = f.stored;
        result.encrypted_now.push_back(f.path);
      }
      if (f.secret) {
        m.attrs.mode = 0600;
        ++result.secrets;
      } else {
        ++result.files;
      }
    }
    members.push_back(std::move(m));
  }
  if (!clear_secrets.empty()) {
    std::string msg = "config snapshot " + result.snapshot_id.substr(0, 12) + " stores " + std::to_string(clear_secrets.size()) +
                      " secret file(s) in clear (made before secrets were recognized by mode and content); export refused, " +
                      output + " not written:";
    for (const auto& c : clear_secrets) msg += "\n  " + c;
    msg += "\nGive the secrets passphrase (--secrets-passphrase-file or $AILEE_SECRETS_PASSPHRASE) to export them encrypted, "
           "or run `ailee-cli config backup` and export the new snapshot.";
    return FailedPrecondition(msg);
  }
  auto doc = ConfigManifestToJson(manifest);
  doc["snapshot"] = snap.id_hex();
  doc["time"] = FormatUtc(snap.time_ms / 1000);
  doc["host"] = snap.host;
  for (auto& f : doc["files"]) {
    if (f.value("secret", false)) f.erase("sha256");  // only the ciphertext leaves the repository
  }
  archive::TarMember manifest_member;
  manifest_member.entry.path = "MANIFEST.json";
  manifest_member.attrs.mode = 0644;
  manifest_member.attrs.mtime_ns = snap.time_ms * 1000000;
  manifest_member.data = doc.dump(2) + "\n";
  members.insert(members.begin(), std::move(manifest_member));
  RETURN_IF_ERROR(archive::WriteTarGz(output, members));
  return result;
}

Result<ConfigImportReport> ImportConfigArchive(const std::string& archive_path, const std::string& target,
                                               const ConfigImportOptions& options) {
  ASSIGN_OR_RETURN(auto members, archive::ReadTarGz(archive_path));
  ConfigImportReport report;
  report.entries = members.size();
  std::vector<archive::ArchiveEntry> entries;
  for (const auto& m : members) entries.push_back(m.entry);
  RETURN_IF_ERROR(archive::RefusalsToStatus(archive::CheckEntries(entries), "archive " + archive_path));
  std::string config_path;
  for (const auto& m : members) {
    if (m.entry.type == archive::ArchiveEntry::Type::kFile && archive::CleanEntryPath(m.entry.path).value() == "MANIFEST.json") {
      auto j = nlohmann::json::parse(m.data, nullptr, false);
      if (j.is_object()) config_path = j.value("config_path", "");
    }
  }
  if (!config_path.empty() && config_path.front() == '/' && archive::CleanEntryPath(config_path.substr(1)).ok()) {
    report.config_file = fs::JoinPath(target, config_path.substr(1));
  }
  if (options.dry_run) return report;
  ASSIGN_OR_RETURN(auto out, archive::SafeTarget::Open(target, true));
  ASSIGN_OR_RETURN(report.stats, archive::ExtractMembers(members, out));
  if (options.secrets_passphrase && !options.secrets_passphrase->empty()) {
    std::optional<keys::GpgSymmetric> gpg;
    for (const auto& m : members) {
      std::string rel = archive::CleanEntryPath(m.entry.path).value();
      std::string prefix = kSecretsPrefix;
      if (m.entry.type != archive::ArchiveEntry::Type::kFile || rel.rfind(prefix, 0) != 0 || rel.size() <= prefix.size() + 4 ||
          rel.substr(rel.size() - 4) != ".gpg") {
        continue;
      }
      if (!gpg) {
        ASSIGN_OR_RETURN(auto g, keys::GpgSymmetric::Create());
        gpg.emplace(std::move(g));
      }
      auto pt = gpg->Decrypt(m.data, *options.secrets_passphrase);
      if (!pt.ok()) return pt.status().WithContext("decrypting " + rel + " from " + archive_path);
      RETURN_IF_ERROR(out.WriteFile(rel.substr(prefix.size(), rel.size() - prefix.size() - 4), pt->view(),
                                    archive::FileAttrs{0400, -1, true, m.attrs.uid, m.attrs.gid}));
      ++report.secrets_decrypted;
    }
    RETURN_IF_ERROR(out.Sync());
  }
  if (options.validate && !report.config_file.empty() && fs::Exists(report.config_file)) {
    for (const auto& p : config::ValidateConfigFile(report.config_file)) report.problems.push_back(p.ToString());
  }
  return report;
}

}  // namespace ailee::ops
