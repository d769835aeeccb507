#include "keys/gpg_envelope.h"

#include <gpgme.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "base/fs.h"

extern char** environ;

namespace ailee::keys {

namespace {

constexpr size_t kMaxPlaintext = 1 << 20;

void InitGpgme() {
  static std::once_flag once;
  std::call_once(once, [] { gpgme_check_version(nullptr); });
}

std::string GpgError(gpgme_error_t err) {
  char buf[256];
  gpgme_strerror_r(err, buf, sizeof buf);
  return std::string(buf) + " (" + gpgme_strsource(err) + ")";
}

}  // namespace

// A private GNUPGHOME for one operation.
class TempGnupgHome {
 public:
  static Result<std::unique_ptr<TempGnupgHome>> Create() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ailee-gnupg-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return ErrnoStatus("mkdtemp", tmpl, errno);
    auto home = std::unique_ptr<TempGnupgHome>(new TempGnupgHome(tmpl));
    if (::chmod(tmpl.c_str(), 0700) != 0) return ErrnoStatus("chmod", tmpl, errno);
    // s2k-*: what the symmetric key derivation and the cipher are (gpg
    // uses s2k-cipher-algo as the cipher for --symmetric). no-symkey-cache:
    // the agent must never remember the passphrase.
    RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(tmpl, "gpg.conf"),
                                        "s2k-cipher-algo AES256\n"
                                        "s2k-digest-algo SHA512\n"
                                        "s2k-mode 3\n"
                                        "cipher-algo AES256\n"
                                        "no-symkey-cache\n"
                                        "no-random-seed-file\n"
                                        "pinentry-mode loopback\n",
                                        0600));
    RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(tmpl, "gpg-agent.conf"),
                                        "allow-loopback-pinentry\n"
                                        "default-cache-ttl 0\n"
                                        "max-cache-ttl 0\n",
                                        0600));
    return home;
  }
  TempGnupgHome(const TempGnupgHome&) = delete;
  TempGnupgHome& operator=(const TempGnupgHome&) = delete;
  ~TempGnupgHome() {
    if (dir_.empty()) return;
    KillAgent();
    // `gpgconf --kill` returns once the agent was told to stop; the agent may
    // still remove (or, just started, create) its sockets in the home while
    // it is deleted, and a home left behind is a leaked private directory.
    for (int attempt = 0; attempt < 40; ++attempt) {
      if (fs::RemoveAll(dir_).ok() && !fs::Exists(dir_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const std::string& dir() const { return dir_; }

 private:
  explicit TempGnupgHome(std::string d) : dir_(std::move(d)) {}

  // gpg starts an agent for the home directory; stop it so no process keeps
  // state (or a socket) for a directory we are about to delete.
  void KillAgent() {
    const char* gpgconf = "/usr/bin/gpgconf";
    gpgme_engine_info_t info = nullptr;
    if (gpgme_get_engine_info(&info) == 0) {
      for (; info; info = info->next)
        if (info->protocol == GPGME_PROTOCOL_GPGCONF && info->file_name) gpgconf = info->file_name;
    }
    std::string home_arg = dir_;
    const char* argv[] = {gpgconf, "--homedir", home_arg.c_str(), "--kill", "gpg-agent", nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    if (posix_spawn(&pid, gpgconf, &fa, nullptr, const_cast<char* const*>(argv), environ) == 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    posix_spawn_file_actions_destroy(&fa);
  }

  std::string dir_;
};

namespace {

struct PassphraseHook {
  const crypto::SecureBytes* passphrase;
  int calls = 0;
};

gpgme_error_t PassphraseCallback(void* hook, const char*, const char*, int prev_was_bad, int fd) {
  auto* h = static_cast<PassphraseHook*>(hook);
  // A second request means the first answer was wrong; do not loop.
  if (prev_was_bad || h->calls++ > 0) return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
  if (gpgme_io_writen(fd, h->passphrase->data(), h->passphrase->size()) != 0 || gpgme_io_writen(fd, "\n", 1) != 0)
    return gpgme_error_from_syserror();
  return 0;
}

// Decrypted output goes straight into locked memory.
struct SecureSink {
  crypto::SecureBytes buf{kMaxPlaintext};
  size_t len = 0;
};

ssize_t SinkWrite(void* handle, const void* data, size_t size) {
  auto* s = static_cast<SecureSink*>(handle);
  if (size > s->buf.size() - s->len) {
    errno = EFBIG;
    return -1;
  }
  std::memcpy(s->buf.data() + s->len, data, size);
  s->len += size;
  return static_cast<ssize_t>(size);
}

// One GPGME context bound to a private home, loopback pinentry and our callback.
class Context {
 public:
  ~Context() {
    if (ctx_) gpgme_release(ctx_);
  }
  Status Init(const TempGnupgHome& home, PassphraseHook* hook) {
    InitGpgme();
    gpgme_error_t err = gpgme_new(&ctx_);
    if (err) return Internal("gpgme_new: " + GpgError(err));
    err = gpgme_set_protocol(ctx_, GPGME_PROTOCOL_OpenPGP);
    if (!err) err = gpgme_ctx_set_engine_info(ctx_, GPGME_PROTOCOL_OpenPGP, nullptr, home.dir().c_str());
    if (!err) err = gpgme_set_pinentry_mode(ctx_, GPGME_PINENTRY_MODE_LOOPBACK);
    if (err) return FailedPrecondition("cannot set up gpg (is gnupg installed?): " + GpgError(err));
    gpgme_set_armor(ctx_, 0);
    gpgme_set_passphrase_cb(ctx_, PassphraseCallback, hook);
    return Status::Ok();
  }
  gpgme_ctx_t get() { return ctx_; }

 private:
  gpgme_ctx_t ctx_ = nullptr;
};

struct DataGuard {
  gpgme_data_t d = nullptr;
  ~DataGuard() {
    if (d) gpgme_data_release(d);
  }
};

}  // namespace

GpgSymmetric::GpgSymmetric(std::unique_ptr<TempGnupgHome> home) : home_(std::move(home)) {}
GpgSymmetric::GpgSymmetric(GpgSymmetric&&) noexcept = default;
GpgSymmetric::~GpgSymmetric() = default;

Result<GpgSymmetric> GpgSymmetric::Create() {
  InitGpgme();
  ASSIGN_OR_RETURN(auto home, TempGnupgHome::Create());
  return GpgSymmetric(std::move(home));
}

Result<std::string> GpgSymmetric::Encrypt(const crypto::SecureBytes& plaintext, const crypto::SecureBytes& passphrase) {
  PassphraseHook hook{&passphrase};
  Context ctx;
  RETURN_IF_ERROR(ctx.Init(*home_, &hook));
  DataGuard in, out;
  gpgme_error_t err = gpgme_data_new_from_mem(&in.d, plaintext.data(), plaintext.size(), /*copy=*/0);
  if (!err) err = gpgme_data_new(&out.d);
  if (err) return Internal("gpgme data: " + GpgError(err));
  err = gpgme_op_encrypt(ctx.get(), nullptr,
                         static_cast<gpgme_encrypt_flags_t>(GPGME_ENCRYPT_SYMMETRIC | GPGME_ENCRYPT_NO_COMPRESS),
                         in.d, out.d);
  if (err) return Internal("OpenPGP symmetric encryption failed: " + GpgError(err));
  size_t len = 0;
  char* buf = gpgme_data_release_and_get_mem(out.d, &len);
  out.d = nullptr;
  std::string ciphertext(buf ? buf : "", len);
  gpgme_free(buf);
  if (ciphertext.empty()) return Internal("gpg produced no output");
  return ciphertext;
}

Result<crypto::SecureBytes> GpgSymmetric::Decrypt(std::string_view ciphertext, const crypto::SecureBytes& passphrase) {
  if (ciphertext.empty()) return DataLoss("the backup file is empty");
  PassphraseHook hook{&passphrase};
  Context ctx;
  RETURN_IF_ERROR(ctx.Init(*home_, &hook));
  SecureSink sink;
  gpgme_data_cbs cbs{};
  cbs.write = SinkWrite;
  DataGuard in, out;
  gpgme_error_t err = gpgme_data_new_from_mem(&in.d, ciphertext.data(), ciphertext.size(), 0);
  if (!err) err = gpgme_data_new_from_cbs(&out.d, &cbs, &sink);
  if (err) return Internal("gpgme data: " + GpgError(err));
  err = gpgme_op_decrypt(ctx.get(), in.d, out.d);
  gpgme_decrypt_result_t res = gpgme_op_decrypt_result(ctx.get());
  if (!err && res && (res->recipients != nullptr))
    return DataLoss("the backup is encrypted to a public key, not symmetrically with a passphrase");
  if (!err && res && res->unsupported_algorithm)
    return DataLoss(std::string("the backup uses an unsupported algorithm: ") + res->unsupported_algorithm);
  if (err) {
    gpgme_err_code_t code = gpgme_err_code(err);
    if (code == GPG_ERR_BAD_PASSPHRASE || code == GPG_ERR_CANCELED || code == GPG_ERR_BAD_KEY ||
        code == GPG_ERR_NO_SECKEY)
      return PermissionDenied("wrong passphrase for the backup (" + GpgError(err) + ")");
    if (code == GPG_ERR_EFBIG) return DataLoss("the decrypted backup is larger than any key file (over 1 MiB)");
    return DataLoss("the backup cannot be decrypted: " + GpgError(err) +
                    " (damaged, truncated or not an OpenPGP file, or a wrong passphrase)");
  }
  return crypto::SecureBytes(std::string_view(sink.buf.data(), sink.len));
}

Result<std::string> GpgEncryptSymmetric(const crypto::SecureBytes& plaintext, const crypto::SecureBytes& passphrase) {
  ASSIGN_OR_RETURN(GpgSymmetric gpg, GpgSymmetric::Create());
  return gpg.Encrypt(plaintext, passphrase);
}

Result<crypto::SecureBytes> GpgDecryptSymmetric(std::string_view ciphertext, const crypto::SecureBytes& passphrase) {
  ASSIGN_OR_RETURN(GpgSymmetric gpg, GpgSymmetric::Create());
  return gpg.Decrypt(ciphertext, passphrase);
}

}  // namespace ailee::keys
