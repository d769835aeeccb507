// Key slots: keys/<id>, each the repository's master key wrapped under one
// secret. Plaintext JSON:
//   {"version":1, "created_ms":..., "host":"...", "user":"...",
//    "kdf":{"algorithm":"argon2id","ops_limit":N,"mem_limit":N,"salt":"<hex>"}
//       or {"algorithm":"hkdf-sha256","salt":"<hex>"},
//    "master":"<hex of AES-256-GCM(KEK, data_key || id_key,
//                                  ad = "ailee-key-v1" || repo id hex)>"}
// Two kinds of secret:
//   - a passphrase: KEK = Argon2id(passphrase, salt, ops_limit, mem_limit);
//   - a key file (for unattended backups): 32 random bytes written as the one
//     line "ailee-repo-key-v1:<64 hex>", made by NewKeyFile. KEK =
//     HKDF-SHA-256(key, salt, info = "ailee-key-file-v1"). With 256 bits of
//     entropy there is nothing to guess, so the slot opens in microseconds
//     instead of paying Argon2id on every run. Only NewKeyFile's random keys
//     get such a slot, never a person's passphrase.
// The slot id is SHA-256 of the slot's bytes: a slot whose bytes do not hash
// to its name is damaged and is never tried (its KDF parameters are not
// trustworthy either). Binding the repository id as associated data means a
// slot copied from another repository does not open. "config_sha256" (hex)
// records the SHA-256 of the repository's config as it was when the slot was
// made, so that a damaged config is told apart from a wrong secret.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/kdf.h"
#include "repo/blob.h"

namespace ailee::repo {

enum class KeySlotKind { kPassphrase, kKeyFile };
std::string_view KeySlotKindName(KeySlotKind kind);  // "passphrase" | "key-file"

struct KeyInfo {
  std::string id;  // 64 hex
  int64_t created_ms = 0;
  std::string host;
  std::string user;
  KeySlotKind kind = KeySlotKind::kPassphrase;
  std::string config_sha256;  // hex SHA-256 of the config when the slot was made; empty in older slots
  bool current = false;  // the slot this Repository was opened with
  bool damaged = false;  // its content does not match its name (the SHA-256 of the slot)
};

// "damaged key slot <id> in <location>: ..." (the words verify, `repo key
// list` and Open use for a slot whose content does not match its name).
std::string DamagedKeySlotMessage(const std::string& id, const std::string& location);

MasterKey NewMasterKey();

// A fresh key file's content: "ailee-repo-key-v1:<64 hex>" (no newline).
crypto::SecureBytes NewKeyFile();
// True when `secret` has the key file form (a file read with its trailing
// newline stripped, as the CLI reads secrets).
bool IsKeyFile(std::string_view secret);

Result<std::string> SealKeySlot(const MasterKey& master, std::string_view passphrase,
                                const crypto::Argon2Params& params, const std::string& repo_id, int64_t now_ms,
                                const std::string& config_sha256);
// kInvalidArgument unless `key_file` is a key file (IsKeyFile).
Result<std::string> SealKeyFileSlot(const MasterKey& master, std::string_view key_file, const std::string& repo_id,
                                    int64_t now_ms, const std::string& config_sha256);
// kPermissionDenied when the secret does not open the slot (a passphrase
// never opens a key-file slot, and costs nothing to reject there); kDataLoss
// when the slot is malformed or uses a KDF this build does not know.
Result<MasterKey> OpenKeySlot(std::string_view slot, std::string_view secret, const std::string& repo_id);
Result<KeyInfo> DescribeKeySlot(std::string_view slot);

std::string LocalHostname();
std::string LocalUsername();

}  // namespace ailee::repo
