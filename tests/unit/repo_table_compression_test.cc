// Per-file compression (issue 16): a state backup asks each RocksDB table
// file's own properties whether zstd can pay (state/table_compression.h)
// instead of sampling every chunk; the choice reaches the blob codec, and
// what is stored either way restores byte for byte.
#include <gtest/gtest.h>
#include <rocksdb/convenience.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstdio>

#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"
#include "state/database_file_facts.h"
#include "state/file_identity.h"
#include "state/table_compression.h"

namespace ailee::repo::testing {
namespace {

using state::TableCompressionAdvice;

// A table file of `rows` values made by `value`, blocks compressed with `compression`.
template <typename ValueFn>
void WriteTable(const std::string& path, rocksdb::CompressionType compression, int rows, ValueFn value) {
  rocksdb::Options options;
  options.compression = compression;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  ASSERT_TRUE(writer.Open(path).ok()) << path;
  for (int i = 0; i < rows; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "tx%08d", i);
    ASSERT_TRUE(writer.Put(key, value(i)).ok());
  }
  ASSERT_TRUE(writer.Finish().ok()) << path;
}

void WriteTextTable(const std::string& path, rocksdb::CompressionType compression) {
  WriteTable(path, compression, 300, [](int i) { return TextData(1000, 7000 + static_cast<uint64_t>(i)); });
}

// What the ops/state backup passes (ops/state/backup.cc): the table's advice, else the sample.
Result<CompressionChoice> ChoiceFromTable(const std::string& path) {
  ASSIGN_OR_RETURN(TableCompressionAdvice advice, state::TableFileCompression(path));
  if (advice == TableCompressionAdvice::kNotATable) return CompressionChoice::kBySample;
  return advice == TableCompressionAdvice::kStoreRaw ? CompressionChoice::kStoreRaw : CompressionChoice::kCompress;
}

class TableCompressionTest : public RepoTest {
 protected:
  // For each file of the latest snapshot: how many of its chunks are stored compressed, and how many in all.
  std::map<std::string, std::pair<size_t, size_t>> CompressedChunks() {
    std::map<std::string, std::pair<size_t, size_t>> out;
    auto snap = FindSnapshot(*repo_, "latest");
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    if (!snap.ok()) return out;
    for (const auto& f : snap->files) {
      for (const auto& c : f.chunks) {
        auto where = repo_->index().Find(c);
        EXPECT_TRUE(where.has_value()) << f.path;
        if (where && where->compressed) ++out[f.path].first;
        ++out[f.path].second;
      }
    }
    return out;
  }
};

TEST_F(TableCompressionTest, AdviceComesFromTheTablesOwnProperties) {
  const auto supported = rocksdb::GetSupportedCompressions();
  const bool have_zstd = std::find(supported.begin(), supported.end(), rocksdb::kZSTD) != supported.end();
  ASSERT_TRUE(have_zstd) << "Debian's RocksDB is built with zstd; the node's bottommost level uses it";
  WriteTextTable(src_ + "/zstd.sst", rocksdb::kZSTD);
  WriteTextTable(src_ + "/lz4.sst", rocksdb::kLZ4Compression);
  WriteTextTable(src_ + "/plain.sst", rocksdb::kNoCompression);
  WriteTable(src_ + "/random-lz4.sst", rocksdb::kLZ4Compression, 300,
             [](int i) { return RandomData(1000, 9000 + static_cast<uint64_t>(i)); });
  EXPECT_EQ(*state::TableFileCompression(src_ + "/zstd.sst"), TableCompressionAdvice::kStoreRaw);
  EXPECT_EQ(*state::TableFileCompression(src_ + "/lz4.sst"), TableCompressionAdvice::kCompress);
  EXPECT_EQ(*state::TableFileCompression(src_ + "/plain.sst"), TableCompressionAdvice::kCompress);
  EXPECT_EQ(*state::TableFileCompression(src_ + "/random-lz4.sst"), TableCompressionAdvice::kStoreRaw)
      << "LZ4 could not shrink the values: zstd will not either";

  WriteFile(src_ + "/MANIFEST-000001", TextData(1000, 1));
  EXPECT_EQ(*state::TableFileCompression(src_ + "/MANIFEST-000001"), TableCompressionAdvice::kNotATable);
  EXPECT_EQ(state::TableFileCompression(src_ + "/000404.sst").status().code(), StatusCode::kNotFound);
  // Not a table, whatever its name says: no advice, and the backup samples it (below).
  WriteFile(src_ + "/000009.sst", TextData(100000, 2));
  EXPECT_EQ(state::TableFileCompression(src_ + "/000009.sst").status().code(), StatusCode::kDataLoss);

  EXPECT_EQ(state::AdviseTableCompression({"ZSTDNotFinal", 1000, 500}), TableCompressionAdvice::kStoreRaw);
  EXPECT_EQ(state::AdviseTableCompression({"Snappy", 1000, 700}), TableCompressionAdvice::kCompress);
  EXPECT_EQ(state::AdviseTableCompression({"LZ4", 1000, 950}), TableCompressionAdvice::kStoreRaw);
  EXPECT_EQ(state::AdviseTableCompression({"NoCompression", 1000, 1010}), TableCompressionAdvice::kCompress);
}

// A state backup asks both questions of every file with one read of its
// properties (ops/state/backup.cc): the answers, errors included, are those
// of the two functions asked apart.
TEST_F(TableCompressionTest, OneReadAnswersIdentityAndAdviceAsTheTwoFunctionsDo) {
  WriteTextTable(src_ + "/000020.sst", rocksdb::kZSTD);
  WriteTextTable(src_ + "/000021.sst", rocksdb::kLZ4Compression);
  WriteFile(src_ + "/MANIFEST-000001", TextData(1000, 1));
  WriteFile(src_ + "/000009.sst", TextData(100000, 2));  // named like a table, is none
  for (const char* name : {"000020.sst", "000021.sst", "MANIFEST-000001", "000009.sst", "000404.sst", "gone"}) {
    const std::string path = src_ + "/" + name;
    state::DatabaseFileFacts facts = state::ReadDatabaseFileFacts(path);
    auto identity = state::DatabaseFileIdentity(path);
    auto advice = state::TableFileCompression(path);
    ASSERT_EQ(facts.identity.ok(), identity.ok()) << name << ": " << facts.identity.status().ToString();
    ASSERT_EQ(facts.compression.ok(), advice.ok()) << name << ": " << facts.compression.status().ToString();
    if (identity.ok()) {
      EXPECT_EQ(*facts.identity, *identity) << name;
    } else {
      EXPECT_EQ(facts.identity.status().code(), identity.status().code()) << name;
    }
    if (advice.ok()) {
      EXPECT_EQ(*facts.compression, *advice) << name;
    } else {
      EXPECT_EQ(facts.compression.status().code(), advice.status().code()) << name;
    }
  }
  EXPECT_NE(state::ReadDatabaseFileFacts(src_ + "/000020.sst").identity->find("rocksdb-sst:"), std::string::npos);
  EXPECT_EQ(*state::ReadDatabaseFileFacts(src_ + "/000020.sst").compression, TableCompressionAdvice::kStoreRaw);
  EXPECT_EQ(*state::ReadDatabaseFileFacts(src_ + "/000021.sst").compression, TableCompressionAdvice::kCompress);
  EXPECT_EQ(state::ReadDatabaseFileFacts(src_ + "/000404.sst").compression.status().code(), StatusCode::kNotFound);
}

TEST_F(TableCompressionTest, EachFileIsStoredAsItsFormatSaysAndRestoresByteForByte) {
  WriteTextTable(src_ + "/000010.sst", rocksdb::kZSTD);
  WriteTextTable(src_ + "/000011.sst", rocksdb::kLZ4Compression);
  WriteFile(src_ + "/000012.log", TextData(200 << 10, 3));      // the sample decides: compresses
  WriteFile(src_ + "/000013.blob", RandomData(200 << 10, 4));   // the sample decides: does not
  WriteFile(src_ + "/000014.sst", TextData(200 << 10, 5));      // named like a table, is none
  BackupOptions o = SmallPacks();
  o.file_compression = ChoiceFromTable;
  auto r = Backup(o);
  ASSERT_GT(r.stats.blobs_new, 10u);

  auto chunks = CompressedChunks();
  ASSERT_GE(chunks["000010.sst"].second, 1u);
  EXPECT_EQ(chunks["000010.sst"].first, 0u) << "zstd blocks: stored as they are";
  ASSERT_GE(chunks["000011.sst"].second, 1u);
  EXPECT_EQ(chunks["000011.sst"].first, chunks["000011.sst"].second) << "LZ4 blocks: every chunk compressed";
  EXPECT_EQ(chunks["000012.log"].first, chunks["000012.log"].second);
  EXPECT_EQ(chunks["000013.blob"].first, 0u);
  EXPECT_EQ(chunks["000014.sst"].first, chunks["000014.sst"].second) << "no properties: sampled like any file";

  std::string target = dir_ + "/restored";
  auto rs = RestoreSnapshot(*repo_, "latest", target, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
}

// Four 64 KiB chunks (the tests' chunk size), each 60 KiB random and 4 KiB
// of zeros: the sample shrinks by 6 %, under the 10 % it asks for, though
// compressing in full does save those 4 KiB.
std::string MostlyRandomChunks(uint64_t seed) {
  std::string out;
  for (uint64_t i = 0; i < 4; ++i) out += RandomData(60 << 10, seed + i) + std::string(4 << 10, '\0');
  return out;
}

// The caller's choice overrides the sample both ways, and a wrong one costs
// size, never data: compressing what does not shrink still stores it raw.
TEST_F(TableCompressionTest, CallersChoiceOverridesTheSample) {
  WriteFile(src_ + "/text", TextData(256 << 10, 6));
  WriteFile(src_ + "/mixed", MostlyRandomChunks(20));
  WriteFile(src_ + "/random", RandomData(256 << 10, 7));
  BackupOptions o = SmallPacks();
  o.file_compression = [this](const std::string& path) -> Result<CompressionChoice> {
    if (path == src_ + "/text") return CompressionChoice::kStoreRaw;
    return CompressionChoice::kCompress;
  };
  Backup(o);
  auto chunks = CompressedChunks();
  EXPECT_EQ(chunks["text"].first, 0u) << "kStoreRaw: compressible text stored raw";
  EXPECT_EQ(chunks["mixed"].first, chunks["mixed"].second) << "kCompress: no sample; the frame is smaller";
  EXPECT_EQ(chunks["random"].first, 0u) << "a frame no smaller than the data is never stored";

  // Without a choice, the sample of each mixed chunk says no.
  ASSERT_TRUE(fs::RemoveAll(src_).ok());
  ASSERT_TRUE(fs::MakeDirs(src_).ok());
  WriteFile(src_ + "/mixed", MostlyRandomChunks(40));
  clock_.Advance(1000);
  Backup(SmallPacks());
  EXPECT_EQ(CompressedChunks()["mixed"].first, 0u);

  std::string target = dir_ + "/restored";
  ASSERT_TRUE(RestoreSnapshot(*repo_, "latest", target, {}).ok());
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
}

}  // namespace
}  // namespace ailee::repo::testing
