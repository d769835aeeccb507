#include "keys/secret_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "crypto/random.h"

namespace ailee::keys {
namespace {

constexpr size_t kMaxSecretBytes = 1 << 20;

Status CheckSecretText(const crypto::SecureBytes& s, const std::string& what) {
  if (s.empty()) return InvalidArgument(what + " is empty");
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.data()[i] == '\0' || s.data()[i] == '\n' || s.data()[i] == '\r')
      return InvalidArgument(what + " contains a NUL or line break (only a single line is accepted)");
  }
  return Status::Ok();
}

// The secret in a passphrase/PIN file, as `gpg --passphrase-file` reads it:
// the first line, up to the LF, nothing stripped (a CR before the LF would
// stay part of the passphrase, as do spaces); later lines are ignored, as gpg
// does (`pass show` prints the password first, metadata after). A first
// line gpg and a person would read differently is refused with what to do.
Result<crypto::SecureBytes> SecretFromFileContent(const crypto::SecureBytes& raw, const std::string& path) {
  std::string_view v = raw.view();
  std::string_view line = v.substr(0, v.find('\n'));
  if (line.find('\r') != std::string_view::npos)
    return InvalidArgument("secret file " + path +
                           " has a CR (carriage return, as in a Windows CR LF line ending) in its first line: `gpg "
                           "--passphrase-file` keeps it as part of the passphrase, while a typed passphrase has "
                           "none, so the file would mean a different passphrase to gpg than to a person; remove it "
                           "with `sed -i 's/\\r$//' " + path + "` (or dos2unix) and rerun");
  if (line.empty())
    return InvalidArgument("secret file " + path + " has an empty first line: put the secret on the first line");
  if (line.find('\0') != std::string_view::npos)
    return InvalidArgument("secret file " + path + " contains a NUL byte in its first line, which no passphrase can hold");
  return crypto::SecureBytes(line);
}

// Reads a regular file or a pipe/FIFO (`<(pass show x)` is /dev/fd/N, a
// pipe; /dev/stdin may be one) once, to EOF, into locked memory. A pipe
// cannot be reread, so it is read exactly once and kept. A named FIFO waits
// for its writer, as gpg and cat do. Devices, sockets and directories are
// refused: /dev/zero must not be read forever.
Result<crypto::SecureBytes> ReadSecretFileOrPipe(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return NotFound("secret file " + path + " does not exist");
    return ErrnoStatus("open", path, e);
  }
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, e);
  }
  const bool pipe = S_ISFIFO(sb.st_mode);
  if (!pipe && !S_ISREG(sb.st_mode)) {
    ::close(fd);
    return InvalidArgument("secret file " + path +
                           " is neither a regular file nor a pipe (a directory, device or socket); give a file "
                           "holding the secret on one line, or a pipe such as <(pass show NAME)");
  }
  if (!pipe && static_cast<size_t>(sb.st_size) > kMaxSecretBytes) {
    ::close(fd);
    return InvalidArgument("secret file " + path + " is larger than 1 MiB; it cannot be a passphrase or PIN");
  }
  // One byte more than allowed, to tell "exactly at the limit" from "more".
  crypto::SecureBytes buf(pipe ? kMaxSecretBytes + 1 : static_cast<size_t>(sb.st_size) + 1);
  size_t len = 0;
  while (len < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return ErrnoStatus("read", path, e);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  if (len == buf.size()) {
    if (pipe) return InvalidArgument("pipe " + path + " delivered more than 1 MiB; it cannot be a passphrase or PIN");
    return Aborted("secret file " + path + " grew while being read; rerun once it is written");
  }
  return crypto::SecureBytes(std::string_view(buf.data(), len));
}

// Reads one line from the terminal with echo off, into locked memory.
Result<crypto::SecureBytes> PromptTty(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return NotFound("no terminal to prompt on");
  struct termios old {};
  bool have_termios = ::tcgetattr(fd, &old) == 0;
  if (have_termios) {
    struct termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  crypto::SecureBytes buf(1024);
  size_t len = 0;
  bool ok = true;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (len == buf.size()) { ok = false; break; }
    buf.data()[len++] = c;
  }
  if (have_termios) ::tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  if (!ok) return InvalidArgument("passphrase longer than 1024 characters");
  return crypto::SecureBytes(std::string_view(buf.data(), len));
}

}  // namespace

Result<crypto::SecureBytes> ReadSecretFile(const std::string& path) { return crypto::ReadSecretFile(path); }

Result<crypto::SecureBytes> ReadSecret(const SecretSource& source) {
  crypto::SecureBytes secret;
  std::string what;
  if (!source.file.empty()) {
    ASSIGN_OR_RETURN(crypto::SecureBytes raw, ReadSecretFileOrPipe(source.file));
    ASSIGN_OR_RETURN(secret, SecretFromFileContent(raw, source.file));
    what = "secret file " + source.file;
  } else if (const char* v = source.env ? std::getenv(source.env) : nullptr; v && *v) {
    secret = crypto::SecureBytes(std::string_view(v));
    crypto::Wipe(const_cast<char*>(v), std::strlen(v));
    ::unsetenv(source.env);
    what = std::string("environment variable ") + source.env;
  } else if (source.allow_tty) {
    auto first = PromptTty(source.prompt);
    if (!first.ok())
      return NotFound("no secret given: pass a file option" +
                      (source.env ? std::string(", set ") + source.env : std::string()) +
                      ", or run on a terminal (" + first.status().message() + ")");
    if (source.confirm) {
      ASSIGN_OR_RETURN(crypto::SecureBytes again, PromptTty("Repeat " + source.prompt));
      if (!(again == *first)) return InvalidArgument("the two entries do not match");
    }
    secret = std::move(first).value();
    what = "entered secret";
  } else {
    return NotFound("no secret given: pass a file option" +
                    (source.env ? std::string(" or set ") + source.env : std::string()));
  }
  RETURN_IF_ERROR(CheckSecretText(secret, what));
  return secret;
}

crypto::SecureBytes GeneratePassphrase() {
  static constexpr char kHex[] = "0123456789abcdef";
  crypto::SecureBytes raw(32);
  crypto::RandomFill(raw.data(), raw.size());
  crypto::SecureBytes out(64);
  for (size_t i = 0; i < 32; ++i) {
    auto b = static_cast<unsigned char>(raw.data()[i]);
    out.data()[2 * i] = kHex[b >> 4];
    out.data()[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

}  // namespace ailee::keys
