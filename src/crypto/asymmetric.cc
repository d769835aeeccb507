#include "crypto/asymmetric.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/hash.h"

namespace ailee::crypto {
namespace {

std::shared_ptr<void> Own(EVP_PKEY* p) {
  return std::shared_ptr<void>(p, [](void* q) { EVP_PKEY_free(static_cast<EVP_PKEY*>(q)); });
}
EVP_PKEY* Raw(const std::shared_ptr<void>& p) { return static_cast<EVP_PKEY*>(p.get()); }

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Result<KeyType> DetectType(EVP_PKEY* pkey) {
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_ED25519) return KeyType::kEd25519;
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
      return InvalidArgument("EC key without a named curve");
    std::string g(group);
    if (g == "secp256k1") return KeyType::kSecp256k1;
    if (g == "prime256v1" || g == "P-256") return KeyType::kP256;
    return InvalidArgument("unsupported EC curve " + g + " (expected secp256k1 or P-256)");
  }
  return InvalidArgument("unsupported key algorithm (expected Ed25519, secp256k1 or P-256)");
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEd25519: return "ed25519";
    case KeyType::kSecp256k1: return "secp256k1";
    case KeyType::kP256: return "p256";
  }
  return "unknown";
}

Result<KeyType> ParseKeyType(std::string_view name) {
  if (name == "ed25519") return KeyType::kEd25519;
  if (name == "secp256k1") return KeyType::kSecp256k1;
  if (name == "p256" || name == "P-256" || name == "prime256v1") return KeyType::kP256;
  return InvalidArgument("unknown key type '" + std::string(name) + "' (expected ed25519, secp256k1 or p256)");
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* p = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) return InvalidArgument("not a PEM public key: " + OpensslError());
  PublicKey k;
  k.pkey_ = Own(p);
  ASSIGN_OR_RETURN(k.type_, DetectType(p));
  return k;
}

Result<PublicKey> PublicKey::FromDer(std::string_view der) {
  const unsigned char* q = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* p = d2i_PUBKEY(nullptr, &q, static_cast<long>(der.size()));
  if (!p) return InvalidArgument("not a DER public key: " + OpensslError());
  PublicKey k;
  k.pkey_ = Own(p);
  ASSIGN_OR_RETURN(k.type_, DetectType(p));
  return k;
}

std::string PublicKey::Der() const {
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(Raw(pkey_), &buf);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string PublicKey::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, Raw(pkey_));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string PublicKey::FingerprintHex() const { return HashToHex(Sha256(Der())); }

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = type_ == KeyType::kEd25519 ? nullptr : EVP_sha256();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, Raw(pkey_)) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

Result<PrivateKey> PrivateKey::FromPem(const SecureBytes& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) return InvalidArgument("not a PEM private key (expected what `openssl genpkey` writes): " + OpensslError());
  PrivateKey k;
  k.pkey_ = Own(p);
  k.public_key_.pkey_ = k.pkey_;
  ASSIGN_OR_RETURN(k.public_key_.type_, DetectType(p));
  // Re-derive the public key as a standalone object so its DER is canonical.
  ASSIGN_OR_RETURN(k.public_key_, PublicKey::FromDer(k.public_key_.Der()));
  return k;
}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* p = nullptr;
  if (type == KeyType::kEd25519) {
    p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else {
    p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", type == KeyType::kP256 ? "P-256" : "secp256k1");
  }
  if (!p) return Internal("key generation failed: " + OpensslError());
  PrivateKey k;
  k.pkey_ = Own(p);
  k.public_key_.pkey_ = k.pkey_;
  k.public_key_.type_ = type;
  ASSIGN_OR_RETURN(k.public_key_, PublicKey::FromDer(k.public_key_.Der()));
  return k;
}

Result<std::string> PrivateKey::Sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = type() == KeyType::kEd25519 ? nullptr : EVP_sha256();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, Raw(pkey_)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("signing failed: " + OpensslError());
  return sig;
}

Result<SecureBytes> PrivateKey::ToPem() const {
  BIO* bio = BIO_new(BIO_s_secmem());
  if (!bio) bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PKCS8PrivateKey(bio, Raw(pkey_), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    return Internal("PEM encoding failed: " + OpensslError());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  SecureBytes out(std::string_view(data, static_cast<size_t>(len)));
  BIO_free(bio);  // secmem BIOs are cleansed on free
  return out;
}

Result<SecureBytes> PrivateKey::RawPrivate() const {
  if (type() == KeyType::kEd25519) {
    SecureBytes out(32);
    size_t len = 32;
    if (EVP_PKEY_get_raw_private_key(Raw(pkey_), reinterpret_cast<unsigned char*>(out.data()), &len) != 1)
      return Internal("cannot extract Ed25519 private key: " + OpensslError());
    return out;
  }
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(Raw(pkey_), OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1)
    return Internal("cannot extract EC private key: " + OpensslError());
  SecureBytes out(32);
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_clear_free(bn);
  return out;
}

}  // namespace ailee::crypto
