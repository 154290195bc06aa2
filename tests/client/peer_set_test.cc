#include "client/peer_set.h"

#include <algorithm>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Source = PeerSet::Source;

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

Endpoint Peer(uint8_t last, uint16_t port = 6881) {
  return Endpoint::V4({10, 0, 0, last}, port);
}

PeerSet::Options Small(size_t max_candidates) {
  PeerSet::Options o;
  o.max_candidates = max_candidates;
  return o;
}

// DialAll dials every candidate NextToConnect offers at `now`.
std::vector<Endpoint> DialAll(PeerSet& set, absl::Time now) {
  std::vector<Endpoint> out;
  while (std::optional<PeerSet::Dial> d = set.NextToConnect(now)) {
    out.push_back(d->address);
  }
  return out;
}

// FailOut makes `bad` fail max_failures connection attempts while the other
// candidates connect and close cleanly.
absl::Time FailOut(PeerSet& set, const Endpoint& bad, absl::Time now,
                   int failures) {
  for (int i = 0; i < failures; ++i) {
    for (const Endpoint& e : DialAll(set, now)) {
      set.OnClosed(e, /*was_active=*/e != bad, /*plain_retry=*/false, now);
    }
    now += PeerSet::Options().retry_after;
  }
  return now;
}

// --- adding
// -------------------------------------------------------------------

TEST(PeerSetTest, RefusesPortZeroDuplicatesAndNothingElse) {
  PeerSet set;
  EXPECT_TRUE(set.Add(Peer(1), Source::kTracker, kT0));
  EXPECT_FALSE(set.Add(Peer(1), Source::kDht, kT0));
  EXPECT_FALSE(set.Add(Peer(2, 0), Source::kUser, kT0));
  EXPECT_TRUE(set.Add(Peer(1, 6882), Source::kPex, kT0));  // another port
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.Contains(Peer(1)));
  EXPECT_FALSE(set.Contains(Peer(2, 0)));
}

TEST(PeerSetTest, FullSetRefusesPexAndLsdHints) {
  PeerSet set(Small(3));
  for (uint8_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(set.Add(Peer(i), Source::kTracker, kT0 + absl::Seconds(i)));
  }
  EXPECT_FALSE(set.Add(Peer(9), Source::kPex, kT0 + absl::Seconds(10)));
  EXPECT_FALSE(set.Add(Peer(8), Source::kLsd, kT0 + absl::Seconds(10)));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_FALSE(set.Contains(Peer(9)));
  EXPECT_FALSE(set.Contains(Peer(8)));
}

TEST(PeerSetTest, CountsCandidatesBySource) {
  PeerSet set;
  set.Add(Peer(1), Source::kLsd, kT0);
  set.Add(Peer(1), Source::kTracker, kT0);  // known: stays from LSD
  set.Add(Peer(2), Source::kLsd, kT0);
  set.Add(Peer(3), Source::kDht, kT0);
  EXPECT_EQ(set.CountFrom(Source::kLsd), 2u);
  EXPECT_EQ(set.CountFrom(Source::kDht), 1u);
  EXPECT_EQ(set.CountFrom(Source::kPex), 0u);
}

TEST(PeerSetTest, FullSetReplacesAFailingPeerFirst) {
  PeerSet set(Small(3));
  for (uint8_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(set.Add(Peer(i), Source::kTracker, kT0 + absl::Seconds(i)));
  }
  // Peer 2 (not the oldest) keeps failing.
  const absl::Time now = FailOut(set, Peer(2), kT0 + absl::Seconds(10),
                                 PeerSet::Options().max_failures);
  EXPECT_TRUE(set.Add(Peer(4), Source::kTracker, now));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_FALSE(set.Contains(Peer(2)));
  EXPECT_TRUE(set.Contains(Peer(1)));
  EXPECT_TRUE(set.Contains(Peer(3)));
  EXPECT_TRUE(set.Contains(Peer(4)));
}

TEST(PeerSetTest, FullSetReplacesTheOldestIdlePeer) {
  PeerSet set(Small(3));
  for (uint8_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(set.Add(Peer(i), Source::kTracker, kT0 + absl::Seconds(i)));
  }
  // The oldest is connected, so the next oldest goes.
  set.MarkConnected(Peer(1));
  EXPECT_TRUE(set.Add(Peer(4), Source::kDht, kT0 + absl::Seconds(5)));
  EXPECT_TRUE(set.Contains(Peer(1)));
  EXPECT_FALSE(set.Contains(Peer(2)));
  EXPECT_TRUE(set.Contains(Peer(3)));
  // A user's peer replaces too: now peer 3 is the oldest idle one.
  EXPECT_TRUE(set.Add(Peer(5), Source::kUser, kT0 + absl::Seconds(6)));
  EXPECT_FALSE(set.Contains(Peer(3)));
  EXPECT_TRUE(set.Contains(Peer(4)));
  EXPECT_TRUE(set.Contains(Peer(5)));
  EXPECT_EQ(set.size(), 3u);
}

