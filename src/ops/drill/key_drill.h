// `ailee-cli drill --keys`: rehearses the recovery of a signer key from its
// backup without touching the production key, and measures it.
//
//  1. open: the backup is decrypted in memory and its integrity checked
//     (metadata, ciphertext hash, passphrase, key, fingerprint as recorded);
//  2. restore: the key is written (0400) into a fresh scratch directory
//     (0700, owner-tagged: base/scratch.h) and its public key compared with
//     the federation's key for the signer;
//  3. test-signer: the restored file signs a fresh challenge that the
//     federation key verifies (keys::TestSigner, as `ailee-cli test-signer`);
//  4. shred: the key file is overwritten, synced and unlinked, the scratch
//     directory removed.
// With a test token (ops/drill/test_token.h, `--to-pkcs11`) the restored
// file is imported into the token (phase import) under the scratch
// directory's name as label, test-signer signs through the token, and the
// imported objects are destroyed (phase destroy) before the shred. The
// production signer's token and a label already in use are refused before
// anything is opened or written; a killed drill's objects go with the next.
// The scratch directory is removed on every way out; a killed drill's is
// removed (its key file shredded) by the next one.
//
// A failed check is a report with ok false naming the check, not an error:
// an error Status means the drill could not run at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "crypto/secure.h"
#include "keys/identity.h"
#include "ops/drill/drill.h"
#include "ops/drill/steps.h"
#include "ops/drill/test_token.h"

namespace ailee::ops {

inline constexpr const char* kKeyDrillScratchPrefix = "ailee-key-drill-";

struct KeyDrillOptions {
  std::string signer_id;
  std::string backup;                 // local backup file or directory
  const crypto::SecureBytes* passphrase = nullptr;
  const keys::FederationKeys* federation = nullptr;
  std::string scratch_parent;         // the scratch directory is made in it
  std::optional<DrillTestToken> token;  // import into this PKCS#11 test token
  DrillHooks hooks;
};

// Phases open, restore, test-signer, shred; checks backup-opens,
// federation-fingerprint, restore, test-signer, shred (or cancelled). With a
// token: phases open, restore, import, test-signer, destroy, shred, and the
// checks import and destroy.
struct KeyDrillReport : DrillOutcome {
  std::string signer_id;
  std::string fingerprint;            // of the restored key (once it opened)
  int64_t rto_ms = 0;                 // open + restore (+ import) + test-signer: until the key was proven to sign
  std::string scratch;                // removed
  std::string token;                  // the test token's description, empty without one
  std::string token_object;           // the label the key was imported under (destroyed)
  std::vector<std::string> leftovers_removed;  // killed drills' objects destroyed first
};

Result<KeyDrillReport> RunKeyDrill(const KeyDrillOptions& options);

// `drill --keys --json`: phases, checks, RTO.
nlohmann::ordered_json KeyDrillReportJson(const KeyDrillReport& r);

}  // namespace ailee::ops
