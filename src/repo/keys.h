// Key slots: keys/<id>, each the repository's master key wrapped under one
// passphrase. Plaintext JSON:
//   {"version":1, "created_ms":..., "host":"...", "user":"...",
//    "kdf":{"algorithm":"argon2id","ops_limit":N,"mem_limit":N,"salt":"<hex>"},
//    "master":"<hex of AES-256-GCM(KEK, data_key || id_key,
//                                  ad = "ailee-key-v1" || repo id hex)>"}
// KEK = Argon2id(passphrase, salt, ops_limit, mem_limit), 32 bytes. The slot
// id is SHA-256 of the slot's bytes. Binding the repository id as associated
// data means a slot copied from another repository does not open.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/kdf.h"
#include "repo/blob.h"

namespace ailee::repo {

struct KeyInfo {
  std::string id;  // 64 hex
  int64_t created_ms = 0;
  std::string host;
  std::string user;
  bool current = false;  // the slot this Repository was opened with
};

MasterKey NewMasterKey();
Result<std::string> SealKeySlot(const MasterKey& master, std::string_view passphrase,
                                const crypto::Argon2Params& params, const std::string& repo_id, int64_t now_ms);
// kPermissionDenied when the passphrase does not open the slot; kDataLoss
// when the slot is malformed.
Result<MasterKey> OpenKeySlot(std::string_view slot, std::string_view passphrase, const std::string& repo_id);
Result<KeyInfo> DescribeKeySlot(std::string_view slot);

std::string LocalHostname();
std::string LocalUsername();

}  // namespace ailee::repo
