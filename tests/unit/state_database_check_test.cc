// state::CheckDatabaseOpens over a plain directory source: a database that
// opens passes and nothing is written anywhere (the check refuses every
// write); a table file from another database is named; a read error of the
// source comes back as the source's error, not as damage.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <map>

#include "state/database_check.h"
#include "state_test_util.h"

namespace ailee::state::testing {
namespace {

void Build(const std::string& dir, TestFederation& fed) {
  auto db = OpenDb(dir);
  ASSERT_TRUE(db);
  for (int h = 1; h <= 3; ++h) {
    std::vector<Transaction> txs;
    for (int i = 0; i < 5; ++i) txs.push_back(fed.PegIn(User(i).public_key, 10, h * 10 + i, fed.pegin_nonce++));
    ASSERT_TRUE(db->ProduceBlock(std::move(txs), fed.key, fed.id, 1000 * h, 0, fed.federation).ok());
  }
  ASSERT_TRUE(db->CreateCheckpoint(dir + ".flush").ok());
  ASSERT_TRUE(fs::RemoveAll(dir + ".flush").ok());
}

// The regular files of a directory, read with fs::ReadFile; `fail_reads`
// makes every read fail as an unreachable store would.
class DirFiles : public DatabaseFiles {
 public:
  explicit DirFiles(std::string dir) : dir_(std::move(dir)) {}
  std::vector<File> List() override {
    std::vector<File> out;
    auto names = fs::ListDir(dir_);
    EXPECT_TRUE(names.ok()) << dir_;
    if (!names.ok()) return out;
    for (const auto& name : *names) {
      struct stat sb {};
      if (::lstat(fs::JoinPath(dir_, name).c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
        out.push_back({name, static_cast<uint64_t>(sb.st_size)});
      }
    }
    return out;
  }
  Status ReadAt(const std::string& name, uint64_t offset, size_t n, char* out) override {
    if (fail_reads) return Unavailable("store unreachable reading " + name);
    auto& data = cache_[name];
    if (data.empty()) data = *fs::ReadFile(fs::JoinPath(dir_, name));
    if (offset + n > data.size()) return DataLoss(name + ": short");
    std::memcpy(out, data.data() + offset, n);
    return Status::Ok();
  }
  bool fail_reads = false;

 private:
  std::string dir_;
  std::map<std::string, std::string> cache_;
};

// name -> (size, mtime) of everything in dir.
std::map<std::string, std::pair<off_t, int64_t>> Listing(const std::string& dir) {
  std::map<std::string, std::pair<off_t, int64_t>> out;
  auto names = fs::ListDir(dir);
  EXPECT_TRUE(names.ok()) << dir;
  if (!names.ok()) return out;
  for (const auto& name : *names) {
    struct stat sb {};
    EXPECT_EQ(::lstat(fs::JoinPath(dir, name).c_str(), &sb), 0);
    out[name] = {sb.st_size, sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec};
  }
  return out;
}

TEST(CheckDatabaseOpens, ADatabaseOpensAndNothingIsWritten) {
  TempDir tmp("dbcheck");
  TestFederation fed;
  Build(tmp.Sub("db"), fed);
  const auto before = Listing(tmp.Sub("db"));
  DirFiles files(tmp.Sub("db"));
  Status st = CheckDatabaseOpens(files);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Listing(tmp.Sub("db")), before) << "the check wrote into the directory it read";
  EXPECT_EQ(Listing(tmp.path()).size(), 1u) << "the check left something beside it";
}

TEST(CheckDatabaseOpens, AnotherDatabasesTableFileOfTheSameNameIsNamed) {
  TempDir tmp("dbcheck");
  TestFederation fed;
  Build(tmp.Sub("a"), fed);
  fed.pegin_nonce = 0;
  Build(tmp.Sub("b"), fed);
  std::string swapped;
  for (const auto& [name, stat] : Listing(tmp.Sub("a"))) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".sst" && fs::Exists(tmp.Sub("b/" + name))) {
      ASSERT_TRUE(fs::WriteFileAtomic(tmp.Sub("a/" + name), *fs::ReadFile(tmp.Sub("b/" + name)), 0644).ok());
      swapped = name;
      break;
    }
  }
  ASSERT_FALSE(swapped.empty());
  DirFiles files(tmp.Sub("a"));
  Status st = CheckDatabaseOpens(files);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_EQ(st.message().rfind("table file " + swapped + ":", 0), 0u) << st.ToString();
}

TEST(CheckDatabaseOpens, AnUnreachableSourceIsNotReportedAsDamage) {
  TempDir tmp("dbcheck");
  TestFederation fed;
  Build(tmp.Sub("db"), fed);
  DirFiles files(tmp.Sub("db"));
  files.fail_reads = true;
  Status st = CheckDatabaseOpens(files);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
}

}  // namespace
}  // namespace ailee::state::testing
