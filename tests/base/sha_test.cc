#include "base/sha.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/sha1_two_lanes.h"
#include "gtest/gtest.h"

namespace bt {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

ByteSpan Part(const std::vector<uint8_t>& v, size_t from, size_t n) {
  return ByteSpan(v.data() + from, n);
}

TEST(ShaTest, KnownVectors) {
  EXPECT_EQ(Sha1(AsBytes(std::string_view("abc"))).ToHex(),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  Sha1Hasher h;
  h.Update(AsBytes(std::string_view("ab")));
  h.Update(AsBytes(std::string_view("c")));
  EXPECT_EQ(h.Final().ToHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(ShaTest, TwoLanesMatchOneStreamEach) {
  if (!internal::HaveSha1TwoLanes()) GTEST_SKIP() << "no SHA extensions";
  for (size_t blocks : {1, 2, 3, 16, 255}) {
    const std::vector<uint8_t> a = RandomBytes(64 * blocks, 1);
    const std::vector<uint8_t> b = RandomBytes(64 * blocks, 2);
    SHA_CTX ca, cb;
    SHA1_Init(&ca);
    SHA1_Init(&cb);
    uint32_t ha[5], hb[5];
    std::copy(ca.h, ca.h + 5, ha);
    std::copy(cb.h, cb.h + 5, hb);
    SHA1_Update(&ca, a.data(), a.size());
    SHA1_Update(&cb, b.data(), b.size());
    internal::Sha1TwoLanes(ha, a.data(), hb, b.data(), blocks);
    EXPECT_TRUE(std::equal(ha, ha + 5, ca.h)) << blocks << " blocks";
    EXPECT_TRUE(std::equal(hb, hb + 5, cb.h)) << blocks << " blocks";
  }
}

// UpdateBoth must equal two Updates whatever the lengths, and whatever
// either hasher had buffered (a partial block) before.
TEST(ShaTest, UpdateBothEqualsTwoUpdates) {
  const std::vector<uint8_t> a = RandomBytes(20000, 3);
  const std::vector<uint8_t> b = RandomBytes(20000, 4);
  const size_t lengths[] = {0, 1, 55, 63, 64, 65, 127, 128, 1000, 16384, 16390};
  const size_t heads[] = {0, 1, 64, 70};
  for (size_t head_a : heads) {
    for (size_t head_b : heads) {
      for (size_t la : lengths) {
        for (size_t lb : lengths) {
          Sha1Hasher pa, pb, sa, sb;
          pa.Update(Part(a, 0, head_a));
          sa.Update(Part(a, 0, head_a));
          pb.Update(Part(b, 0, head_b));
          sb.Update(Part(b, 0, head_b));
          Sha1Hasher::UpdateBoth(pa, Part(a, head_a, la), pb,
                                 Part(b, head_b, lb));
          sa.Update(Part(a, head_a, la));
          sb.Update(Part(b, head_b, lb));
          // And once more, so a second pairing follows the first.
          Sha1Hasher::UpdateBoth(pa, Part(a, head_a + la, 64), pb,
                                 Part(b, head_b + lb, 128));
          sa.Update(Part(a, head_a + la, 64));
          sb.Update(Part(b, head_b + lb, 128));
          ASSERT_EQ(pa.Final(), sa.Final())
              << head_a << " " << head_b << " " << la << " " << lb;
          ASSERT_EQ(pb.Final(), sb.Final())
              << head_a << " " << head_b << " " << la << " " << lb;
        }
      }
    }
  }
}

TEST(ShaTest, UpdateBothOnOneHasherIsTwoUpdatesInOrder) {
  const std::vector<uint8_t> a = RandomBytes(4096, 5);
  Sha1Hasher both, plain;
  Sha1Hasher::UpdateBoth(both, Part(a, 0, 2048), both, Part(a, 2048, 2048));
  plain.Update(Part(a, 0, 4096));
  EXPECT_EQ(both.Final(), plain.Final());
}

TEST(ShaTest, UpdateBothPastFourGibibitsCarriesTheLength) {
  // The bit count crosses 2^32 (512 MiB) inside a side-by-side run.
  const std::vector<uint8_t> a = RandomBytes(1 << 20, 6);
  Sha1Hasher pa, pb, sa;
  for (int i = 0; i < 513; ++i) {
    Sha1Hasher::UpdateBoth(pa, Part(a, 0, a.size()), pb, Part(a, 0, a.size()));
    sa.Update(Part(a, 0, a.size()));
  }
  const Sha1Hash want = sa.Final();
  EXPECT_EQ(pa.Final(), want);
  EXPECT_EQ(pb.Final(), want);
}

}  // namespace
}  // namespace bt
