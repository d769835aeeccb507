#include "keys/signing_fence.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/fs.h"
#include "base/hex.h"
#include "base/hint.h"
#include "keys/retirement.h"

namespace ailee::keys {
namespace {

constexpr std::string_view kMagic = "ailee-signing-fence 1";
constexpr const char* kLostHint =
    "the fence records the highest block this key signed; never delete or edit it. If it is lost or damaged, "
    "recover the chain tip from the peers or the archive first, then re-create it at that tip "
    "(docs/keys.md \"When the fence is lost\")";

std::string SanitizeLabel(const std::string& label) {
  std::string out;
  for (char c : label) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

std::string Describe(uint64_t height, const crypto::Hash256& hash) {
  return "block " + std::to_string(height) + " (" + crypto::HashToHex(hash) + ")";
}

// Canonical decimal only ("007" or "+7" would be a hand edit the checksum also catches).
bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// The checked body: the four lines before "checksum".
std::string Body(const FenceState& s) {
  return std::string(kMagic) + "\nheight " + std::to_string(s.height) + "\nblock_hash " +
         crypto::HashToHex(s.block_hash) + "\npending_block " + HexEncode(s.pending_block) + "\n";
}

Status Refusal(const FenceState& fence, uint64_t height, const crypto::Hash256& hash) {
  return FailedPrecondition("signing fence refuses to sign " + Describe(height, hash) + ": this key already signed " +
                            Describe(fence.height, fence.block_hash) +
                            " (a height at or below the fence is signed only again for the very same block)");
}

Status CheckRule(const FenceState& fence, uint64_t height, const crypto::Hash256& hash) {
  if (height > fence.height) return Status::Ok();
  if (height == fence.height && hash == fence.block_hash && height > 0) return Status::Ok();
  return Refusal(fence, height, hash);
}

}  // namespace

std::string FencePathForKeyFile(const std::string& key_file) { return key_file + ".fence"; }

std::string FencePathForPkcs11(const std::string& config_dir, const std::string& token_label,
                               const std::string& key_label, const std::string& configured) {
  if (!configured.empty()) return configured;
  return fs::JoinPath(config_dir, "pkcs11-" + SanitizeLabel(token_label) + "-" + SanitizeLabel(key_label) + ".fence");
}

std::string SerializeFence(const FenceState& s) {
  std::string body = Body(s);
  return body + "checksum " + crypto::HashToHex(crypto::Sha256(body)) + "\n";
}

Result<FenceState> ParseFence(std::string_view text, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return WithHint(DataLoss("signing fence " + path + " is unreadable: " + why), kLostHint);
  };
  if (text.find('\r') != std::string_view::npos) return bad("it has CR characters (CRLF line ends?); LF only");
  if (text.empty() || text.back() != '\n') return bad("it does not end with a newline (truncated?)");
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() != 5) return bad("expected 5 lines, found " + std::to_string(lines.size()));
  if (lines[0] != kMagic) return bad("the first line is not \"" + std::string(kMagic) + "\"");
  auto value = [&](size_t i, std::string_view key) -> std::optional<std::string_view> {
    std::string prefix = std::string(key) + " ";
    if (lines[i].substr(0, prefix.size()) != prefix) return std::nullopt;
    return lines[i].substr(prefix.size());
  };
  FenceState s;
  auto height = value(1, "height");
  if (!height || !ParseDecimal(*height, &s.height)) return bad("line 2: expected \"height <decimal>\"");
  auto hash = value(2, "block_hash");
  if (!hash || hash->size() != 64 || !crypto::HashFromHex(*hash, &s.block_hash))
    return bad("line 3: expected \"block_hash <64 hex>\"");
  auto pending = value(3, "pending_block");
  if (!pending) return bad("line 4: expected \"pending_block <hex>\"");
  auto raw = HexDecode(*pending);
  if (!raw) return bad("line 4: pending_block is not hex");
  s.pending_block = std::move(*raw);
  auto sum = value(4, "checksum");
  std::string body(text.substr(0, text.size() - lines[4].size() - 1));
  if (!sum || *sum != crypto::HashToHex(crypto::Sha256(body))) return bad("the checksum does not match its content");
  return s;
}

Result<FenceState> ReadFenceFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return NotFound("no signing fence at " + path);
    if (e == ELOOP) return WithHint(PermissionDenied("signing fence " + path + " is a symlink; refused"), kLostHint);
    return PermissionDenied("cannot open signing fence " + path + ": " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return WithHint(PermissionDenied("signing fence " + path + " is not a regular file; refused"), kLostHint);
  }
  ::close(fd);
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  return ParseFence(text, path);
}

