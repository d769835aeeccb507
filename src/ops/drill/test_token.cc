#include "ops/drill/test_token.h"

#include <algorithm>

#include "base/hint.h"
#include "base/scratch.h"

namespace ailee::ops {

Status CheckTestToken(const DrillTestToken& t) {
  if (t.module.empty() || t.token_label.empty())
    return WithHint(InvalidArgument("drill --keys --to-pkcs11: no test token (module and token label)"),
                    "give --pkcs11-module and --token-label, or set drill.test_token in the config");
  if (!t.production_token_label.empty() && t.token_label == t.production_token_label)
    return WithHint(InvalidArgument("drill --keys --to-pkcs11: token '" + t.token_label +
                                    "' is the production signer's token (signer.pkcs11.token_label); a drill never "
                                    "imports into it"),
                    "initialise a separate test token (softhsm2-util --init-token --free --label ailee-drill, or a "
                    "spare HSM slot) and name it with --token-label or drill.test_token.token_label");
  return Status::Ok();
}

Result<OpenedTestToken> OpenTestToken(const DrillTestToken& t, const std::string& label_prefix) {
  RETURN_IF_ERROR(CheckTestToken(t));
  if (t.pin == nullptr) return InvalidArgument("drill --keys --to-pkcs11: no PIN for the test token");
  OpenedTestToken out;
  auto token = keys::Pkcs11Token::Open(t.module, t.token_label, *t.pin);
  if (!token.ok()) return token.status().WithContext("opening the drill's test token");
  out.token = std::move(token).value();
  ASSIGN_OR_RETURN(std::vector<std::string> labels, out.token->KeyLabels());
  for (const auto& label : labels) {
    if (label.compare(0, label_prefix.size(), label_prefix) != 0) continue;
    int64_t pid = 0;
    uint64_t start = 0;
    if (!fs::ParseOwnerTag(std::string_view(label).substr(label_prefix.size()), &pid, &start) ||
        !fs::OwnerGone(pid, start))
      continue;
    auto gone = out.token->DestroyKeyObjects(keys::Pkcs11KeyRef{label, ""});
    if (!gone.ok()) return gone.status().WithContext("removing a killed drill's key objects from the test token");
    out.removed.push_back(label);
  }
  return out;
}

Status CheckLabelFree(keys::Pkcs11Token& token, const std::string& label) {
  ASSIGN_OR_RETURN(std::vector<std::string> labels, token.KeyLabels());
  if (std::find(labels.begin(), labels.end(), label) == labels.end()) return Status::Ok();
  return WithHint(AlreadyExists("the test token " + token.description() + " already holds a key object labelled '" +
                                label + "'; the drill adds and destroys only objects it made"),
                  "this label is not the drill's to remove: delete the object with pkcs11-tool if it is a "
                  "leftover, or use another test token");
}

Status ImportDrillKey(keys::Pkcs11Token& token, const crypto::PrivateKey& key, const std::string& label) {
  RETURN_IF_ERROR(CheckLabelFree(token, label));
  return token.ImportKeyPair(key, keys::Pkcs11KeyRef{label, ""}).status();
}

Status DestroyDrillKey(keys::Pkcs11Token& token, const std::string& label) {
  RETURN_IF_ERROR(token.DestroyKeyObjects(keys::Pkcs11KeyRef{label, ""}).status());
  ASSIGN_OR_RETURN(std::vector<std::string> labels, token.KeyLabels());
  if (std::find(labels.begin(), labels.end(), label) != labels.end())
    return Internal("key objects labelled '" + label + "' are still on " + token.description() + " after C_DestroyObject");
  return Status::Ok();
}

}  // namespace ailee::ops