TEST(PeerSetTest, FullSetOfConnectedPeersRefusesEveryone) {
  PeerSet set(Small(2));
  ASSERT_TRUE(set.Add(Peer(1), Source::kTracker, kT0));
  ASSERT_TRUE(set.Add(Peer(2), Source::kTracker, kT0));
  EXPECT_EQ(DialAll(set, kT0).size(), 2u);
  EXPECT_FALSE(set.Add(Peer(3), Source::kTracker, kT0));
  EXPECT_FALSE(set.Add(Peer(3), Source::kUser, kT0));
  EXPECT_EQ(set.size(), 2u);
}

TEST(PeerSetTest, ManyTrackerPeersStayWithinTheBound) {
  PeerSet set(Small(2000));
  int accepted = 0;
  for (int i = 0; i < 10000; ++i) {
    const Endpoint e = Endpoint::V4(
        {11, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1}, 6881);
    accepted += set.Add(e, i % 2 ? Source::kDht : Source::kTracker,
                        kT0 + absl::Milliseconds(i));
  }
  EXPECT_EQ(accepted, 10000);  // each replaced an older idle one
  EXPECT_EQ(set.size(), 2000u);
  // The newest are kept.
  EXPECT_TRUE(
      set.Contains(Endpoint::V4({11, 9999 >> 8, 9999 & 0xff, 1}, 6881)));
  EXPECT_FALSE(set.Contains(Endpoint::V4({11, 0, 0, 1}, 6881)));
}

// --- dialling, retries and failures
// ---------------------------------------------

TEST(PeerSetTest, DialsEachCandidateOnceUntilClosed) {
  PeerSet set;
  set.Add(Peer(1), Source::kTracker, kT0);
  set.Add(Peer(2), Source::kTracker, kT0);
  EXPECT_THAT(DialAll(set, kT0), UnorderedElementsAre(Peer(1), Peer(2)));
  EXPECT_THAT(DialAll(set, kT0 + absl::Hours(1)), IsEmpty());  // connected
}

TEST(PeerSetTest, FailedAttemptWaitsBeforeTheRetry) {
  PeerSet set;
  const absl::Duration retry = PeerSet::Options().retry_after;
  set.Add(Peer(1), Source::kTracker, kT0);
  ASSERT_THAT(DialAll(set, kT0), ElementsAre(Peer(1)));
  set.OnClosed(Peer(1), /*was_active=*/false, /*plain_retry=*/false, kT0);
  EXPECT_THAT(DialAll(set, kT0 + retry - absl::Seconds(1)), IsEmpty());
  EXPECT_THAT(DialAll(set, kT0 + retry), ElementsAre(Peer(1)));
}

TEST(PeerSetTest, GivesUpAfterMaxFailures) {
  PeerSet set;
  const absl::Duration retry = PeerSet::Options().retry_after;
  set.Add(Peer(1), Source::kTracker, kT0);
  absl::Time now = kT0;
  for (int i = 0; i < PeerSet::Options().max_failures; ++i) {
    ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1))) << "attempt " << i;
    set.OnClosed(Peer(1), false, false, now);
    now += retry;
  }
  EXPECT_THAT(DialAll(set, now + absl::Hours(10)), IsEmpty());
  // Still known (for bookkeeping) but not worth saving.
  EXPECT_TRUE(set.Contains(Peer(1)));
  EXPECT_THAT(set.ForResume(10), IsEmpty());
}

TEST(PeerSetTest, RetryNowRedialsWaitingAndFailedPeersAtOnce) {
  PeerSet set;
  set.Add(Peer(1), Source::kTracker, kT0);
  set.Add(Peer(2), Source::kTracker, kT0);
  absl::Time now = FailOut(set, Peer(2), kT0, PeerSet::Options().max_failures);
  // Peer 1 was just dialled and closed cleanly; peer 2 failed out.
  ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1)));
  set.OnClosed(Peer(1), /*was_active=*/true, /*plain_retry=*/false, now);
  EXPECT_THAT(DialAll(set, now), IsEmpty());
  set.RetryNow();
  EXPECT_THAT(DialAll(set, now), ElementsAre(Peer(1), Peer(2)));
}

