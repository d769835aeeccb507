// Private to state/: the only header that includes RocksDB. Included by
// state_db.cc, verify.cc and tamper.cc; never by a public header.
//
// Owns the RocksDB handle and its column families, the option choices, the
// meta record layouts and the from-scratch state-root scan shared by StateDb
// and VerifyState.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/state_root.h"

namespace ailee::state::internal {

inline constexpr uint32_t kFormatVersion = 1;
// Meta keys (meta is not part of the state root: it is derived bookkeeping).
inline constexpr std::string_view kMetaFormat = "format_version";  // u32
inline constexpr std::string_view kMetaTip = "tip";                // TipRecord
inline constexpr std::string_view kMetaAccumulator = "accumulator";  // LtHash::kBytes
inline constexpr std::string_view kMetaTxCount = "tx_count";       // u64
inline constexpr std::string_view kMetaLastAnchor = "last_anchor";  // u64 height

struct TipRecord {
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  int64_t timestamp_ms = 0;
};
std::string EncodeTip(const TipRecord& t);
Result<TipRecord> DecodeTip(std::string_view bytes);

Status FromRocks(const rocksdb::Status& s, std::string_view context);

class RocksDb {
 public:
  // Read-write: creates missing column families (and the DB when
  // create_if_missing: whole or not at all, see CreateWhole). Read-only:
  // OpenForReadOnly, which takes no lock and so works on a checkpoint or on
  // a stopped node's directory. `compact` false: automatic compactions are
  // off for this instance (see OpenOptions::compact).
  static Result<std::unique_ptr<RocksDb>> Open(const std::string& dir, bool read_only, bool create_if_missing,
                                               bool compact = true);
  ~RocksDb();
  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const;
  // Every column family this instance opened.
  std::vector<rocksdb::ColumnFamilyHandle*> column_families() const;
  bool read_only() const { return read_only_; }
  const std::string& dir() const { return dir_; }

  // nullopt when absent; kDataLoss/kInternal on a read error.
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key,
                                         const rocksdb::Snapshot* snap = nullptr) const;
  Result<TipRecord> ReadTip(const rocksdb::Snapshot* snap = nullptr) const;
  Result<LtHash> ReadAccumulator(const rocksdb::Snapshot* snap = nullptr) const;
  Result<uint64_t> ReadCounter(std::string_view key, const rocksdb::Snapshot* snap = nullptr) const;

 private:
  static Result<std::unique_ptr<RocksDb>> OpenHere(const std::string& dir, bool read_only, bool create_if_missing,
                                                   bool compact = true);
  static Status CreateWhole(const std::string& dir);

  RocksDb() = default;
  std::string dir_;
  bool read_only_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> cfs_;
};

// The accumulator over every state entry, streamed once. Splits each state
// CF into two key ranges and runs them on `threads` threads.
// `on_entries(n)` is called now and then with the number of entries done.
struct ScanResult {
  LtHash accumulator;
  uint64_t entries = 0;
};
Result<ScanResult> ScanStateAccumulator(const RocksDb& db, const rocksdb::Snapshot* snap, int threads,
                                        const std::function<void(uint64_t)>& on_entries = {});

}  // namespace ailee::state::internal
