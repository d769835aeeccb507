// What every key command (keys backup|verify|restore, test-signer) starts
// from: the federation's public keys, the node config when one loads, and an
// audit sink, since a key operation that cannot be audited does not run.
// Defined in cmd_keys.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cli/command.h"
#include "cli/session.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "keys/audit_sink.h"
#include "keys/identity.h"
#include "ops/federation/in_force.h"

namespace ailee::cli::keycmd {

struct KeyEnv {
  // The federation in force (always set by OpenKeyEnv): a signer's live key
  // (in_force->LiveKey) for test-signer and drills; every key it ever listed
  // (`federation`, KnownKeys) for the fingerprint checks of key backups.
  std::optional<ops::federation::FederationInForce> in_force;
  keys::FederationKeys federation;
  std::optional<config::NodeConfig> config;  // when one could be loaded
  std::unique_ptr<keys::KeyAuditSink> audit;
  int64_t start_nanos = 0;  // monotonic; when the command started (OpenKeyEnv)
};

// The federation in force (the session's config and what its data dir and
// nodes prove, with --federation-key overrides)
// and the session's audit log (--audit-log, else the config's
// logging.audit_log).
Result<KeyEnv> OpenKeyEnv(Session& session, const std::vector<std::string>& federation_overrides,
                          const std::string& audit_path_option);
// Records the outcome and the time since OpenKeyEnv as the duration; an ok
// operation that cannot be audited becomes a failure.
Status Audit(KeyEnv& env, std::string_view op, const std::string& id, const std::string& fp, const Status& st,
             const nlohmann::json& details);
// Audit as the audit record of a command's end (cli/ending.h AuditRecord).
std::function<Status(const Status&)> AuditRecordOf(KeyEnv& env, std::string_view op, const std::string& id,
                                                   const std::string& fp, const nlohmann::json& details);
// --federation-key and --audit-log.
void AddCommonOptions(CLI::App* c, std::vector<std::string>* fed, std::string* audit_log);
// The PKCS#11 user PIN: --pin-file, AILEE_PKCS11_PIN, or the terminal.
Result<crypto::SecureBytes> ReadPin(const std::string& pin_file);


// Where a backup's passphrase comes from (keys verify|restore, drill --keys).
struct PassphraseOpts {
  std::string passphrase_file;
  std::vector<std::string> shares;
};
// --passphrase-file and --shares.
void AddPassphraseOptions(CLI::App* c, PassphraseOpts* p);
// The passphrase of signer `id`'s backup at `backup` (file or directory):
// recombined from the shares (checked against the backup's metadata), else
// read from the file, AILEE_KEY_PASSPHRASE or the terminal.
Result<crypto::SecureBytes> BackupPassphrase(const PassphraseOpts& p, const std::string& id, const std::string& backup);
// A wrong passphrase recombined from shares: says a share is damaged.
Status SharesHint(const Status& st, const PassphraseOpts& p);

// The passphrase of a NEW backup (keys backup, keys generate): with shares
// and no explicit source, a random one that only the shares hold; else the
// file, AILEE_KEY_PASSPHRASE or a prompt asked twice. `details` (audit) says
// which.
Result<crypto::SecureBytes> NewBackupPassphrase(const std::string& passphrase_file, const std::string& id, bool shares,
                                                nlohmann::json& details);

// Where the node keeps the fence of the token key `key_label` on
// `token_label`: the config's signer.pkcs11.fence_file when the config's
// signer is that very key, else beside the config (keys::FencePathForPkcs11).
std::string Pkcs11FencePath(Session& s, const KeyEnv& env, const std::string& token_label, const std::string& key_label);

// `keys generate` and `keys retire` (cmd_keys_rotate.cc), under `keys`.
void SetUpGenerate(CLI::App* keys_cmd, Session& s);
void SetUpRetire(CLI::App* keys_cmd, Session& s);

}  // namespace ailee::cli::keycmd
