// bench_backup_engine: RocksDB's own BackupEngine on a node data dir, one
// step per invocation so that bench/run-repo-bench.sh can drop the page
// cache before each timed step. The reference point of the repository
// benchmark: no encryption, no compression, SST files shared between
// backups (incremental by file name and checksum).
//
//   bench_backup_engine backup  DB_DIR BACKUP_DIR   new backup (flush first); incremental when BACKUP_DIR has one
//   bench_backup_engine restore BACKUP_DIR TARGET   restore the latest backup into TARGET (created)
//   bench_backup_engine verify  BACKUP_DIR          VerifyBackup(latest, verify_with_checksum=true)
//
// The DB is opened with its own OPTIONS file (LoadLatestOptions), i.e. with
// the node's column families and table options. Prints one JSON line.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/options_util.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

int Fail(const std::string& what, const rocksdb::Status& s) {
  std::fprintf(stderr, "bench_backup_engine: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions o(backup_dir);
  o.share_table_files = true;
  o.share_files_with_checksum = true;
  // As many copy threads as cores: the engine's own parallelism.
  o.max_background_operations = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.sync = true;
  return o;
}

int Backup(const std::string& db_dir, const std::string& backup_dir) {
  rocksdb::DBOptions db_opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::ConfigOptions cfg;
  cfg.env = rocksdb::Env::Default();
  if (auto s = rocksdb::LoadLatestOptions(cfg, db_dir, &db_opts, &cfs); !s.ok()) return Fail("load options of " + db_dir, s);
  db_opts.create_if_missing = false;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto s = rocksdb::DB::Open(db_opts, db_dir, cfs, &handles, &raw); !s.ok()) return Fail("open " + db_dir, s);
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::BackupEngine* be_raw = nullptr;
  if (auto s = rocksdb::BackupEngine::Open(rocksdb::Env::Default(), EngineOptions(backup_dir), &be_raw); !s.ok())
    return Fail("open backup engine " + backup_dir, s);
  std::unique_ptr<rocksdb::BackupEngine> be(be_raw);
  rocksdb::CreateBackupOptions co;
  co.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  if (auto s = be->CreateNewBackup(co, db.get(), &id); !s.ok()) return Fail("CreateNewBackup", s);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  if (auto s = db->Close(); !s.ok()) return Fail("close", s);
  std::printf("{\"step\":\"backup\",\"backup_id\":%u}\n", id);
  return 0;
}

int Restore(const std::string& backup_dir, const std::string& target) {
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  if (auto s = rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), EngineOptions(backup_dir), &raw); !s.ok())
    return Fail("open backup engine " + backup_dir, s);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> be(raw);
  if (auto s = be->RestoreDBFromLatestBackup(target, target); !s.ok()) return Fail("RestoreDBFromLatestBackup", s);
  std::printf("{\"step\":\"restore\"}\n");
  return 0;
}

int Verify(const std::string& backup_dir) {
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  if (auto s = rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), EngineOptions(backup_dir), &raw); !s.ok())
    return Fail("open backup engine " + backup_dir, s);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> be(raw);
  std::vector<rocksdb::BackupInfo> infos;
  be->GetBackupInfo(&infos);
  if (infos.empty()) return Fail("verify", rocksdb::Status::NotFound("no backup in " + backup_dir));
  for (const auto& info : infos) {
    if (auto s = be->VerifyBackup(info.backup_id, /*verify_with_checksum=*/true); !s.ok())
      return Fail("VerifyBackup " + std::to_string(info.backup_id), s);
  }
  std::printf("{\"step\":\"verify\",\"backups\":%zu}\n", infos.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "backup") return Backup(a[1], a[2]);
  if (a.size() == 3 && a[0] == "restore") return Restore(a[1], a[2]);
  if (a.size() == 2 && a[0] == "verify") return Verify(a[1]);
  std::fprintf(stderr,
               "usage: bench_backup_engine backup DB_DIR BACKUP_DIR | restore BACKUP_DIR TARGET | verify BACKUP_DIR\n");
  return 2;
}
