#include "client/metadata_fetcher.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/sha.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Result = MetadataFetcher::Result;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

std::string Metadata(size_t size, int seed = 0) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 7 + 3 + seed);
  return s;
}

std::string_view PieceOf(const std::string& m, uint32_t i) {
  return std::string_view(m).substr(i * 16384, 16384);
}

std::string Corrupt(std::string_view piece) {
  std::string bad(piece);
  bad[bad.size() / 2] ^= 1;
  return bad;
}

// Drain asks `peer` for pieces until NextRequest says none.
std::vector<uint32_t> Drain(MetadataFetcher& f, uint64_t peer, absl::Time now) {
  std::vector<uint32_t> out;
  while (auto p = f.NextRequest(peer, now)) out.push_back(*p);
  return out;
}

TEST(MetadataFetcherTest, SpreadsPiecesOverPeersAndVerifies) {
  const std::string m = Metadata(40000);  // 3 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  EXPECT_FALSE(f.NextRequest(1, kT0));  // size unknown yet
  EXPECT_FALSE(f.size_known());
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  EXPECT_TRUE(f.OnSizeOffered(3, m.size() + 1));  // recorded, not the target
  EXPECT_EQ(f.size(), m.size());
  EXPECT_EQ(f.pieces_total(), 3u);
  auto a = f.NextRequest(1, kT0), b = f.NextRequest(2, kT0),
       c = f.NextRequest(1, kT0);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(std::vector<uint32_t>({*a, *b, *c}),
            (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_FALSE(f.NextRequest(2, kT0));  // all asked, none timed out
  EXPECT_FALSE(f.NextRequest(3, kT0));  // offers another size
  EXPECT_EQ(f.OnData(1, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(2, 1, m.size(), PieceOf(m, 1)), Result::kStored);
  EXPECT_EQ(f.OnData(1, 2, m.size(), PieceOf(m, 2)), Result::kComplete);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.metadata(), m);
  EXPECT_EQ(f.pieces_received(), 3u);
  // Done: nothing more is asked or taken.
  EXPECT_FALSE(f.NextRequest(3, kT0));
  EXPECT_EQ(f.OnData(1, 0, m.size(), PieceOf(m, 0)), Result::kIgnored);
}

TEST(MetadataFetcherTest, SizeLimitsAndV2Hash) {
  MetadataFetcher f(std::nullopt, Sha256(AsBytes("x")));
  EXPECT_FALSE(f.OnSizeOffered(1, 0));
  EXPECT_FALSE(f.OnSizeOffered(1, MetadataFetcher::kMaxMetadataSize + 1));
  EXPECT_FALSE(f.size_known());
  ASSERT_TRUE(f.OnSizeOffered(1, 1));
  f.NextRequest(1, kT0);
  EXPECT_EQ(f.OnData(1, 0, 1, "x"), Result::kComplete);
  EXPECT_EQ(f.metadata(), "x");
}

TEST(MetadataFetcherTest, LiarOfferingWrongSizeFirstDoesNotLockOutHonestPeers) {
  const std::string m = Metadata(20000);  // 2 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, 999));  // the liar is first
  EXPECT_EQ(f.size(), 999u);
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  ASSERT_TRUE(f.OnSizeOffered(3, m.size()));
  EXPECT_EQ(f.size(), m.size());  // offered by more peers
  EXPECT_EQ(f.pieces_total(), 2u);
  EXPECT_FALSE(f.NextRequest(1, kT0));  // not asked, but not blamed either
  EXPECT_EQ(f.NextRequest(2, kT0), 0u);
  EXPECT_EQ(f.NextRequest(3, kT0), 1u);
  // Data sized after the liar's offer is not taken.
  EXPECT_EQ(f.OnData(1, 0, 999, std::string(999, 'x')), Result::kIgnored);
  EXPECT_EQ(f.OnData(2, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(3, 1, m.size(), PieceOf(m, 1)), Result::kComplete);
  EXPECT_EQ(f.metadata(), m);
}

TEST(MetadataFetcherTest, LoneWrongSizeIsDisprovedByItsOwnData) {
  const std::string m = Metadata(20000);
  const std::string fake = Metadata(999, 1);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, fake.size()));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  EXPECT_EQ(f.size(), fake.size());  // a tie keeps the current target
  EXPECT_FALSE(f.NextRequest(2, kT0));
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  std::vector<uint64_t> culprits;
  EXPECT_EQ(f.OnData(1, 0, fake.size(), fake, &culprits), Result::kHashFailed);
  EXPECT_THAT(culprits, ElementsAre(1u));  // it supplied everything
  EXPECT_EQ(f.size(), m.size());           // the next best size
  EXPECT_FALSE(f.NextRequest(1, kT0));
  EXPECT_FALSE(f.OnSizeOffered(1, m.size()));  // a proven liar's offer
  EXPECT_THAT(Drain(f, 2, kT0), ElementsAre(0u, 1u));
  EXPECT_EQ(f.OnData(2, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(2, 1, m.size(), PieceOf(m, 1), &culprits),
            Result::kComplete);
  EXPECT_THAT(culprits, ElementsAre(1u));
}

TEST(MetadataFetcherTest, StallingWrongSizeIsDisprovedByTimeout) {
  const std::string m = Metadata(100);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, 5000));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  EXPECT_FALSE(f.NextRequest(2, kT0 + absl::Seconds(9)));
  // The liar never answers: its size has no other peer, so it is dropped.
  EXPECT_EQ(f.NextRequest(2, kT0 + absl::Seconds(10)), 0u);
  EXPECT_EQ(f.size(), m.size());
  EXPECT_EQ(f.OnData(1, 0, 5000, std::string(5000, 'x')), Result::kIgnored);
  EXPECT_EQ(f.OnData(2, 0, m.size(), m), Result::kComplete);
}

