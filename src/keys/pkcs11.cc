#include "keys/pkcs11.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "keys/der.h"

namespace ailee::keys {
namespace {

std::string RvName(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_TEMPLATE_INCOMPLETE: return "CKR_TEMPLATE_INCOMPLETE";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_CURVE_NOT_SUPPORTED: return "CKR_CURVE_NOT_SUPPORTED";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", rv);
      return buf;
    }
  }
}

Status RvStatus(const std::string& what, CK_RV rv) {
  std::string m = what + " failed: " + RvName(rv);
  switch (rv) {
    case CKR_PIN_INCORRECT: case CKR_PIN_INVALID: case CKR_PIN_LEN_RANGE:
      return PermissionDenied(m + " (wrong PIN)");
    case CKR_PIN_LOCKED: return PermissionDenied(m + " (PIN locked: unlock it with the SO PIN)");
    case CKR_DEVICE_MEMORY: case CKR_HOST_MEMORY: return ResourceExhausted(m + " (the token is full)");
    case CKR_TOKEN_NOT_PRESENT: case CKR_DEVICE_REMOVED: return NotFound(m + " (token not present)");
    case CKR_ATTRIBUTE_VALUE_INVALID: case CKR_TEMPLATE_INCONSISTENT: case CKR_CURVE_NOT_SUPPORTED:
    case CKR_MECHANISM_INVALID:
      return FailedPrecondition(m + " (the token does not support this key type)");
    default: return Internal(m);
  }
}

// Loaded modules, initialised once and finalised when the last user closes.
struct Module {
  void* handle = nullptr;
  CK_FUNCTION_LIST* fn = nullptr;
  int users = 0;
  bool we_initialised = false;
};
std::mutex g_modules_mu;
std::map<std::string, Module>& Modules() {
  static auto* m = new std::map<std::string, Module>();
  return *m;
}

Result<CK_FUNCTION_LIST*> AcquireModule(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_modules_mu);
  Module& m = Modules()[path];
  if (!m.handle) {
    // Modules are never dlclose'd: unloading OpenSSL-based modules at runtime is unsafe.
    m.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!m.handle) {
      const char* e = ::dlerror();
      Modules().erase(path);
      return NotFound("cannot load PKCS#11 module " + path + ": " + (e ? e : "dlopen failed"));
    }
    auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(m.handle, "C_GetFunctionList"));
    if (!get || get(&m.fn) != CKR_OK || !m.fn) {
      m.fn = nullptr;
      return InvalidArgument(path + " is not a PKCS#11 module (no C_GetFunctionList)");
    }
  }
  if (!m.fn) return InvalidArgument(path + " is not a PKCS#11 module");
  if (m.users == 0) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = m.fn->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return RvStatus("C_Initialize(" + path + ")", rv);
    m.we_initialised = rv == CKR_OK;
  }
  ++m.users;
  return m.fn;
}

void ReleaseModule(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_modules_mu);
  Module& m = Modules()[path];
  if (--m.users == 0 && m.we_initialised) {
    m.fn->C_Finalize(nullptr);
    m.we_initialised = false;
  }
}

std::string TrimLabel(const unsigned char* label, size_t n) {
  std::string s(reinterpret_cast<const char*>(label), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  CK_ATTRIBUTE a{};
  a.type = type;
  a.pValue = const_cast<void*>(value);
  a.ulValueLen = len;
  return a;
}

}  // namespace

struct Pkcs11Token::Impl {
  std::string module_path;
  CK_FUNCTION_LIST* fn = nullptr;
  CK_SESSION_HANDLE session = 0;
  bool logged_in = false;

  ~Impl() {
    if (!fn) return;
    if (logged_in) fn->C_Logout(session);
    if (session) fn->C_CloseSession(session);
    ReleaseModule(module_path);
  }

  Result<std::vector<CK_OBJECT_HANDLE>> Find(CK_OBJECT_CLASS cls, const std::string* label, const std::string* id) {
    std::vector<CK_ATTRIBUTE> tmpl{Attr(CKA_CLASS, &cls, sizeof cls)};
    if (label) tmpl.push_back(Attr(CKA_LABEL, label->data(), label->size()));
    if (id) tmpl.push_back(Attr(CKA_ID, id->data(), id->size()));
    CK_RV rv = fn->C_FindObjectsInit(session, tmpl.data(), tmpl.size());
    if (rv != CKR_OK) return RvStatus("C_FindObjectsInit", rv);
    std::vector<CK_OBJECT_HANDLE> out;
    for (;;) {
      CK_OBJECT_HANDLE h[16];
      CK_ULONG n = 0;
      rv = fn->C_FindObjects(session, h, 16, &n);
      if (rv != CKR_OK || n == 0) break;
      out.insert(out.end(), h, h + n);
    }
    fn->C_FindObjectsFinal(session);
    if (rv != CKR_OK) return RvStatus("C_FindObjects", rv);
    return out;
  }

