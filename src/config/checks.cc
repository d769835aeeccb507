// Checks of the files a config points to: keys exist, parse, match the
// fingerprints and the federation, and secrets are not readable by others.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "config/parse.h"

namespace ailee::config::internal {
namespace {

std::string Octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// "a readable file" problems for `file` at `field`; true when it is a regular file.
bool CheckRegularFile(const std::string& file, const std::string& field, FieldReader& r,
                      struct stat* out = nullptr) {
  struct stat sb {};
  if (::stat(file.c_str(), &sb) != 0) {
    int err = errno;
    r.Problem(field, "an existing file", file, std::strerror(err));
    return false;
  }
  if (!S_ISREG(sb.st_mode)) {
    r.Problem(field, "a regular file", file + " (not a regular file)");
    return false;
  }
  if (out) *out = sb;
  return true;
}

}  // namespace

void CheckDirectory(const std::string& dir, const std::string& field, FieldReader& r) {
  struct stat sb {};
  if (::stat(dir.c_str(), &sb) != 0) {
    int err = errno;
    r.Problem(field, "an existing directory", dir, std::strerror(err));
  } else if (!S_ISDIR(sb.st_mode)) {
    r.Problem(field, "a directory", dir + " (not a directory)");
  }
}

Result<crypto::SecureBytes> ReadSecretFile(const std::string& path) { return crypto::ReadSecretFile(path); }

void CheckSecretFile(const std::string& file, const std::string& field, FieldReader& r) {
  struct stat sb {};
  if (!CheckRegularFile(file, field, r, &sb)) return;
  if ((sb.st_mode & 0007) != 0) {
    r.Problem(field, "no access for others (e.g. mode 0600)", "mode " + Octal(sb.st_mode),
              "chmod o-rwx " + file);
  }
}

void CheckFederationKey(FederationSigner* s, const std::string& path, FieldReader& r) {
  std::string field = path + (s->public_key_file.empty() ? ".public_key" : ".public_key_file");
  if (!s->public_key_file.empty()) {
    if (!CheckRegularFile(s->public_key_file, field, r)) return;
    auto text = fs::ReadFile(s->public_key_file);
    if (!text.ok()) {
      r.Problem(field, "a readable PEM public key", s->public_key_file, text.status().message());
      return;
    }
    s->public_key_pem = *text;
  }
  auto key = crypto::PublicKey::FromPem(s->public_key_pem);
  if (!key.ok()) {
    r.Problem(field, "a PEM public key (ed25519, secp256k1 or p256)",
              s->public_key_file.empty() ? "unparsable inline PEM" : "unparsable " + s->public_key_file,
              key.status().message());
    s->public_key_pem.clear();
    return;
  }
  if (!s->fingerprint.empty() && s->fingerprint != key->FingerprintHex()) {
    r.Problem(path + ".fingerprint", "the key's fingerprint " + key->FingerprintHex(), s->fingerprint,
              "the public key does not match the recorded fingerprint");
  }
}

void CheckDistinctKeys(const FederationSection& f, FieldReader& r) {
  for (size_t i = 0; i < f.signers.size(); ++i) {
    if (f.signers[i].public_key_pem.empty()) continue;
    auto ki = crypto::PublicKey::FromPem(f.signers[i].public_key_pem);
    if (!ki.ok()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (f.signers[j].public_key_pem.empty()) continue;
      auto kj = crypto::PublicKey::FromPem(f.signers[j].public_key_pem);
      if (kj.ok() && kj->Der() == ki->Der()) {
        r.Problem(IndexPath("federation.signers", i), "a public key distinct from every other signer's",
                  "the key of federation.signers[" + std::to_string(j) + "] (" + f.signers[j].id + ")",
                  "duplicate keys would let one key count twice towards the threshold");
        break;
      }
    }
  }
}

void CheckSignerKey(const NodeConfig& cfg, const SignerSection& s, FieldReader& r) {
  if (s.pkcs11) {
    if (!s.pkcs11->module.empty()) CheckRegularFile(s.pkcs11->module, "signer.pkcs11.module", r);
    if (!s.pkcs11->pin_file.empty()) CheckSecretFile(s.pkcs11->pin_file, "signer.pkcs11.pin_file", r);
    // The node creates the fence file; its directory must be there.
    if (!s.pkcs11->fence_file.empty())
      CheckDirectory(fs::Dirname(s.pkcs11->fence_file), "signer.pkcs11.fence_file", r);
    return;
  }
  if (s.key_file.empty()) return;
  struct stat sb {};
  if (!CheckRegularFile(s.key_file, "signer.key_file", r, &sb)) return;
  if ((sb.st_mode & 0007) != 0) {
    r.Problem("signer.key_file", "no access for others (e.g. mode 0600)", "mode " + Octal(sb.st_mode),
              "the private key is exposed; chmod 600 " + s.key_file);
  }
  auto pem = ReadSecretFile(s.key_file);
  if (!pem.ok()) {
    r.Problem("signer.key_file", "a readable PEM private key", s.key_file, pem.status().message());
    return;
  }
  auto key = crypto::PrivateKey::FromPem(*pem);
  if (!key.ok()) {
    // The parser's message names no key material, only the failure.
    r.Problem("signer.key_file", "a PEM private key (ed25519, secp256k1 or p256)", "unparsable " + s.key_file);
    return;
  }
  const FederationSigner* fed = cfg.FindFederationSigner(s.id);
  if (fed == nullptr) {
    // Not a genesis signer: one a later epoch added, checked by the node
    // against the chain. Unless the key is a genesis signer's under another
    // id: a typo in signer.id, caught here rather than at the node.
    for (const auto& g : cfg.federation.signers) {
      auto gk = crypto::PublicKey::FromPem(g.public_key_pem);
      if (gk.ok() && gk->FingerprintHex() == key->public_key().FingerprintHex()) {
        r.Problem("signer.id", "the id the federation lists for this key (" + g.id + ")", "\"" + s.id + "\"");
      }
    }
    return;
  }
  if (fed->public_key_pem.empty()) return;
  auto fed_key = crypto::PublicKey::FromPem(fed->public_key_pem);
  if (!fed_key.ok()) return;
  if (fed_key->FingerprintHex() != key->public_key().FingerprintHex()) {
    r.Problem("signer.key_file",
              "the private key of federation signer " + s.id + " (fingerprint " + fed_key->FingerprintHex() + ")",
              "a key with fingerprint " + key->public_key().FingerprintHex(),
              "this node would sign with a key the federation does not accept");
  }
}

}  // namespace ailee::config::internal