TEST(MetadataFetcherTest, IgnoresDataNotAskedWrongTotalSizeWrongLengthOrDuplicate) {
  const std::string m = Metadata(40000);  // 3 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  ASSERT_EQ(f.NextRequest(1, kT0), 0u);
  ASSERT_EQ(f.NextRequest(2, kT0), 1u);
  const uint64_t n = m.size();
  EXPECT_EQ(f.OnData(2, 0, n, PieceOf(m, 0)), Result::kIgnored);  // asked 1
  EXPECT_EQ(f.OnData(3, 0, n, PieceOf(m, 0)), Result::kIgnored);  // unknown
  EXPECT_EQ(f.OnData(1, 2, n, PieceOf(m, 2)), Result::kIgnored);  // not asked
  EXPECT_EQ(f.OnData(1, 9, n, PieceOf(m, 0)), Result::kIgnored);  // no such
  EXPECT_EQ(f.OnData(1, 0, n + 1, PieceOf(m, 0)), Result::kIgnored);
  EXPECT_EQ(f.OnData(1, 0, n - 1, PieceOf(m, 0)), Result::kIgnored);
  EXPECT_EQ(f.OnData(1, 0, n, PieceOf(m, 0).substr(1)), Result::kIgnored);
  EXPECT_EQ(f.pieces_received(), 0u);
  EXPECT_EQ(f.OnData(1, 0, n, PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(1, 0, n, PieceOf(m, 0)), Result::kIgnored);  // duplicate
  EXPECT_EQ(f.OnData(1, 0, n, Corrupt(PieceOf(m, 0))), Result::kIgnored);
  EXPECT_EQ(f.pieces_received(), 1u);
  EXPECT_EQ(f.OnData(2, 1, n, PieceOf(m, 1)), Result::kStored);
  ASSERT_EQ(f.NextRequest(2, kT0), 2u);
  EXPECT_EQ(f.OnData(2, 2, n, PieceOf(m, 2)), Result::kComplete);
  EXPECT_EQ(f.metadata(), m);
}

TEST(MetadataFetcherTest, FailedMultiSourceRoundBlamesNobodyThenGoesSingleSource) {
  const std::string m = Metadata(40000);  // 3 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  for (uint64_t p : {1, 2, 3}) ASSERT_TRUE(f.OnSizeOffered(p, m.size()));
  ASSERT_EQ(f.NextRequest(1, kT0), 0u);
  ASSERT_EQ(f.NextRequest(2, kT0), 1u);
  ASSERT_EQ(f.NextRequest(3, kT0), 2u);
  EXPECT_EQ(f.OnData(1, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(2, 1, m.size(), PieceOf(m, 1)), Result::kStored);
  std::vector<uint64_t> culprits;
  EXPECT_EQ(f.OnData(3, 2, m.size(), Corrupt(PieceOf(m, 2)), &culprits),
            Result::kHashFailed);
  EXPECT_THAT(culprits, IsEmpty());  // three contributors: nobody proven
  EXPECT_EQ(f.pieces_received(), 0u);
  EXPECT_FALSE(f.done());
  ASSERT_TRUE(f.OnSizeOffered(4, m.size()));  // arrives after the failure

  // Single-source: one peer, a contributor, is asked for every piece.
  std::map<uint64_t, std::vector<uint32_t>> asked;
  for (uint64_t p : {4, 3, 2, 1}) asked[p] = Drain(f, p, kT0);
  uint64_t source = 0;
  for (const auto& [p, pieces] : asked) {
    if (pieces.empty()) continue;
    EXPECT_EQ(source, 0u) << "two sources";
    source = p;
    EXPECT_THAT(pieces, ElementsAre(0u, 1u, 2u));
  }
  ASSERT_NE(source, 0u);
  EXPECT_NE(source, 4u);  // contributors to the failed round come first
  // Pieces from anyone else are not taken in this round.
  for (uint64_t p : {1, 2, 3, 4}) {
    if (p != source) {
      EXPECT_EQ(f.OnData(p, 0, m.size(), PieceOf(m, 0)), Result::kIgnored);
    }
  }
  const bool liar = source == 3;
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(f.OnData(source, i, m.size(), PieceOf(m, i)), Result::kStored);
  }
  const std::string last = liar ? Corrupt(PieceOf(m, 2)) : std::string(PieceOf(m, 2));
  EXPECT_EQ(f.OnData(source, 2, m.size(), last, &culprits),
            liar ? Result::kHashFailed : Result::kComplete);
  if (liar) EXPECT_THAT(culprits, ElementsAre(3u));
}

TEST(MetadataFetcherTest, LoneLiarIsReportedOnceAndNeverAskedAgain) {
  const std::string m = Metadata(20000);  // 2 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));  // the liar
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  ASSERT_EQ(f.NextRequest(1, kT0), 0u);
  ASSERT_EQ(f.NextRequest(2, kT0), 1u);
  std::vector<uint64_t> culprits;
  EXPECT_EQ(f.OnData(1, 0, m.size(), Corrupt(PieceOf(m, 0)), &culprits),
            Result::kStored);
  EXPECT_EQ(f.OnData(2, 1, m.size(), PieceOf(m, 1), &culprits),
            Result::kHashFailed);
  EXPECT_THAT(culprits, IsEmpty());
  // Peer 2 leaves; peer 3 (honest) arrives. The liar contributed, so it is
  // tried alone first.
  f.OnPeerGone(2);
  ASSERT_TRUE(f.OnSizeOffered(3, m.size()));
  EXPECT_FALSE(f.NextRequest(3, kT0));
  EXPECT_THAT(Drain(f, 1, kT0), ElementsAre(0u, 1u));
  EXPECT_EQ(f.OnData(1, 0, m.size(), Corrupt(PieceOf(m, 0)), &culprits),
            Result::kStored);
  EXPECT_EQ(f.OnData(1, 1, m.size(), PieceOf(m, 1), &culprits),
            Result::kHashFailed);
  EXPECT_THAT(culprits, ElementsAre(1u));  // it alone supplied every piece
  // Never asked again, and what it sends is not taken.
  EXPECT_FALSE(f.NextRequest(1, kT0));
  EXPECT_FALSE(f.NextRequest(1, kT0 + absl::Minutes(5)));
  EXPECT_FALSE(f.OnSizeOffered(1, m.size()));
  EXPECT_THAT(Drain(f, 3, kT0), ElementsAre(0u, 1u));
  EXPECT_EQ(f.OnData(1, 0, m.size(), PieceOf(m, 0), &culprits),
            Result::kIgnored);
  EXPECT_EQ(f.OnData(3, 0, m.size(), PieceOf(m, 0), &culprits),
            Result::kStored);
  EXPECT_EQ(f.OnData(3, 1, m.size(), PieceOf(m, 1), &culprits),
            Result::kComplete);
  EXPECT_THAT(culprits, ElementsAre(1u));  // reported exactly once
  EXPECT_EQ(f.metadata(), m);
}

TEST(MetadataFetcherTest, OnePeerSupplyingAFailedFirstRoundIsProvenALiar) {
  const std::string m = Metadata(20000);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  ASSERT_TRUE(f.OnSizeOffered(2, m.size()));
  ASSERT_EQ(f.NextRequest(1, kT0), 0u);
  ASSERT_EQ(f.NextRequest(1, kT0), 1u);
  std::vector<uint64_t> culprits;
  f.OnData(1, 0, m.size(), PieceOf(m, 0), &culprits);
  EXPECT_EQ(f.OnData(1, 1, m.size(), Corrupt(PieceOf(m, 1)), &culprits),
            Result::kHashFailed);
  EXPECT_THAT(culprits, ElementsAre(1u));
  EXPECT_FALSE(f.NextRequest(1, kT0));
  EXPECT_THAT(Drain(f, 2, kT0), ElementsAre(0u, 1u));
}

TEST(MetadataFetcherTest, TwoLiarsAndOneHonestPeer) {
  const std::string m = Metadata(40000);  // 3 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  const std::set<uint64_t> liars = {1, 2};
  for (uint64_t p : {1, 2, 3}) ASSERT_TRUE(f.OnSizeOffered(p, m.size()));
  auto serve = [&](uint64_t p, uint32_t i, std::vector<uint64_t>* culprits) {
    const std::string data = liars.count(p) ? Corrupt(PieceOf(m, i))
                                            : std::string(PieceOf(m, i));
    return f.OnData(p, i, m.size(), data, culprits);
  };
  // Round 1 spreads the pieces, so the failure names nobody.
  std::vector<uint64_t> culprits;
  for (uint64_t p : {1, 2, 3}) {
    ASSERT_EQ(f.NextRequest(p, kT0), p - 1);
  }
  for (uint64_t p : {1, 2, 3}) serve(p, p - 1, &culprits);
  EXPECT_THAT(culprits, IsEmpty());
  // Then one source per round until the honest one's turn.
  int rounds = 0;
  while (!f.done() && rounds++ < 5) {
    for (uint64_t p : {1, 2, 3}) {
      for (uint32_t i : Drain(f, p, kT0)) serve(p, i, &culprits);
    }
  }
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.metadata(), m);
  for (uint64_t c : culprits) EXPECT_TRUE(liars.count(c)) << c;
  EXPECT_EQ(std::set<uint64_t>(culprits.begin(), culprits.end()).size(),
            culprits.size());
  EXPECT_THAT(culprits, ElementsAre(1u, 2u));  // lowest id first
}

