// The PKCS#11 test token of `drill --keys --to-pkcs11`: the restored signer
// key is imported into it as a non-extractable key pair, test-signer runs
// against the token, and the drill's objects are destroyed again.
//
// The drill never touches the production signer's token: a test token whose
// label is the config's signer.pkcs11.token_label is refused before anything
// is opened, and it adds objects under one fresh label only, refusing a
// token that already holds an object under it. The label is an owner-tagged
// scratch name (base/scratch.h, "ailee-key-drill-<pid>s<start>-<random>"),
// so a drill killed between import and destroy leaves objects that the next
// drill destroys once their owner process is gone, never a live drill's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/secure.h"
#include "keys/pkcs11.h"

namespace ailee::ops {

struct DrillTestToken {
  std::string module;                  // the PKCS#11 module (.so)
  std::string token_label;             // the test token
  const crypto::SecureBytes* pin = nullptr;
  std::string production_token_label;  // signer.pkcs11.token_label, refused; empty: the signer is a file
};

// InvalidArgument when the test token is the production signer's (by
// label) or names no module or label; touches nothing (the PIN is not
// needed yet).
Status CheckTestToken(const DrillTestToken& t);

// An open test token, with the leftovers of killed drills (objects labelled
// "<label_prefix><owner>-..." whose owner is gone) destroyed.
struct OpenedTestToken {
  std::unique_ptr<keys::Pkcs11Token> token;
  std::vector<std::string> removed;  // the labels of killed drills' objects destroyed
};
Result<OpenedTestToken> OpenTestToken(const DrillTestToken& t, const std::string& label_prefix);

// AlreadyExists when the token holds a key object labelled `label`: the
// drill adds and destroys only objects it made.
Status CheckLabelFree(keys::Pkcs11Token& token, const std::string& label);

// Imports `key` under `label` (no CKA_ID), refusing a label in use.
Status ImportDrillKey(keys::Pkcs11Token& token, const crypto::PrivateKey& key, const std::string& label);

// Destroys the objects under `label` and proves none is left.
Status DestroyDrillKey(keys::Pkcs11Token& token, const std::string& label);

}  // namespace ailee::ops