  // Objects of `cls` matching the label, the id, or both (for conflict checks).
  Result<std::vector<CK_OBJECT_HANDLE>> FindAny(CK_OBJECT_CLASS cls, const Pkcs11KeyRef& ref) {
    ASSIGN_OR_RETURN(auto by_label, Find(cls, &ref.label, nullptr));
    if (!ref.id.empty()) {
      ASSIGN_OR_RETURN(auto by_id, Find(cls, nullptr, &ref.id));
      for (auto h : by_id)
        if (std::find(by_label.begin(), by_label.end(), h) == by_label.end()) by_label.push_back(h);
    }
    return by_label;
  }

  Result<std::vector<CK_OBJECT_HANDLE>> FindExact(CK_OBJECT_CLASS cls, const Pkcs11KeyRef& ref) {
    return Find(cls, &ref.label, ref.id.empty() ? nullptr : &ref.id);
  }

  Result<std::string> GetAttr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
    CK_ATTRIBUTE a = Attr(type, nullptr, 0);
    CK_RV rv = fn->C_GetAttributeValue(session, h, &a, 1);
    if (rv != CKR_OK) return RvStatus("C_GetAttributeValue", rv);
    std::string v(a.ulValueLen, '\0');
    a.pValue = v.data();
    rv = fn->C_GetAttributeValue(session, h, &a, 1);
    if (rv != CKR_OK) return RvStatus("C_GetAttributeValue", rv);
    v.resize(a.ulValueLen);
    return v;
  }

  Result<crypto::PublicKey> PublicKeyOf(CK_OBJECT_HANDLE h) {
    ASSIGN_OR_RETURN(std::string params, GetAttr(h, CKA_EC_PARAMS));
    ASSIGN_OR_RETURN(crypto::KeyType type, der::KeyTypeFromEcParams(params));
    ASSIGN_OR_RETURN(std::string point, GetAttr(h, CKA_EC_POINT));
    ASSIGN_OR_RETURN(std::string raw, der::RawPublicFromEcPoint(type, point));
    return crypto::PublicKey::FromDer(der::SpkiFromRawPublic(type, raw));
  }

  Result<std::string> SignWith(CK_OBJECT_HANDLE key, crypto::KeyType type, std::string_view message) {
    CK_MECHANISM mech{};
    std::string input;
    if (type == crypto::KeyType::kEd25519) {
      mech.mechanism = CKM_EDDSA;
      input = std::string(message);
    } else {
      mech.mechanism = CKM_ECDSA;
      input = crypto::HashToString(crypto::Sha256(message));
    }
    CK_RV rv = fn->C_SignInit(session, &mech, key);
    if (rv != CKR_OK) return RvStatus("C_SignInit", rv);
    unsigned char sig[256];
    CK_ULONG len = sizeof sig;
    rv = fn->C_Sign(session, reinterpret_cast<unsigned char*>(input.data()), input.size(), sig, &len);
    if (rv != CKR_OK) return RvStatus("C_Sign", rv);
    std::string raw(reinterpret_cast<char*>(sig), len);
    if (type == crypto::KeyType::kEd25519) return raw;
    return der::EcdsaRawToDer(raw);
  }
};

Pkcs11Token::Pkcs11Token(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::string Pkcs11Token::Where(const Pkcs11KeyRef& ref) const {
  return "label '" + ref.label + "'" + (ref.id.empty() ? "" : " / id " + HexEncode(ref.id)) + " on " + description_;
}
Pkcs11Token::~Pkcs11Token() = default;

Result<std::unique_ptr<Pkcs11Token>> Pkcs11Token::Open(const std::string& module_path, const std::string& token_label,
                                                       const crypto::SecureBytes& pin) {
  if (token_label.empty()) return InvalidArgument("no PKCS#11 token label given");
  ASSIGN_OR_RETURN(CK_FUNCTION_LIST* fn, AcquireModule(module_path));
  auto impl = std::make_unique<Impl>();
  impl->module_path = module_path;
  impl->fn = fn;
  CK_ULONG count = 0;
  CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return RvStatus("C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return RvStatus("C_GetSlotList", rv);
  slots.resize(count);
  std::string seen;
  std::optional<CK_SLOT_ID> slot;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(s, &info) != CKR_OK || !(info.flags & CKF_TOKEN_INITIALIZED)) continue;
    std::string label = TrimLabel(info.label, sizeof info.label);
    seen += (seen.empty() ? "" : ", ") + ("'" + label + "'");
    if (label == token_label && !slot) slot = s;
  }
  if (!slot)
    return NotFound("no initialised PKCS#11 token labelled '" + token_label + "' in " + module_path +
                    " (tokens present: " + (seen.empty() ? "none" : seen) + ")");
  rv = fn->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &impl->session);
  if (rv != CKR_OK) return RvStatus("C_OpenSession on token '" + token_label + "'", rv);
  rv = fn->C_Login(impl->session, CKU_USER, reinterpret_cast<unsigned char*>(const_cast<char*>(pin.data())), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return RvStatus("C_Login on token '" + token_label + "'", rv);
  impl->logged_in = rv == CKR_OK;
  std::unique_ptr<Pkcs11Token> token(new Pkcs11Token(std::move(impl)));
  token->description_ = "pkcs11:" + module_path + "#token=" + token_label;
  return token;
}

