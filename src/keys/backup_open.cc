// Opening a backup (verify, restore) and writing a restored key file.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "base/fs.h"
#include "crypto/hash.h"
#include "keys/backup.h"
#include "keys/gpg_envelope.h"
#include "keys/retirement.h"
#include "keys/secret_input.h"

namespace ailee::keys {

Status CheckLocalPath(const std::string& path, const std::string& option) {
  // RFC 3986 scheme, then ":/": "s3://b/p", "file:///x", "https://h/p".
  size_t colon = path.find(':');
  bool url = colon != std::string::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(path[0])) &&
             path.compare(colon, 2, ":/") == 0 &&
             std::all_of(path.begin(), path.begin() + static_cast<long>(colon), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
             });
  if (!url) return Status::Ok();
  return InvalidArgument(option + " " + path +
                         " is a URL, but key backups are written to and read from local directories only (nothing "
                         "was created for it). Back up to a local directory, then copy <id>.key.gpg and "
                         "<id>.key.json to the object store with its own tool (e.g. `aws s3 cp`); to verify or "
                         "restore, copy them back to a local directory first. A local directory whose name has a "
                         "colon can be given as ./" + path);
}

std::string ResolveBackupPath(const std::string& path_or_dir, const std::string& signer_id) {
  if (fs::IsDirectory(path_or_dir)) return fs::JoinPath(path_or_dir, BackupFileName(signer_id));
  return path_or_dir;
}

Result<BackupMetadata> ReadMetadata(const std::string& backup_path) {
  std::string meta_path = MetadataPathFor(backup_path);
  auto text = fs::ReadFile(meta_path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return NotFound("metadata " + meta_path + " is missing (every backup copy has a .key.json next to it)");
    return text.status();
  }
  return BackupMetadata::FromJson(*text, meta_path);
}

Result<crypto::SecureBytes> CombinePassphraseShares(const BackupMetadata& meta, const std::vector<std::string>& files) {
  if (!meta.shares) return InvalidArgument("this backup's passphrase was not split into shares (no passphrase_shares in its metadata)");
  const ShareInfo& info = *meta.shares;
  for (const auto& f : files) RETURN_IF_ERROR(CheckLocalPath(f, "--shares"));
  std::vector<Share> shares;
  std::set<int> numbers;
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(Share s, ReadShareFile(f));
    if (std::find(info.numbers.begin(), info.numbers.end(), s.number) == info.numbers.end())
      return InvalidArgument("share " + f + " (number " + std::to_string(s.number) +
                             ") is not one of the shares of this backup of '" + meta.identity.signer_id +
                             "' (mismatched share: from another split?)");
    if (!numbers.insert(s.number).second) continue;  // the same share twice counts once
    shares.push_back(std::move(s));
  }
  if (static_cast<int>(shares.size()) < info.threshold)
    return InvalidArgument("too few shares: got " + std::to_string(shares.size()) + " distinct, this backup needs " +
                           std::to_string(info.threshold) + " of " + std::to_string(info.count));
  return CombineShares(shares);
}

Result<OpenedBackup> OpenBackup(const std::string& signer_id, const std::string& path_or_dir,
                                const crypto::SecureBytes& passphrase, const FederationCheck& federation) {
  ASSIGN_OR_RETURN(GpgSymmetric gpg, GpgSymmetric::Create());
  return OpenBackup(signer_id, path_or_dir, passphrase, federation, gpg);
}