TEST(PeerSetTest, AHandshakeForgivesEarlierFailures) {
  PeerSet set;
  const absl::Duration retry = PeerSet::Options().retry_after;
  set.Add(Peer(1), Source::kTracker, kT0);
  absl::Time now = kT0;
  for (int i = 0; i < PeerSet::Options().max_failures - 1; ++i) {
    ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1)));
    set.OnClosed(Peer(1), false, false, now);
    now += retry;
  }
  ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1)));
  set.OnHandshake(Peer(1), /*over_utp=*/false);
  set.OnClosed(Peer(1), /*was_active=*/true, false, now);
  now += retry;
  // Two more failures do not give up on it: the count started over.
  for (int i = 0; i < 2; ++i) {
    ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1)));
    set.OnClosed(Peer(1), false, false, now);
    now += retry;
  }
  EXPECT_THAT(DialAll(set, now), ElementsAre(Peer(1)));
}

TEST(PeerSetTest, ActiveConnectionEndingIsNoFailure) {
  PeerSet set;
  const absl::Duration retry = PeerSet::Options().retry_after;
  set.Add(Peer(1), Source::kTracker, kT0);
  absl::Time now = kT0;
  for (int i = 0; i < 2 * PeerSet::Options().max_failures; ++i) {
    ASSERT_THAT(DialAll(set, now), ElementsAre(Peer(1))) << i;
    set.OnClosed(Peer(1), /*was_active=*/true, false, now);
    now += retry;
  }
}

TEST(PeerSetTest, PlaintextRetryRedialsAtOnceWithoutMse) {
  PeerSet set;
  set.Add(Peer(1), Source::kTracker, kT0);
  std::optional<PeerSet::Dial> first = set.NextToConnect(kT0);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->plain_only);
  set.OnClosed(Peer(1), /*was_active=*/false, /*plain_retry=*/true, kT0);
  std::optional<PeerSet::Dial> again = set.NextToConnect(kT0);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->address, Peer(1));
  EXPECT_TRUE(again->plain_only);
  // And it stays plaintext, and was not counted as a failure.
  const absl::Duration retry = PeerSet::Options().retry_after;
  absl::Time now = kT0;
  for (int i = 0; i < PeerSet::Options().max_failures - 1; ++i) {
    set.OnClosed(Peer(1), false, false, now);
    now += retry;
    std::optional<PeerSet::Dial> d = set.NextToConnect(now);
    ASSERT_TRUE(d.has_value()) << i;
    EXPECT_TRUE(d->plain_only);
  }
}

TEST(PeerSetTest, MarkConnectedPreventsADuplicateDial) {
  PeerSet set;
  set.Add(Peer(1), Source::kPex, kT0);
  set.MarkConnected(Peer(1));  // it connected to us first
  EXPECT_THAT(DialAll(set, kT0), IsEmpty());
  set.OnClosed(Peer(1), true, false, kT0);
  EXPECT_THAT(DialAll(set, kT0), ElementsAre(Peer(1)));
}

// --- strikes and bans
// -----------------------------------------------------------

TEST(PeerSetTest, BanCoversEveryPortOfTheAddress) {
  PeerSet set;
  EXPECT_FALSE(set.Strike(Peer(5, 6881), 1));
  EXPECT_FALSE(set.Banned(Peer(5, 6881)));
  EXPECT_TRUE(set.Strike(Peer(5, 7000), 1));  // strikes add up per IP
  EXPECT_TRUE(set.Banned(Peer(5, 6881)));
  EXPECT_TRUE(set.Banned(Peer(5, 1)));
  EXPECT_FALSE(set.Banned(Peer(6, 6881)));
  EXPECT_FALSE(set.Add(Peer(5, 9999), Source::kUser, kT0));
  EXPECT_TRUE(set.Add(Peer(6, 9999), Source::kUser, kT0));
}

TEST(PeerSetTest, BanWeightBansAtOnceAndBannedCandidatesAreNotDialled) {
  PeerSet set;
  set.Add(Peer(5, 1000), Source::kTracker, kT0);
  set.Add(Peer(5, 2000), Source::kTracker, kT0);
  set.Add(Peer(6), Source::kTracker, kT0);
  EXPECT_TRUE(set.Strike(Peer(5, 3000), PeerSet::kBanWeight));
  EXPECT_THAT(DialAll(set, kT0), ElementsAre(Peer(6)));
}

TEST(PeerSetTest, StrikeRecordsAreBounded) {
  PeerSet::Options o;
  o.max_strike_records = 3;
  PeerSet set(o);
  // Three addresses banned fill the records; the bans stay.
  for (uint8_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE(set.Strike(Peer(i), PeerSet::kBanWeight));
  }
  EXPECT_FALSE(set.Strike(Peer(4), PeerSet::kBanWeight));
  EXPECT_FALSE(set.Banned(Peer(4)));
  for (uint8_t i = 1; i <= 3; ++i) EXPECT_TRUE(set.Banned(Peer(i))) << int(i);
}

