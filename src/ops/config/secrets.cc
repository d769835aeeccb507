#include "ops/config/secrets.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace ailee::ops {
namespace {

namespace stdfs = std::filesystem;

// Config files are small; this bounds what one file may pin in locked memory.
constexpr uint64_t kMaxSourceFileSize = 64ull << 20;

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != hay.end();
}

// "-----BEGIN <label>-----" lines whose label names a private key.
std::string PemPrivateKeyReason(std::string_view s) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  for (size_t at = s.find(kBegin); at != std::string_view::npos; at = s.find(kBegin, at + 1)) {
    size_t end = s.find("-----", at + kBegin.size());
    if (end == std::string_view::npos || end - at > 120) continue;
    std::string_view label = s.substr(at + kBegin.size(), end - at - kBegin.size());
    if (label.find("PRIVATE KEY") == std::string_view::npos) continue;
    if (label.find("OPENSSH") != std::string_view::npos) return "holds an OpenSSH private key";
    if (label.find("PGP") != std::string_view::npos) return "holds an OpenPGP private key";
    return "holds a PEM private key";
  }
  return "";
}

// An assignment of one of this project's secret environment variables, as
// an env file, a shell script or a compose file writes it (any case, with
// `export`, quotes, spaces around '=' or ':'): "NAME=value", "NAME: value".
// Only naming the variable ("from $AILEE_REPO_PASSPHRASE") is no secret.
std::string AileeSecretAssignmentReason(std::string_view s) {
  static constexpr std::string_view kNames[] = {"ailee_repo_passphrase", "ailee_new_repo_passphrase",
                                                "ailee_secrets_passphrase", "ailee_key_passphrase"};
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  for (std::string_view name : kNames) {
    for (size_t at = 0; at + name.size() <= s.size(); ++at) {
      size_t i = 0;
      while (i < name.size() && lower(s[at + i]) == name[i]) ++i;
      if (i < name.size()) continue;
      // Not the tail of a longer name (AILEE_NEW_REPO_... holds AILEE_REPO_... only as itself).
      if (at > 0 && (std::isalnum(static_cast<unsigned char>(s[at - 1])) || s[at - 1] == '_')) continue;
      size_t p = at + name.size();
      while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '"' || s[p] == '\'')) ++p;
      if (p >= s.size() || (s[p] != '=' && s[p] != ':')) continue;
      ++p;
      while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '"' || s[p] == '\'')) ++p;
      if (p < s.size() && s[p] != '\r' && s[p] != '\n') {
        std::string upper(name);
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return "sets " + upper;
      }
    }
  }
  return "";
}

std::string ContentReason(std::string_view s) {
  if (auto why = PemPrivateKeyReason(s); !why.empty()) return why;
  if (auto why = AileeSecretAssignmentReason(s); !why.empty()) return why;
  if (s.find("PuTTY-User-Key-File-") != std::string_view::npos) return "holds a PuTTY private key";
  if (ContainsNoCase(s, "aws_secret_access_key")) return "holds an aws_secret_access_key";
  if (ContainsNoCase(s, "aws_session_token")) return "holds an aws_session_token";
  return "";
}

}  // namespace

std::string NormalizedPath(const std::string& path) { return stdfs::path(path).lexically_normal().string(); }

std::map<std::string, std::string> ConfigNamedSecrets(const config::NodeConfig& cfg) {
  std::map<std::string, std::string> out;
  auto add = [&](const std::string& path, const char* field) {
    if (!path.empty()) out.emplace(NormalizedPath(path), field);
  };
  if (cfg.signer) {
    add(cfg.signer->key_file, "signer.key_file");
    if (cfg.signer->pkcs11) add(cfg.signer->pkcs11->pin_file, "signer.pkcs11.pin_file");
  }
  add(cfg.backup.passphrase_file, "backup.passphrase_file");
  add(cfg.node.admin_token_file, "node.admin_token_file");
  add(cfg.backup.s3.credentials_file, "backup.s3.credentials_file");
  for (const auto& p : cfg.backup.secret_paths) add(p, "backup.secret_paths");
  return out;
}

std::string SecretReason(const SecretRules& rules, const std::string& path, uint32_t mode, std::string_view content) {
  if (auto it = rules.listed.find(path); it != rules.listed.end()) return "named by " + it->second;
  stdfs::path p(path);
  if (p.filename() == "secrets.yaml") return "named secrets.yaml";
  if (p.parent_path().filename() == ".aws") return "an AWS file in " + p.parent_path().string();
  for (const char* env : {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
    const char* v = std::getenv(env);
    if (v && *v && NormalizedPath(v) == path) return std::string("named by $") + env;
  }
  if ((mode & 0044) == 0) {
    char m[8];
    std::snprintf(m, sizeof m, "%04o", mode & 07777);
    return std::string("mode ") + m + ": not readable by group or others";
  }
  return ContentReason(content);
}

Result<crypto::SecureBytes> ReadSourceFile(const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP) return FailedPrecondition(path + " is now a symlink (it was a file when listed); not followed, not backed up");
    return ErrnoStatus("open", path, e);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st->st_mode)) {
    const char* what = S_ISFIFO(st->st_mode) ? "a fifo" : S_ISCHR(st->st_mode) ? "a character device"
                       : S_ISBLK(st->st_mode) ? "a block device" : S_ISSOCK(st->st_mode) ? "a socket" : "not a regular file";
    return FailedPrecondition(path + " is " + what + " (it was a file when listed); not backed up");
  }
  if (static_cast<uint64_t>(st->st_size) > kMaxSourceFileSize) {
    return InvalidArgument(path + " is " + std::to_string(st->st_size) + " bytes; config backups take files up to 64 MiB. "
                           "Leave it out of backup.config_paths or back it up another way");
  }
  // One byte more than expected, so growth is noticed.
  crypto::SecureBytes buf(static_cast<size_t>(st->st_size) + 1);
  size_t len = 0;
  for (;;) {
    if (len == buf.size()) return Unavailable(path + " grew while being read; run the backup again");
    ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  if (len != static_cast<size_t>(st->st_size)) return Unavailable(path + " shrank while being read; run the backup again");
  return crypto::SecureBytes(std::string_view(buf.data(), len));
}

}  // namespace ailee::ops
