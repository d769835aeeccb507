// The blob codec and pack builder on their own: what the bulk paths rely on
// (sealing straight into a pack, decoding in place, the alignment that lets
// restore write around the page cache) and that the bytes stay the format's.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "crypto/random.h"
#include "repo/blob.h"
#include "repo/key_slots.h"
#include "repo/pack.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

struct Sealed {
  Id id;
  std::string stored;  // type || sealed body
  bool compressed;
};

Sealed Seal(const MasterKey& key, std::string_view plain, int level) {
  Sealed s;
  s.id = ComputeBlobId(key, plain);
  AlignedBuffer frame;
  auto body = ChooseBlobBody(plain, level, &frame);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  s.compressed = body->compressed;
  s.stored.resize(StoredBlobSize(body->bytes.size()));
  EXPECT_TRUE(SealBlob(key, s.id, *body, s.stored.data()).ok());
  return s;
}

TEST(BlobTest, RawAndCompressedBlobsRoundTripAndRawOnesDecodeAligned) {
  MasterKey key = NewMasterKey();
  const std::string text = TextData(300000, 1), random = RandomData(300000, 2);
  Sealed t = Seal(key, text, 2), r = Seal(key, random, 2), none = Seal(key, text, 0);
  EXPECT_TRUE(t.compressed);
  EXPECT_LT(t.stored.size(), text.size() / 3);
  EXPECT_FALSE(r.compressed) << "the sample says random data does not compress";
  EXPECT_EQ(r.stored.size(), StoredBlobSize(random.size()));
  EXPECT_FALSE(none.compressed) << "level 0 never compresses";
  EXPECT_EQ(static_cast<uint8_t>(t.stored[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(r.stored[0]), 0);

  EXPECT_EQ(*DecodeBlob(key, t.id, t.stored), text);
  EXPECT_EQ(*DecodeBlob(key, r.id, r.stored), random);

  BlobBuffers buffers;
  for (const Sealed* s : {&r, &t}) {
    char* area = buffers.StoredArea(s->stored.size());
    std::memcpy(area, s->stored.data(), s->stored.size());
    auto plain = DecodeBlobInPlace(key, s->id, area, s->stored.size(), &buffers);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(*plain, s == &r ? random : text);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(plain->data()) % AlignedBuffer::kAlignment, 0u)
        << "restore writes these bytes with direct I/O";
  }
}

TEST(BlobTest, DamageIsDataLossNamingTheBlob) {
  MasterKey key = NewMasterKey();
  const std::string text = TextData(100000, 3);
  Sealed s = Seal(key, text, 2);
  std::string flipped = s.stored;
  flipped[flipped.size() / 2] ^= 4;
  auto bad = DecodeBlob(key, s.id, flipped);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find(IdHex(s.id)), std::string::npos) << bad.status().ToString();
  std::string retyped = s.stored;
  retyped[0] = 0;  // the type byte is authenticated
  EXPECT_EQ(DecodeBlob(key, s.id, retyped).status().code(), StatusCode::kDataLoss);
  Id other = s.id;
  other[0] ^= 1;
  EXPECT_EQ(DecodeBlob(key, other, s.stored).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeBlob(key, s.id, "").status().code(), StatusCode::kDataLoss);
}

TEST(PackTest, BuilderSealsBlobsThatTheHeaderLocatesAndTheIdNames) {
  MasterKey key = NewMasterKey();
  PackBuilder pack;
  pack.Reserve(1000);  // far too small: the builder must grow, keeping what it has
  std::vector<std::string> plains = {TextData(70000, 4), RandomData(50000, 5), TextData(10, 6)};
  for (const auto& p : plains) {
    AlignedBuffer frame;
    auto body = ChooseBlobBody(p, 2, &frame);
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE(pack.Add(key, ComputeBlobId(key, p), *body, static_cast<uint32_t>(p.size())).ok());
  }
  auto finished = pack.Finish(key);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(pack.size(), 0u);
  EXPECT_EQ(pack.count(), 0u);
  const std::string_view bytes = finished->bytes();
  EXPECT_EQ(finished->id, crypto::Sha256(bytes)) << "hashed incrementally, the same as hashing the whole pack";
  EXPECT_EQ(bytes.substr(bytes.size() - 8), "AILEEPK1");

  auto header = ParsePackHeader(key, finished->id, bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->size(), plains.size());
  for (size_t i = 0; i < plains.size(); ++i) {
    const PackBlob& b = (*header)[i];
    EXPECT_EQ(b.raw_length, plains[i].size());
    auto plain = DecodeBlob(key, b.id, bytes.substr(b.offset, b.length));
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(*plain, plains[i]);
  }
  EXPECT_TRUE((*header)[0].compressed);
  EXPECT_FALSE((*header)[1].compressed);

  // The builder is reusable, with the old buffer handed back.
  pack.Recycle(std::move(finished->buffer));
  AlignedBuffer frame;
  auto body = ChooseBlobBody(plains[2], 2, &frame);
  ASSERT_TRUE(pack.Add(key, ComputeBlobId(key, plains[2]), *body, 10).ok());
  auto second = pack.Finish(key);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, crypto::Sha256(second->bytes()));
  EXPECT_EQ(ParsePackHeader(key, second->id, second->bytes())->size(), 1u);
}

}  // namespace
}  // namespace ailee::repo::testing
