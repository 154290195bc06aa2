#include "lsd/service.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lsd/message.h"

namespace bt::lsd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

Sha1Hash Hash(int i) {
  std::string s(20, static_cast<char>(i));
  return Sha1Hash::FromBytes(AsBytes(s));
}

const Endpoint kFrom = Endpoint::V4({192, 168, 1, 7}, 40000);
Endpoint Peer(uint16_t port) { return Endpoint::V4({192, 168, 1, 7}, port); }

class LsdServiceTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  Service lsd_{{.cookie = "ours"}};
};

TEST_F(LsdServiceTest, AnnouncesAtOnceThenEveryFiveMinutes) {
  lsd_.SetTorrents({Hash(1), Hash(2)}, now_);
  EXPECT_THAT(lsd_.Due(now_), ElementsAre(Hash(1), Hash(2)));
  EXPECT_THAT(lsd_.Due(now_), IsEmpty());
  now_ += absl::Minutes(4) + absl::Seconds(59);
  EXPECT_THAT(lsd_.Due(now_), IsEmpty());
  now_ += absl::Seconds(1);
  EXPECT_THAT(lsd_.Due(now_), ElementsAre(Hash(1), Hash(2)));
  EXPECT_EQ(lsd_.stats().announced, 4u);
}

TEST_F(LsdServiceTest, RoundsAreAMinuteApart) {
  lsd_.SetTorrents({Hash(1)}, now_);
  ASSERT_THAT(lsd_.Due(now_), SizeIs(1));
  // A torrent added after a round waits for the next one.
  lsd_.SetTorrents({Hash(1), Hash(2)}, now_ + absl::Seconds(5));
  EXPECT_THAT(lsd_.Due(now_ + absl::Seconds(59)), IsEmpty());
  EXPECT_THAT(lsd_.Due(now_ + absl::Seconds(60)), ElementsAre(Hash(2)));
}

TEST_F(LsdServiceTest, RemovingAndAddingBackDoesNotAnnounceSooner) {
  lsd_.SetTorrents({Hash(1)}, now_);
  ASSERT_THAT(lsd_.Due(now_), SizeIs(1));
  lsd_.SetTorrents({}, now_ + absl::Minutes(1));
  EXPECT_EQ(lsd_.tracked(), 1u);  // remembered until its interval passed
  lsd_.SetTorrents({Hash(1)}, now_ + absl::Minutes(2));
  EXPECT_THAT(lsd_.Due(now_ + absl::Minutes(2)), IsEmpty());
  EXPECT_THAT(lsd_.Due(now_ + absl::Minutes(5)), ElementsAre(Hash(1)));
  // Forgotten once the interval has passed.
  lsd_.SetTorrents({}, now_ + absl::Minutes(10));
  EXPECT_EQ(lsd_.tracked(), 0u);
}

TEST_F(LsdServiceTest, RoundsAreCapped) {
  Service lsd({.cookie = "c", .max_per_round = 3});
  std::vector<Sha1Hash> all;
  for (int i = 0; i < 7; ++i) all.push_back(Hash(i));
  lsd.SetTorrents(all, now_);
  EXPECT_THAT(lsd.Due(now_), SizeIs(3));
  EXPECT_THAT(lsd.Due(now_ + absl::Minutes(1)), SizeIs(3));
  EXPECT_THAT(lsd.Due(now_ + absl::Minutes(2)), SizeIs(1));
  EXPECT_THAT(lsd.Due(now_ + absl::Minutes(3)), IsEmpty());
}

TEST_F(LsdServiceTest, FindsPeersForOurTorrentsOnly) {
  lsd_.SetTorrents({Hash(1), Hash(2)}, now_);
  const std::string d =
      EncodeAnnounce(kHostV4, 6881, {Hash(3), Hash(2), Hash(2)}, "theirs");
  EXPECT_THAT(lsd_.HandleDatagram(d, kFrom, now_),
              ElementsAre(Found{Hash(2), Peer(6881)}));
  EXPECT_EQ(lsd_.stats().peers_found, 1u);
  // Removed torrents take no more peers.
  lsd_.SetTorrents({Hash(1)}, now_);
  EXPECT_THAT(lsd_.HandleDatagram(d, kFrom, now_), IsEmpty());
}

TEST_F(LsdServiceTest, IgnoresItsOwnAnnounces) {
  lsd_.SetTorrents({Hash(1)}, now_);
  const std::vector<Sha1Hash> due = lsd_.Due(now_);
  for (const std::string& d :
       EncodeAnnounces(kHostV4, 6881, due, lsd_.cookie())) {
    EXPECT_THAT(lsd_.HandleDatagram(d, kFrom, now_), IsEmpty());
  }
  EXPECT_EQ(lsd_.stats().own, 1u);
}

TEST_F(LsdServiceTest, CountsMalformedDatagramsAndSaysWhy) {
  lsd_.SetTorrents({Hash(1)}, now_);
  EXPECT_THAT(lsd_.HandleDatagram("GET / HTTP/1.1\r\n\r\n", kFrom, now_),
              IsEmpty());
  EXPECT_EQ(lsd_.stats().malformed, 1u);
  EXPECT_THAT(lsd_.last_error().message(), ::testing::HasSubstr("line 1"));
}

TEST_F(LsdServiceTest, NoPeersFromAddressesThatCannotBeDialled) {
  lsd_.SetTorrents({Hash(1)}, now_);
  const std::string valid = EncodeAnnounce(kHostV4, 1, {Hash(1)}, "x");
  for (const char* unreachable :
       {"0.0.0.0:9", "239.1.2.3:9", "[fe80::1]:9", "[ff15::1]:9", "[::]:9"}) {
    EXPECT_THAT(lsd_.HandleDatagram(valid, *Endpoint::Parse(unreachable), now_),
                IsEmpty())
        << unreachable;
  }
  EXPECT_THAT(lsd_.HandleDatagram(valid, *Endpoint::Parse("[fd00::1]:9"), now_),
              ElementsAre(Found{Hash(1), *Endpoint::Parse("[fd00::1]:1")}));
}

// A flood of valid announces (a new port each, as an attacker would send)
// yields peers at the peer rate only, and datagrams beyond the datagram
// rate are not even parsed.
TEST_F(LsdServiceTest, FloodsAreBoundedByTheRates) {
  lsd_.SetTorrents({Hash(1)}, now_);
  size_t found = 0;
  const int kSeconds = 10, kPerSecond = 1000;
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) {
      const std::string d =
          EncodeAnnounce(kHostV4, static_cast<uint16_t>(1 + s * kPerSecond + i),
                         {Hash(1)}, "x");
      found += lsd_.HandleDatagram(d, kFrom, now_ + absl::Seconds(s)).size();
    }
  }
  const ServiceOptions o;
  EXPECT_LE(found, o.peer_burst + o.peer_rate * kSeconds);
  EXPECT_GE(found, o.peer_burst);
  EXPECT_LE(lsd_.stats().received - lsd_.stats().rate_limited,
            o.datagram_burst + o.datagram_rate * kSeconds);
  EXPECT_EQ(lsd_.tracked(), 1u);  // no per-sender state
}

}  // namespace
}  // namespace bt::lsd