TEST(MetadataFetcherTest, TimedOutAndRejectedPiecesGoElsewhere) {
  const std::string m = Metadata(100);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  for (uint64_t p : {1, 2, 3, 4}) ASSERT_TRUE(f.OnSizeOffered(p, m.size()));
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  EXPECT_FALSE(f.NextRequest(2, kT0 + absl::Seconds(1)));
  EXPECT_EQ(f.NextRequest(2, kT0 + absl::Seconds(11)), 0u);  // timed out
  f.OnReject(2, 0);
  EXPECT_EQ(f.NextRequest(3, kT0 + absl::Seconds(12)), 0u);
  f.OnPeerGone(3);
  EXPECT_EQ(f.NextRequest(4, kT0 + absl::Seconds(12)), 0u);
  // The first peer answers late: it was asked this round, so it counts.
  EXPECT_EQ(f.OnData(1, 0, m.size(), m), Result::kComplete);
}

TEST(MetadataFetcherTest, LonePeerIsAskedAgainAfterATimeout) {
  const std::string m = Metadata(100);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, m.size()));
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  EXPECT_FALSE(f.NextRequest(1, kT0 + absl::Seconds(5)));
  EXPECT_EQ(f.NextRequest(1, kT0 + absl::Seconds(10)), 0u);  // nobody else
  f.OnReject(1, 0);
  EXPECT_EQ(f.NextRequest(1, kT0 + absl::Seconds(11)), 0u);
  EXPECT_EQ(f.OnData(1, 0, m.size(), m), Result::kComplete);
}