Result<OpenedBackup> OpenBackup(const std::string& signer_id, const std::string& path_or_dir,
                                const crypto::SecureBytes& passphrase, const FederationCheck& federation,
                                GpgSymmetric& gpg) {
  RETURN_IF_ERROR(CheckLocalPath(path_or_dir, "backup"));
  OpenedBackup out;
  out.path = ResolveBackupPath(path_or_dir, signer_id);
  ASSIGN_OR_RETURN(out.metadata, ReadMetadata(out.path));
  const KeyIdentity& recorded = out.metadata.identity;
  if (recorded.signer_id != signer_id)
    return InvalidArgument(out.path + " is a backup of '" + recorded.signer_id + "', not of '" + signer_id + "'");
  struct stat sb {};
  if (::stat(out.path.c_str(), &sb) != 0) {
    if (errno == ENOENT) return NotFound("backup " + out.path + " is missing");
    return ErrnoStatus("stat", out.path, errno);
  }
  out.mtime_unix = sb.st_mtime;
  ASSIGN_OR_RETURN(std::string ciphertext, fs::ReadFile(out.path));
  std::string digest = crypto::HashToHex(crypto::Sha256(ciphertext));
  if (!out.metadata.ciphertext_sha256.empty() && digest != out.metadata.ciphertext_sha256)
    return DataLoss("backup " + out.path + " was modified or truncated: SHA-256 " + digest + ", recorded " +
                    out.metadata.ciphertext_sha256 + " (" + std::to_string(ciphertext.size()) + " bytes)");
  auto pem = gpg.Decrypt(ciphertext, passphrase);
  if (!pem.ok()) return pem.status().WithContext("decrypting " + out.path);
  out.key_pem = std::move(pem).value();
  auto key = crypto::PrivateKey::FromPem(out.key_pem);
  if (!key.ok()) return DataLoss("backup " + out.path + " decrypts, but not to a supported private key: " + key.status().message());
  out.key = std::move(key).value();
  KeyIdentity actual = IdentityOf(signer_id, out.key.public_key());
  if (actual.type != recorded.type)
    return DataLoss("backup " + out.path + " holds a " + std::string(crypto::KeyTypeName(actual.type)) +
                    " key, its metadata records " + std::string(crypto::KeyTypeName(recorded.type)));
  if (actual.fingerprint != recorded.fingerprint)
    return DataLoss("backup " + out.path + " holds key " + actual.fingerprint + ", its metadata records " +
                    recorded.fingerprint);
  if (federation.keys && federation.keys->count(signer_id)) {
    RETURN_IF_ERROR(CheckFederation(*federation.keys, actual).WithContext("backup " + out.path));
    out.federation = "match";
  } else if (federation.required) {
    return NotFound("no federation public key for '" + signer_id +
                    "' to check the backup against (config federation section or --federation-key " + signer_id +
                    "=PUBKEY.pem)");
  } else {
    out.federation = "not configured";
  }
  return out;
}

VerifyReport VerifyBackups(const std::string& signer_id, const std::vector<std::string>& paths,
                           const crypto::SecureBytes& passphrase, const FederationCheck& federation) {
  VerifyReport report;
  auto gpg = GpgSymmetric::Create();
  if (!gpg.ok()) {
    report.overall = gpg.status();
    return report;
  }
  if (paths.empty()) report.overall = InvalidArgument("no backup copies given to verify");
  for (const auto& p : paths) {
    CopyReport c;
    c.path = ResolveBackupPath(p, signer_id);
    if (auto meta = ReadMetadata(c.path); meta.ok()) {
      c.fingerprint = meta->identity.fingerprint;
      c.key_type = std::string(crypto::KeyTypeName(meta->identity.type));
      c.created_unix = meta->created_unix;
    }
    struct stat sb {};
    if (::stat(c.path.c_str(), &sb) == 0) c.mtime_unix = sb.st_mtime;
    auto retired = ReadRetiredMarker(fs::JoinPath(fs::Dirname(c.path), RetiredBackupFileName(signer_id)));
    if (!retired.ok()) c.retired = "unreadable retired marker: " + retired.status().message();
    else if (*retired) c.retired = (*retired)->Describe();
    auto opened = OpenBackup(signer_id, p, passphrase, federation, *gpg);
    c.status = opened.ok() ? Status::Ok() : opened.status();
    if (opened.ok()) c.federation = opened->federation;
    if (!c.status.ok() && report.overall.ok()) report.overall = c.status;
    report.copies.push_back(std::move(c));
  }
  return report;
}

Result<FileOwner> ParseOwner(const std::string& text) {
  FileOwner o;
  std::string user = text, group;
  if (auto pos = text.find(':'); pos != std::string::npos) {
    user = text.substr(0, pos);
    group = text.substr(pos + 1);
  }
  auto numeric = [](const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit); };
  if (!user.empty()) {
    if (struct passwd* pw = ::getpwnam(user.c_str())) {
      o.uid = pw->pw_uid;
      if (group.empty() && text.find(':') == std::string::npos) o.gid = std::nullopt;
    } else if (numeric(user)) {
      o.uid = static_cast<uid_t>(std::stoul(user));
    } else {
      return InvalidArgument("no such user '" + user + "'");
    }
  }
  if (!group.empty()) {
    if (struct group* gr = ::getgrnam(group.c_str())) o.gid = gr->gr_gid;
    else if (numeric(group)) o.gid = static_cast<gid_t>(std::stoul(group));
    else return InvalidArgument("no such group '" + group + "'");
  }
  return o;
}

namespace {

std::string Octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string FileKind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  return "not a regular file";
}

std::string UserName(uid_t uid) {
  struct passwd* pw = ::getpwuid(uid);
  return pw ? std::string(" (") + pw->pw_name + ")" : std::string();
}

// Owner read/write and group read are what a key file may keep.
constexpr mode_t kSafeKeyModeBits = 0640;