Result<crypto::PublicKey> Pkcs11Token::PublicKey(const Pkcs11KeyRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, impl_->FindExact(CKO_PUBLIC_KEY, ref));
  if (found.empty())
    return NotFound("no public key object labelled '" + ref.label + "'" +
                    (ref.id.empty() ? "" : " with id " + HexEncode(ref.id)) + " on " + description_);
  if (found.size() > 1) return FailedPrecondition("several public key objects labelled '" + ref.label + "' on " + description_);
  return impl_->PublicKeyOf(found.front());
}

Result<std::string> Pkcs11Token::Sign(const Pkcs11KeyRef& ref, crypto::KeyType type, std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, impl_->FindExact(CKO_PRIVATE_KEY, ref));
  if (found.empty())
    return NotFound("no private key object labelled '" + ref.label + "'" +
                    (ref.id.empty() ? "" : " with id " + HexEncode(ref.id)) + " on " + description_);
  if (found.size() > 1) return FailedPrecondition("several private key objects labelled '" + ref.label + "' on " + description_);
  return impl_->SignWith(found.front(), type, message);
}

Result<ImportOutcome> Pkcs11Token::ImportKeyPair(const crypto::PrivateKey& key, const Pkcs11KeyRef& ref) {
  if (ref.label.empty()) return InvalidArgument("a PKCS#11 key label is required");
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto privs, impl_->FindAny(CKO_PRIVATE_KEY, ref));
  ASSIGN_OR_RETURN(auto pubs, impl_->FindAny(CKO_PUBLIC_KEY, ref));
  const std::string where = Where(ref);
  if (!privs.empty() || !pubs.empty()) {
    // Something is there. It is ours only if one private key signs a fresh
    // challenge that our public key verifies, and every public key matches.
    bool same = privs.size() == 1;
    if (same) {
      std::string challenge = crypto::RandomBytes(32);
      auto sig = impl_->SignWith(privs.front(), key.type(), challenge);
      same = sig.ok() && key.public_key().Verify(challenge, *sig);
    }
    for (auto h : pubs) {
      auto pub = impl_->PublicKeyOf(h);
      same = same && pub.ok() && pub->FingerprintHex() == key.public_key().FingerprintHex();
    }
    if (!same)
      return AlreadyExists("the token already holds a different (or unverifiable) key under " + where +
                           "; refusing to add or replace it");
    if (!pubs.empty()) return ImportOutcome::kAlreadyPresent;
  }

  crypto::KeyType type = key.type();
  CK_KEY_TYPE ktype = type == crypto::KeyType::kEd25519 ? CKK_EC_EDWARDS : CKK_EC;
  std::string params = der::EcParams(type);
  ASSIGN_OR_RETURN(std::string raw_pub, der::RawPublicFromSpki(type, key.public_key().Der()));
  std::string point = der::OctetString(raw_pub);
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY, pub_cls = CKO_PUBLIC_KEY;

  CK_OBJECT_HANDLE priv_handle = CK_INVALID_HANDLE;
  bool need_private = true;
  {
    auto existing = impl_->FindExact(CKO_PRIVATE_KEY, ref);
    if (existing.ok() && existing->size() == 1) need_private = false;  // proven above
  }
  if (need_private) {
    ASSIGN_OR_RETURN(crypto::SecureBytes value, key.RawPrivate());
    std::vector<CK_ATTRIBUTE> t{
        Attr(CKA_CLASS, &priv_cls, sizeof priv_cls), Attr(CKA_KEY_TYPE, &ktype, sizeof ktype),
        Attr(CKA_TOKEN, &yes, sizeof yes),           Attr(CKA_PRIVATE, &yes, sizeof yes),
        Attr(CKA_SENSITIVE, &yes, sizeof yes),       Attr(CKA_EXTRACTABLE, &no, sizeof no),
        Attr(CKA_SIGN, &yes, sizeof yes),            Attr(CKA_DERIVE, &no, sizeof no),
        Attr(CKA_DECRYPT, &no, sizeof no),           Attr(CKA_UNWRAP, &no, sizeof no),
        Attr(CKA_LABEL, ref.label.data(), ref.label.size()),
        Attr(CKA_EC_PARAMS, params.data(), params.size()),
        Attr(CKA_VALUE, value.data(), value.size()),
    };
    if (!ref.id.empty()) t.push_back(Attr(CKA_ID, ref.id.data(), ref.id.size()));
    CK_RV rv = impl_->fn->C_CreateObject(impl_->session, t.data(), t.size(), &priv_handle);
    if (rv != CKR_OK) return RvStatus("importing the private key under " + where, rv);
  }
  std::vector<CK_ATTRIBUTE> t{
      Attr(CKA_CLASS, &pub_cls, sizeof pub_cls), Attr(CKA_KEY_TYPE, &ktype, sizeof ktype),
      Attr(CKA_TOKEN, &yes, sizeof yes),         Attr(CKA_PRIVATE, &no, sizeof no),
      Attr(CKA_VERIFY, &yes, sizeof yes),        Attr(CKA_ENCRYPT, &no, sizeof no),
      Attr(CKA_WRAP, &no, sizeof no),            Attr(CKA_LABEL, ref.label.data(), ref.label.size()),
      Attr(CKA_EC_PARAMS, params.data(), params.size()), Attr(CKA_EC_POINT, point.data(), point.size()),
  };
  if (!ref.id.empty()) t.push_back(Attr(CKA_ID, ref.id.data(), ref.id.size()));
  CK_OBJECT_HANDLE pub_handle = CK_INVALID_HANDLE;
  CK_RV rv = impl_->fn->C_CreateObject(impl_->session, t.data(), t.size(), &pub_handle);
  if (rv != CKR_OK) {
    if (priv_handle != CK_INVALID_HANDLE) impl_->fn->C_DestroyObject(impl_->session, priv_handle);
    return RvStatus("importing the public key under " + where, rv);
  }
  // Prove the imported pair works before reporting success.
  std::string challenge = crypto::RandomBytes(32);
  ASSIGN_OR_RETURN(auto handles, impl_->FindExact(CKO_PRIVATE_KEY, ref));
  auto sig = handles.size() == 1 ? impl_->SignWith(handles.front(), type, challenge) : Result<std::string>(Internal("lookup"));
  if (!sig.ok() || !key.public_key().Verify(challenge, *sig)) {
    if (priv_handle != CK_INVALID_HANDLE) impl_->fn->C_DestroyObject(impl_->session, priv_handle);
    impl_->fn->C_DestroyObject(impl_->session, pub_handle);
    return Internal("the key imported under " + where + " does not produce valid signatures (" +
                    (sig.ok() ? std::string("verification failed") : sig.status().message()) + "); removed it again");
  }
  return need_private ? ImportOutcome::kImported : ImportOutcome::kAlreadyPresent;
}

