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


Status CheckSecretText(const crypto::SecureBytes& s, const std::string& what) {
  if (s.empty()) return InvalidArgument(what + " is empty");
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.data()[i] == '\0' || s.data()[i] == '\n' || s.data()[i] == '\r')
      return InvalidArgument(what + " contains a NUL or line break (only a single line is accepted)");
  }
  return Status::Ok();
}

crypto::SecureBytes StripTrailingNewline(crypto::SecureBytes s) {
  size_t n = s.size();
  if (n > 0 && s.data()[n - 1] == '\n') --n;
  if (n > 0 && s.data()[n - 1] == '\r') --n;
  if (n == s.size()) return s;
  return crypto::SecureBytes(std::string_view(s.data(), n));
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
    ASSIGN_OR_RETURN(crypto::SecureBytes raw, ReadSecretFile(source.file));
    secret = StripTrailingNewline(std::move(raw));
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