// The target already exists: is it this key, and is it safe? Works on one
// descriptor opened without following a link, so what is checked is what
// is repaired.
Result<RestoreResult> CheckExistingTarget(const OpenedBackup& backup, const std::string& path, const FileOwner& owner,
                                          int fd) {
  const std::string& fp = backup.metadata.identity.fingerprint;
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(sb.st_mode))
    return AlreadyExists(path + " exists and is " + FileKind(sb.st_mode) +
                         ", not a regular file; refusing to restore over it (remove it and rerun)");
  if (static_cast<size_t>(sb.st_size) > (1u << 20))
    return AlreadyExists(path + " already exists and is not this key; refusing to overwrite it");
  crypto::SecureBytes content(static_cast<size_t>(sb.st_size));
  size_t len = 0;
  while (len < content.size()) {
    ssize_t n = ::read(fd, content.data() + len, content.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  auto key = crypto::PrivateKey::FromPem(crypto::SecureBytes(std::string_view(content.data(), len)));
  if (!key.ok()) return AlreadyExists(path + " already exists and is not this key; refusing to overwrite it");
  if (key->public_key().FingerprintHex() != fp)
    return AlreadyExists(path + " already holds a different key (" + key->public_key().FingerprintHex() +
                         ", restoring " + fp + "); refusing to overwrite it");

  // This key. Now make it as safe as a fresh restore, or say why not.
  RestoreResult r;
  r.outcome = RestoreOutcome::kAlreadyPresent;
  const uid_t me = ::geteuid();
  if (!owner.uid && sb.st_uid != me && sb.st_uid != 0)
    return PermissionDenied(path + " already holds this key but is owned by uid " + std::to_string(sb.st_uid) +
                            UserName(sb.st_uid) +
                            ", who can read it and change its mode again; chown it to the node's user, or rerun "
                            "with --owner USER[:GROUP] to have restore set the owner");
  uid_t want_uid = owner.uid ? *owner.uid : sb.st_uid;
  gid_t want_gid = owner.gid ? *owner.gid : sb.st_gid;
  if (want_uid != sb.st_uid || want_gid != sb.st_gid) {
    if (::fchown(fd, want_uid, want_gid) != 0)
      return ErrnoStatus("chown", path, errno).WithContext("setting the owner of the key file already present");
    r.repaired = "owner " + std::to_string(sb.st_uid) + ":" + std::to_string(sb.st_gid) + " -> " +
                 std::to_string(want_uid) + ":" + std::to_string(want_gid);
    if (::fstat(fd, &sb) != 0) return ErrnoStatus("stat", path, errno);  // chown may clear set-id bits
  }
  mode_t mode = sb.st_mode & 07777;
  if ((mode & ~kSafeKeyModeBits) != 0) {
    mode_t safe = mode & kSafeKeyModeBits;
    if (::fchmod(fd, safe) != 0)
      return ErrnoStatus("chmod", path, errno).WithContext("removing unsafe permissions from the key file already present");
    if (!r.repaired.empty()) r.repaired += ", ";
    r.repaired += "mode " + Octal(mode) + " -> " + Octal(safe);
  }
  if (!r.repaired.empty() && ::fsync(fd) != 0) return ErrnoStatus("fsync", path, errno);
  return r;
}

}  // namespace

Result<RestoreResult> RestoreToFile(const OpenedBackup& backup, const std::string& path, const FileOwner& owner) {
  // O_NOFOLLOW: a link at the target is refused, not followed; O_NONBLOCK: a
  // FIFO there must not block the open.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) {
    auto r = CheckExistingTarget(backup, path, owner, fd);
    ::close(fd);
    return r;
  }
  if (errno == ELOOP)
    return AlreadyExists(path + " is a symbolic link; refusing to restore through it or to take what it points to as "
                         "the restored key: remove the link and rerun to write the key file at " + path + " itself");
  if (errno != ENOENT) return ErrnoStatus("open", path, errno).WithContext("checking the restore target");
  std::string dir = fs::Dirname(path);
  if (!dir.empty() && !fs::IsDirectory(dir)) return NotFound("target directory " + dir + " does not exist");
  Status st = fs::WriteFileExclusive(path, backup.key_pem.view(), 0400);
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExists(path + " appeared while restoring; refusing to overwrite it");
  RETURN_IF_ERROR(st);
  if (owner.uid || owner.gid) {
    if (::lchown(path.c_str(), owner.uid ? *owner.uid : static_cast<uid_t>(-1), owner.gid ? *owner.gid : static_cast<gid_t>(-1)) != 0) {
      int e = errno;
      ::unlink(path.c_str());
      return ErrnoStatus("chown", path, e);
    }
    RETURN_IF_ERROR(fs::FsyncFile(path));
  }
  return RestoreResult{RestoreOutcome::kWritten, ""};
}

}  // namespace ailee::keys
