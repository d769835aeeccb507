#include "state_tamper.h"

#include "state/internal/rocks.h"
#include "state/records.h"
#include "state/transaction.h"

namespace ailee::state::tamper {

using internal::FromRocks;
using internal::RocksDb;

namespace {
Result<rocksdb::ColumnFamilyHandle*> Cf(const RocksDb& db, std::string_view cf) {
  rocksdb::ColumnFamilyHandle* h = db.cf(cf);
  if (h == nullptr) return InvalidArgument("no column family \"" + std::string(cf) + "\"");
  return h;
}
}  // namespace

Status OverwriteRawValue(const std::string& dir, std::string_view cf, std::string_view key, std::string_view value) {
  ASSIGN_OR_RETURN(auto db, RocksDb::Open(dir, /*read_only=*/false, /*create_if_missing=*/false));
  ASSIGN_OR_RETURN(auto* h, Cf(*db, cf));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db->db()->Put(wo, h, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())),
                   "tamper: overwriting value");
}

Status DeleteRawValue(const std::string& dir, std::string_view cf, std::string_view key) {
  ASSIGN_OR_RETURN(auto db, RocksDb::Open(dir, /*read_only=*/false, /*create_if_missing=*/false));
  ASSIGN_OR_RETURN(auto* h, Cf(*db, cf));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db->db()->Delete(wo, h, rocksdb::Slice(key.data(), key.size())), "tamper: deleting value");
}

Status DropColumnFamily(const std::string& dir, std::string_view cf) {
  ASSIGN_OR_RETURN(auto db, RocksDb::Open(dir, /*read_only=*/false, /*create_if_missing=*/false));
  ASSIGN_OR_RETURN(auto* h, Cf(*db, cf));
  return FromRocks(db->db()->DropColumnFamily(h), "tamper: dropping column family");
}

Status SetAccountBalance(const std::string& dir, const std::string& account_id_hex, uint64_t balance) {
  ASSIGN_OR_RETURN(std::string key, ParseAccountId(account_id_hex));
  Account account;
  {
    ASSIGN_OR_RETURN(auto db, RocksDb::Open(dir, /*read_only=*/false, /*create_if_missing=*/false));
    ASSIGN_OR_RETURN(auto raw, db->Get(kCfAccounts, key));
    if (!raw) return NotFound("tamper: account " + account_id_hex + " not found");
    ASSIGN_OR_RETURN(account, DecodeAccount(*raw));
  }
  account.balance = balance;
  return OverwriteRawValue(dir, kCfAccounts, key, EncodeAccount(account));
}

}  // namespace ailee::state::tamper
