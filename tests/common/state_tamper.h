// TEST TOOL (library ailee_test_state_tamper, tests/common): not part of the
// node, ailee-cli or any production library.
//
// Changes a stopped node's state "behind its back": overwrites a raw stored
// value without updating the accumulator, the write set or the tip, exactly
// what disk corruption or a manual edit would do. Tests use it to prove that
// VerifyState detects and names the damage.
//
// Opens `dir` read-write, so it fails with kUnavailable while a node runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::state::tamper {

// Overwrites (cf, key) with `value`, raw bytes, one synced write.
Status OverwriteRawValue(const std::string& dir, std::string_view cf, std::string_view key, std::string_view value);
// Sets one account's balance, keeping its nonce and last_height. kNotFound if
// the account does not exist.
Status SetAccountBalance(const std::string& dir, const std::string& account_id_hex, uint64_t balance);
// Deletes a raw key.
Status DeleteRawValue(const std::string& dir, std::string_view cf, std::string_view key);
// Drops a whole column family: with "control" and "local", turns a database
// into one made before they existed.
Status DropColumnFamily(const std::string& dir, std::string_view cf);

}  // namespace ailee::state::tamper