TEST(MetadataFetcherTest, SingleSourceTimeoutOrRejectPassesTheRoundOn) {
  const std::string m = Metadata(20000);  // 2 pieces
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  for (uint64_t p : {1, 2, 3}) ASSERT_TRUE(f.OnSizeOffered(p, m.size()));
  ASSERT_EQ(f.NextRequest(1, kT0), 0u);
  ASSERT_EQ(f.NextRequest(2, kT0), 1u);
  f.OnData(1, 0, m.size(), PieceOf(m, 0));
  ASSERT_EQ(f.OnData(2, 1, m.size(), Corrupt(PieceOf(m, 1))),
            Result::kHashFailed);
  // Peer 1 is the source (a contributor, lowest id) and goes silent.
  EXPECT_THAT(Drain(f, 1, kT0), ElementsAre(0u, 1u));
  EXPECT_EQ(f.OnData(1, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_THAT(Drain(f, 2, kT0 + absl::Seconds(9)), IsEmpty());
  // Its turn ends; the next source starts the round afresh.
  EXPECT_THAT(Drain(f, 2, kT0 + absl::Seconds(10)), ElementsAre(0u, 1u));
  EXPECT_EQ(f.pieces_received(), 0u);
  EXPECT_EQ(f.OnData(1, 1, m.size(), PieceOf(m, 1)), Result::kIgnored);
  // Peer 2 rejects: the turn goes to peer 3.
  f.OnReject(2, 0);
  EXPECT_THAT(Drain(f, 2, kT0 + absl::Seconds(10)), IsEmpty());
  EXPECT_THAT(Drain(f, 3, kT0 + absl::Seconds(10)), ElementsAre(0u, 1u));
  EXPECT_EQ(f.OnData(3, 0, m.size(), PieceOf(m, 0)), Result::kStored);
  EXPECT_EQ(f.OnData(3, 1, m.size(), PieceOf(m, 1)), Result::kComplete);
}

TEST(MetadataFetcherTest, TargetFollowsPresentPeers) {
  const std::string m = Metadata(100);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  ASSERT_TRUE(f.OnSizeOffered(1, 777));
  ASSERT_TRUE(f.OnSizeOffered(2, 777));
  ASSERT_TRUE(f.OnSizeOffered(3, m.size()));
  EXPECT_EQ(f.size(), 777u);
  EXPECT_EQ(f.NextRequest(1, kT0), 0u);
  f.OnPeerGone(1);
  EXPECT_EQ(f.size(), 777u);  // a tie keeps the target
  f.OnPeerGone(2);
  EXPECT_EQ(f.size(), m.size());  // their offers went with them
  EXPECT_EQ(f.NextRequest(3, kT0), 0u);
  // A peer that changes its offer is asked no more for the old size.
  ASSERT_TRUE(f.OnSizeOffered(3, 555));
  EXPECT_EQ(f.size(), 555u);
  EXPECT_EQ(f.OnData(3, 0, m.size(), m), Result::kIgnored);
  ASSERT_TRUE(f.OnSizeOffered(3, m.size()));
  EXPECT_EQ(f.NextRequest(3, kT0), 0u);
  EXPECT_EQ(f.OnData(3, 0, m.size(), m), Result::kComplete);
  f.OnPeerGone(3);
  f.OnPeerGone(42);  // unknown: harmless
}

// A swarm of scripted peers, driven in a shuffled order with time passing:
// whatever the liars do, only liars are ever reported, each at most once,
// never asked after that, and the honest peer's metadata wins.
enum class Kind { kHonest, kCorrupt, kWrongSize, kStall, kReject };

void RunSwarm(const std::vector<Kind>& kinds, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  const std::string m = Metadata(50000);  // 4 pieces
  const std::string fake = Metadata(30000, 5);
  MetadataFetcher f(Sha1(AsBytes(m)), std::nullopt);
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const uint64_t id = 100 + i;
    ids.push_back(id);
    ASSERT_TRUE(f.OnSizeOffered(
        id, kinds[i] == Kind::kWrongSize ? fake.size() : m.size()));
  }
  std::mt19937 rng(seed);
  std::vector<uint64_t> culprits;
  std::set<uint64_t> reported;
  absl::Time now = kT0;
  for (int step = 0; step < 600 && !f.done(); ++step) {
    std::vector<size_t> order(kinds.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) {
      const uint64_t id = ids[i];
      // At most two requests at a time, as the client does.
      std::vector<uint32_t> asked;
      for (int k = 0; k < 2; ++k) {
        auto p = f.NextRequest(id, now);
        if (!p) break;
        asked.push_back(*p);
      }
      if (reported.count(id)) {
        EXPECT_THAT(asked, IsEmpty()) << "liar " << id << " asked again";
      }
      for (uint32_t piece : asked) {
        const size_t before = culprits.size();
        switch (kinds[i]) {
          case Kind::kHonest:
            f.OnData(id, piece, m.size(), PieceOf(m, piece), &culprits);
            break;
          case Kind::kCorrupt:
            f.OnData(id, piece, m.size(), Corrupt(PieceOf(m, piece)),
                     &culprits);
            break;
          case Kind::kWrongSize:
            f.OnData(id, piece, fake.size(), PieceOf(fake, piece), &culprits);
            break;
          case Kind::kStall:
            break;
          case Kind::kReject:
            f.OnReject(id, piece);
            break;
        }
        for (size_t c = before; c < culprits.size(); ++c) {
          EXPECT_TRUE(reported.insert(culprits[c]).second)
              << culprits[c] << " reported twice";
        }
        if (f.done()) break;
      }
      if (f.done()) break;
    }
    now += absl::Seconds(1);
  }
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.metadata(), m);
  for (uint64_t c : culprits) {
    const Kind k = kinds[c - 100];
    EXPECT_TRUE(k == Kind::kCorrupt || k == Kind::kWrongSize)
        << "peer " << c << " blamed wrongly";
  }
}