TEST(PeerSetTest, StrikesWithoutABanMakeRoomForNewOnes) {
  PeerSet::Options o;
  o.max_strike_records = 3;
  PeerSet set(o);
  EXPECT_TRUE(set.Strike(Peer(1), PeerSet::kBanWeight));
  EXPECT_FALSE(set.Strike(Peer(2), 1));
  EXPECT_FALSE(set.Strike(Peer(3), 1));
  // Full: the unbanned records are forgotten to take the new one.
  EXPECT_TRUE(set.Strike(Peer(4), PeerSet::kBanWeight));
  EXPECT_TRUE(set.Banned(Peer(4)));
  EXPECT_TRUE(set.Banned(Peer(1)));
  // Peer 2's single strike was forgotten: one more does not ban it.
  EXPECT_FALSE(set.Strike(Peer(2), 1));
  EXPECT_FALSE(set.Banned(Peer(2)));
}

// --- resume
// ---------------------------------------------------------------------

TEST(PeerSetTest, ForResumePrefersPeersThatHandshakedAndHonoursTheLimit) {
  PeerSet set;
  for (uint8_t i = 1; i <= 6; ++i) set.Add(Peer(i), Source::kTracker, kT0);
  for (const Endpoint& e : DialAll(set, kT0)) {
    if (e == Peer(2) || e == Peer(5)) set.OnHandshake(e, /*over_utp=*/false);
    set.OnClosed(e, e == Peer(2) || e == Peer(5), false, kT0);
  }
  std::vector<Endpoint> two = set.ForResume(2);
  EXPECT_THAT(two, UnorderedElementsAre(Peer(2), Peer(5)));
  std::vector<Endpoint> three = set.ForResume(3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_THAT(std::vector<Endpoint>(three.begin(), three.begin() + 2),
              UnorderedElementsAre(Peer(2), Peer(5)));
  EXPECT_NE(three[2], Peer(2));
  EXPECT_NE(three[2], Peer(5));
  EXPECT_EQ(set.ForResume(100).size(), 6u);
  EXPECT_THAT(set.ForResume(0), IsEmpty());
}

// --- which transport a dial tries first -------------------------------------

// UtpFirst dials `peer` (the only candidate ready) and says whether uTP
// goes first; the dial is closed again as a success.
bool UtpFirst(PeerSet& set, const Endpoint& peer, absl::Time now) {
  std::optional<PeerSet::Dial> d = set.NextToConnect(now);
  EXPECT_TRUE(d.has_value());
  if (!d) return false;
  EXPECT_EQ(d->address, peer);
  set.OnClosed(peer, /*was_active=*/true, /*plain_retry=*/false, now);
  return d->utp_first;
}

TEST(PeerSetTest, OnlyAPeerKnownToBeReachedOverTcpIsDialledOverTcpFirst) {
  PeerSet set;
  set.Add(Peer(1), PeerSet::Source::kPex, kT0, PeerSet::Utp::kYes);
  EXPECT_TRUE(UtpFirst(set, Peer(1), kT0));
  set.Add(Peer(2), PeerSet::Source::kPex, kT0, PeerSet::Utp::kNo);
  EXPECT_FALSE(UtpFirst(set, Peer(2), kT0));
  set.Add(Peer(3), PeerSet::Source::kTracker, kT0);
  EXPECT_TRUE(UtpFirst(set, Peer(3), kT0));
}

// A hint for a known peer fills in only what is unknown; what our own
// handshake showed overrides any hint, and later hints do not undo it.
TEST(PeerSetTest, OurOwnHandshakeOutweighsHints) {
  const absl::Duration retry = PeerSet::Options().retry_after;
  PeerSet set;
  absl::Time now = kT0;
  ASSERT_TRUE(set.Add(Peer(1), PeerSet::Source::kTracker, now));
  EXPECT_FALSE(set.Add(Peer(1), PeerSet::Source::kPex, now, PeerSet::Utp::kNo));
  EXPECT_FALSE(UtpFirst(set, Peer(1), now));

  now += retry;
  ASSERT_TRUE(set.NextToConnect(now).has_value());
  set.OnHandshake(Peer(1), /*over_utp=*/true);
  set.OnClosed(Peer(1), /*was_active=*/true, /*plain_retry=*/false, now);
  set.Add(Peer(1), PeerSet::Source::kPex, now, PeerSet::Utp::kNo);
  now += retry;
  EXPECT_TRUE(UtpFirst(set, Peer(1), now));

  // A dial that fell back to TCP: TCP goes first from then on.
  now += retry;
  ASSERT_TRUE(set.NextToConnect(now).has_value());
  set.OnHandshake(Peer(1), /*over_utp=*/false);
  set.OnClosed(Peer(1), /*was_active=*/true, /*plain_retry=*/false, now);
  now += retry;
  EXPECT_FALSE(UtpFirst(set, Peer(1), now));
}

}  // namespace
}  // namespace bt::client
