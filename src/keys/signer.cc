#include "keys/signer.h"

#include "base/hex.h"
#include "crypto/random.h"
#include "keys/secret_input.h"

namespace ailee::keys {

Result<std::unique_ptr<FileSigner>> FileSigner::Open(const std::string& path) {
  auto pem = ReadSecretFile(path);
  if (!pem.ok()) return pem.status().WithContext("reading signer key");
  auto key = crypto::PrivateKey::FromPem(*pem);
  if (!key.ok()) return key.status().WithContext("signer key " + path);
  return std::unique_ptr<FileSigner>(new FileSigner(path, std::move(key).value()));
}

Result<std::string> FileSigner::Sign(std::string_view message) { return key_.Sign(message); }

Result<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::Open(const Pkcs11SignerOptions& options,
                                                         const crypto::SecureBytes& pin) {
  if (options.key.label.empty()) return InvalidArgument("a PKCS#11 key label is required");
  ASSIGN_OR_RETURN(auto token, Pkcs11Token::Open(options.module_path, options.token_label, pin));
  ASSIGN_OR_RETURN(crypto::PublicKey pub, token->PublicKey(options.key));
  return std::unique_ptr<Pkcs11Signer>(new Pkcs11Signer(options, std::move(token), std::move(pub)));
}

Result<std::string> Pkcs11Signer::Sign(std::string_view message) {
  return token_->Sign(options_.key, public_key_.type(), message);
}

std::string Pkcs11Signer::Describe() const {
  return token_->description() + ";object=" + options_.key.label +
         (options_.key.id.empty() ? "" : ";id=" + HexEncode(options_.key.id));
}

Result<SignerTestReport> TestSigner(Signer& signer, const crypto::PublicKey& federation_key) {
  SignerTestReport r;
  r.signer = signer.Describe();
  r.fingerprint = signer.public_key().FingerprintHex();
  if (r.fingerprint != federation_key.FingerprintHex())
    return DataLoss("signer " + r.signer + " holds key " + r.fingerprint + ", but the federation key is " +
                    federation_key.FingerprintHex());
  std::string challenge = "ailee-test-signer:" + crypto::RandomBytes(32);
  ASSIGN_OR_RETURN(std::string sig, signer.Sign(challenge));
  if (!federation_key.Verify(challenge, sig))
    return DataLoss("signer " + r.signer + " produced a signature the federation key does not verify");
  r.challenge_hex = HexEncode(challenge);
  r.signature_hex = HexEncode(sig);
  return r;
}

}  // namespace ailee::keys