TEST(MetadataFetcherTest, SwarmsWithLiarsOnlyEverBlameLiarsAndComplete) {
  using K = Kind;
  const std::vector<std::vector<Kind>> swarms = {
      {K::kCorrupt, K::kCorrupt, K::kHonest},
      {K::kHonest, K::kCorrupt, K::kCorrupt},
      {K::kCorrupt, K::kHonest, K::kCorrupt, K::kHonest},
      {K::kWrongSize, K::kWrongSize, K::kHonest},
      {K::kWrongSize, K::kCorrupt, K::kHonest, K::kWrongSize},
      {K::kStall, K::kCorrupt, K::kHonest, K::kStall},
      {K::kReject, K::kCorrupt, K::kReject, K::kHonest},
      {K::kCorrupt, K::kCorrupt, K::kCorrupt, K::kCorrupt, K::kCorrupt,
       K::kHonest},
      {K::kWrongSize, K::kWrongSize, K::kWrongSize, K::kStall, K::kHonest},
  };
  for (size_t s = 0; s < swarms.size(); ++s) {
    SCOPED_TRACE(testing::Message() << "swarm " << s);
    for (uint32_t seed = 1; seed <= 8; ++seed) RunSwarm(swarms[s], seed);
  }
}

}  // namespace
}  // namespace bt::client