Status RaiseFenceFile(const std::string& path, const FenceState& state) {
  auto existing = ReadFenceFile(path);
  if (existing.ok()) {
    if (existing->height > state.height ||
        (existing->height == state.height && existing->block_hash != state.block_hash)) {
      return FailedPrecondition("signing fence " + path + " is at " + Describe(existing->height, existing->block_hash) +
                                ", not lowered to " + Describe(state.height, state.block_hash));
    }
    if (existing->height == state.height) return Status::Ok();
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  return fs::WriteFileAtomic(path, SerializeFence(state), 0600);
}

Status CheckNotRetired(const std::string& fence_path) {
  const std::string marker = RetiredMarkerPathForFence(fence_path);
  auto retired = ReadRetiredMarker(marker);
  if (!retired.ok())
    return FailedPrecondition("cannot read " + marker + " (" + retired.status().message() +
                              "); a key that may be retired does not sign");
  if (!*retired) return Status::Ok();
  return WithHint(FailedPrecondition("signer key of " + fence_path + " (" + (*retired)->signer_id + ") was " +
                                     (*retired)->Describe() + "; a retired key never signs again (marker " + marker +
                                     ")"),
                  "give this node its new key (signer.key_file or signer.pkcs11) and the federation change that "
                  "added it; the retired key and its fence are kept only to explain history");
}

Result<std::unique_ptr<SigningFence>> SigningFence::Open(const std::string& path) {
  RETURN_IF_ERROR(CheckNotRetired(path));
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return PermissionDenied("cannot open the signing fence's lock " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return WithHint(FailedPrecondition("signing fence " + path + " is held by another process"),
                    "another node signs with this key; one key, one running leader");
  }
  FenceState state;
  auto read = ReadFenceFile(path);
  if (read.ok()) {
    state = std::move(read).value();
  } else if (read.status().code() != StatusCode::kNotFound) {
    ::close(fd);
    return read.status();
  }
  return std::unique_ptr<SigningFence>(new SigningFence(path, fd, std::move(state)));
}

SigningFence::~SigningFence() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status SigningFence::CheckSign(uint64_t height, const crypto::Hash256& hash) const {
  return CheckRule(state_, height, hash);
}

SigningFence::SignFn SigningFence::Guard(uint64_t height, SignFn sign) const {
  auto header_checked = std::make_shared<bool>(false);
  return [this, height, header_checked, sign = std::move(sign)](std::string_view m) -> Result<std::string> {
    if (!*header_checked) {
      crypto::Hash256 hash{};
      if (m.size() != hash.size()) return Internal("the first message signed for a block is not its header hash");
      std::memcpy(hash.data(), m.data(), hash.size());
      RETURN_IF_ERROR(CheckSign(height, hash));
      *header_checked = true;
    }
    return sign(m);
  };
}

Status SigningFence::CheckStillHeld() const {
  const std::string lock_path = path_ + ".lock";
  struct stat held {}, now {};
  if (::fstat(lock_fd_, &held) != 0 || ::lstat(lock_path.c_str(), &now) != 0 || held.st_dev != now.st_dev ||
      held.st_ino != now.st_ino) {
    return WithHint(FailedPrecondition("the signing fence's lock " + lock_path +
                                       " was deleted or replaced while this node held it; not signing"),
                    "another process may now hold the key; stop every node using it, then restart one");
  }
  RETURN_IF_ERROR(CheckNotRetired(path_));
  auto disk = ReadFenceFile(path_);
  if (disk.ok() && (disk->height > state_.height ||
                    (disk->height == state_.height && disk->block_hash != state_.block_hash))) {
    return WithHint(FailedPrecondition("signing fence " + path_ + " was raised to " +
                                       Describe(disk->height, disk->block_hash) + " by another signer (this node fenced " +
                                       Describe(state_.height, state_.block_hash) + "); not signing"),
                    "two processes sign with this key; stop every node using it, then restart one");
  }
  return Status::Ok();
}

Status SigningFence::Advance(uint64_t height, const crypto::Hash256& hash, std::string_view pending_block) {
  RETURN_IF_ERROR(CheckSign(height, hash));
  RETURN_IF_ERROR(CheckStillHeld());
  FenceState next{height, hash, std::string(pending_block)};
  RETURN_IF_ERROR(fs::WriteFileAtomic(path_, SerializeFence(next), 0600).WithContext("writing the signing fence"));
  state_ = std::move(next);
  return Status::Ok();
}

}  // namespace ailee::keys
