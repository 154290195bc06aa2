#include "client/metadata_fetcher.h"

#include <string>

#include "base/sha.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::UnorderedElementsAre;
using Result = MetadataFetcher::Result;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

std::string Metadata(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 7 + 3);
  return s;
}

std::string_view PieceOf(const std::string& m, uint32_t i) {
  return std::string_view(m).substr(i * 16384, 16384);
}

TEST(MetadataFetcherTest, SpreadsPiecesOverPeersAndVerifies) {
  const std::string m = Metadata(40000);  // 3 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  EXPECT_FALSE(f.NextRequest(1, kT0));  // size unknown yet
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  EXPECT_FALSE(f.OnSizeOffered(3, m.size() + 1));  // inconsistent
  EXPECT_EQ(f.pieces_total(), 3u);
  auto a = f.NextRequest(1, kT0), b = f.NextRequest(2, kT0),
       c = f.NextRequest(1, kT0);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(std::vector<uint32_t>({*a, *b, *c}),
            (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_FALSE(f.NextRequest(2, kT0));  // all asked, none timed out
  EXPECT_EQ(f.OnData(1, 0, PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(1, 0, PieceOf(m, 0)), Result::kIgnored);
  EXPECT_EQ(f.OnData(2, 1, PieceOf(m, 1).substr(1)), Result::kIgnored);
  EXPECT_EQ(f.OnData(2, 1, PieceOf(m, 1)), Result::kStored);
  EXPECT_EQ(f.OnData(1, 2, PieceOf(m, 2)), Result::kComplete);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.metadata(), m);
}

TEST(MetadataFetcherTest, TimedOutAndRejectedPiecesGoElsewhere) {
  const std::string m = Metadata(100);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  EXPECT_FALSE(f.NextRequest(2, kT0 + absl::Seconds(1)));
  EXPECT_EQ(f.NextRequest(2, kT0 + absl::Seconds(11)), 0u);
  f.OnReject(2, 0);
  EXPECT_EQ(f.NextRequest(3, kT0 + absl::Seconds(12)), 0u);
  f.OnPeerGone(3);
  EXPECT_EQ(f.NextRequest(4, kT0 + absl::Seconds(12)), 0u);
}

TEST(MetadataFetcherTest, BadMetadataIsDroppedAndItsSendersNamed) {
  const std::string m = Metadata(20000);  // 2 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  f.NextRequest(1, kT0);
  f.NextRequest(2, kT0);
  std::string bad(PieceOf(m, 1));
  bad[5] ^= 1;
  EXPECT_EQ(f.OnData(1, 0, PieceOf(m, 0)), Result::kStored);
  std::vector<uint64_t> culprits;
  EXPECT_EQ(f.OnData(2, 1, bad, &culprits), Result::kHashFailed);
  EXPECT_THAT(culprits, UnorderedElementsAre(1u, 2u));
  EXPECT_FALSE(f.done());
  EXPECT_EQ(f.pieces_received(), 0u);
  // Fetched again, correctly this time.
  f.NextRequest(1, kT0);
  f.NextRequest(1, kT0);
  EXPECT_EQ(f.OnData(1, 0, PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(1, 1, PieceOf(m, 1)), Result::kComplete);
}

TEST(MetadataFetcherTest, SizeLimitsAndV2Hash) {
  MetadataFetcher f(std::nullopt, Sha256(AsBytes("x")));
  EXPECT_FALSE(f.OnSizeOffered(1, 0));
  EXPECT_FALSE(f.OnSizeOffered(1, MetadataFetcher::kMaxMetadataSize + 1));
  ASSERT_TRUE(f.OnSizeOffered(1, 1));
  f.NextRequest(1, kT0);
  EXPECT_EQ(f.OnData(1, 0, "x"), Result::kComplete);
}

}  // namespace
}  // namespace bt::client