Result<std::vector<std::string>> Pkcs11Token::KeyLabels() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> labels;
  for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    ASSIGN_OR_RETURN(auto found, impl_->Find(cls, nullptr, nullptr));
    for (CK_OBJECT_HANDLE h : found) {
      ASSIGN_OR_RETURN(std::string label, impl_->GetAttr(h, CKA_LABEL));
      labels.push_back(std::move(label));
    }
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

Result<size_t> Pkcs11Token::DestroyKeyObjects(const Pkcs11KeyRef& ref) {
  if (ref.label.empty()) return InvalidArgument("a PKCS#11 key label is required");
  std::lock_guard<std::mutex> lock(mu_);
  size_t destroyed = 0;
  for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    ASSIGN_OR_RETURN(auto found, impl_->FindExact(cls, ref));
    for (CK_OBJECT_HANDLE h : found) {
      CK_RV rv = impl_->fn->C_DestroyObject(impl_->session, h);
      if (rv != CKR_OK) return RvStatus("destroying the key objects under " + Where(ref), rv);
      ++destroyed;
    }
  }
  return destroyed;
}

Result<crypto::PublicKey> Pkcs11Token::GenerateKeyPair(crypto::KeyType type, const Pkcs11KeyRef& ref) {
  if (ref.label.empty()) return InvalidArgument("a PKCS#11 key label is required");
  std::lock_guard<std::mutex> lock(mu_);
  const std::string where = Where(ref);
  for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    ASSIGN_OR_RETURN(auto found, impl_->FindAny(cls, ref));
    if (!found.empty())
      return AlreadyExists("the token already holds a key under " + where +
                           "; refusing to generate another one there (choose another --key-label, or retire the "
                           "old key first: `ailee-cli keys retire`)");
  }
  CK_MECHANISM mech{};
  mech.mechanism = type == crypto::KeyType::kEd25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
  std::string params = der::EcParams(type);
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::vector<CK_ATTRIBUTE> pub_t{
      Attr(CKA_TOKEN, &yes, sizeof yes),  Attr(CKA_PRIVATE, &no, sizeof no), Attr(CKA_VERIFY, &yes, sizeof yes),
      Attr(CKA_ENCRYPT, &no, sizeof no),  Attr(CKA_WRAP, &no, sizeof no),
      Attr(CKA_LABEL, ref.label.data(), ref.label.size()), Attr(CKA_EC_PARAMS, params.data(), params.size()),
  };
  std::vector<CK_ATTRIBUTE> priv_t{
      Attr(CKA_TOKEN, &yes, sizeof yes),     Attr(CKA_PRIVATE, &yes, sizeof yes),
      Attr(CKA_SENSITIVE, &yes, sizeof yes), Attr(CKA_EXTRACTABLE, &no, sizeof no),
      Attr(CKA_SIGN, &yes, sizeof yes),      Attr(CKA_DERIVE, &no, sizeof no),
      Attr(CKA_DECRYPT, &no, sizeof no),     Attr(CKA_UNWRAP, &no, sizeof no),
      Attr(CKA_LABEL, ref.label.data(), ref.label.size()),
  };
  if (!ref.id.empty()) {
    pub_t.push_back(Attr(CKA_ID, ref.id.data(), ref.id.size()));
    priv_t.push_back(Attr(CKA_ID, ref.id.data(), ref.id.size()));
  }
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  CK_RV rv;
  {
#if defined(__SANITIZE_ADDRESS__)
    // SoftHSM keeps an OpenSSL object for each key pair it generates (its
    // leak, not ours); LeakSanitizer's stacks end inside libcrypto, so
    // tests/lsan.supp's libsofthsm2.so entry cannot match it.
    __lsan::ScopedDisabler module_keeps_key_objects;
#endif
    rv = impl_->fn->C_GenerateKeyPair(impl_->session, &mech, pub_t.data(), pub_t.size(), priv_t.data(),
                                          priv_t.size(), &pub, &priv);
  }
  if (rv != CKR_OK) return RvStatus("generating a " + std::string(crypto::KeyTypeName(type)) + " key pair under " + where, rv);
  auto destroy = [&] {
    impl_->fn->C_DestroyObject(impl_->session, priv);
    impl_->fn->C_DestroyObject(impl_->session, pub);
  };
  auto key = impl_->PublicKeyOf(pub);
  std::string challenge = crypto::RandomBytes(32);
  auto sig = key.ok() ? impl_->SignWith(priv, type, challenge) : Result<std::string>(key.status());
  if (!sig.ok() || !key->Verify(challenge, *sig)) {
    destroy();
    return Internal("the key pair generated under " + where + " does not produce valid signatures (" +
                    (sig.ok() ? std::string("verification failed") : sig.status().message()) + "); removed it again");
  }
  return std::move(key).value();
}

Result<Pkcs11KeyFlags> Pkcs11Token::PrivateKeyFlags(const Pkcs11KeyRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, impl_->FindExact(CKO_PRIVATE_KEY, ref));
  if (found.size() != 1) return NotFound("no single private key object under " + Where(ref));
  auto flag = [&](CK_ATTRIBUTE_TYPE t) -> Result<bool> {
    ASSIGN_OR_RETURN(std::string v, impl_->GetAttr(found.front(), t));
    return v.size() == 1 && v[0] != 0;
  };
  Pkcs11KeyFlags f;
  ASSIGN_OR_RETURN(f.sensitive, flag(CKA_SENSITIVE));
  ASSIGN_OR_RETURN(f.extractable, flag(CKA_EXTRACTABLE));
  ASSIGN_OR_RETURN(f.never_extractable, flag(CKA_NEVER_EXTRACTABLE));
  ASSIGN_OR_RETURN(f.local, flag(CKA_LOCAL));
  return f;
}

}  // namespace ailee::keys
