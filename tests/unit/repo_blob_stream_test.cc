// StreamFileBlobs / ReadFileBlobs: a file's blobs joined in order and checked
// as a whole. Each blob of a spliced chunk list is authentic on its own, so
// only the file's hash and size can tell: these cases must be kDataLoss
// naming the file, whatever the sink was handed before.
#include <gtest/gtest.h>

#include "repo/blob_stream.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class BlobStreamTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    a_data_ = RandomData(300 << 10, 1);
    WriteFile(src_ + "/a.sst", a_data_);
    WriteFile(src_ + "/b.sst", RandomData(200 << 10, 2));
    auto snap = LoadSnapshot(*repo_, Backup(SmallPacks()).snapshot_id);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    for (const auto& e : snap->files) {
      if (e.path == "a.sst") a_ = e;
      if (e.path == "b.sst") b_ = e;
    }
    ASSERT_GT(a_.chunks.size(), 2u) << "the cases below need a file of several blobs";
    ASSERT_FALSE(b_.chunks.empty());
  }

  void ExpectDataLossNamingA(const FileEntry& spliced) {
    auto r = ReadFileBlobs(*repo_, spliced);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_NE(r.status().message().find("a.sst"), std::string::npos) << r.status().ToString();
  }

  std::string a_data_;
  FileEntry a_, b_;
};

TEST_F(BlobStreamTest, JoinsBlobsInOrder) {
  auto r = ReadFileBlobs(*repo_, a_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, a_data_);

  std::string streamed;
  size_t calls = 0;
  ASSERT_TRUE(StreamFileBlobs(*repo_, a_, [&](std::string_view bytes) {
                ++calls;
                streamed.append(bytes);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(streamed, a_data_);
  EXPECT_EQ(calls, a_.chunks.size());
}

TEST_F(BlobStreamTest, ABlobOfAnotherFileIsDataLoss) {
  FileEntry spliced = a_;
  spliced.chunks[1] = b_.chunks[0];  // decrypts fine: a real blob of this repository
  ExpectDataLossNamingA(spliced);
}

TEST_F(BlobStreamTest, ReorderedBlobsAreDataLoss) {
  FileEntry spliced = a_;
  std::swap(spliced.chunks[0], spliced.chunks[1]);
  ExpectDataLossNamingA(spliced);
}

TEST_F(BlobStreamTest, TruncatedListIsDataLoss) {
  FileEntry spliced = a_;
  spliced.chunks.pop_back();
  ExpectDataLossNamingA(spliced);
}

TEST_F(BlobStreamTest, WrongRecordedHashOrSizeIsDataLoss) {
  FileEntry wrong_hash = a_;
  wrong_hash.sha256 = b_.sha256;
  ExpectDataLossNamingA(wrong_hash);
  FileEntry wrong_size = a_;
  wrong_size.size += 1;
  ExpectDataLossNamingA(wrong_size);
}

TEST_F(BlobStreamTest, AnUnknownBlobIsDataLoss) {
  FileEntry spliced = a_;
  spliced.chunks[0][0] ^= 0xff;
  ExpectDataLossNamingA(spliced);
}

TEST_F(BlobStreamTest, TheSinksErrorStopsTheStream) {
  size_t calls = 0;
  Status st = StreamFileBlobs(*repo_, a_, [&](std::string_view) {
    ++calls;
    return ResourceExhausted("disk full");
  });
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1u);
}

}  // namespace
}  // namespace ailee::repo::testing
