// Tests of the serving-side pieces: tokens, the peer store, rate limits.
#include <random>

#include "dht/peer_store.h"
#include "dht/rate_limiter.h"
#include "dht/token_issuer.h"
#include "gtest/gtest.h"

namespace bt::dht {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

TokenIssuer MakeIssuer(absl::Time now) {
  auto counter = std::make_shared<uint8_t>(0);
  return TokenIssuer(
      [counter] {
        std::array<uint8_t, 16> s{};
        s[0] = ++*counter;
        return s;
      },
      now);
}

TEST(TokenIssuerTest, ValidForTheSameAddressUpToTenMinutes) {
  TokenIssuer t = MakeIssuer(kT0);
  const uint8_t ip[4] = {1, 2, 3, 4};
  const uint8_t other[4] = {1, 2, 3, 5};
  std::string token = t.Issue(ByteSpan(ip, 4), kT0);
  EXPECT_EQ(token.size(), kTokenSize);
  EXPECT_TRUE(t.Check(token, ByteSpan(ip, 4), kT0 + absl::Minutes(1)));
  EXPECT_FALSE(t.Check(token, ByteSpan(other, 4), kT0 + absl::Minutes(1)));
  EXPECT_TRUE(t.Check(token, ByteSpan(ip, 4), kT0 + absl::Minutes(6)));
  EXPECT_TRUE(t.Check(token, ByteSpan(ip, 4), kT0 + absl::Minutes(9)));
  EXPECT_FALSE(t.Check(token, ByteSpan(ip, 4), kT0 + absl::Minutes(11)));
}

TEST(TokenIssuerTest, ForgedTokensFail) {
  TokenIssuer t = MakeIssuer(kT0);
  const uint8_t ip[4] = {1, 2, 3, 4};
  std::string token = t.Issue(ByteSpan(ip, 4), kT0);
  std::string forged = token;
  forged[0] ^= 1;
  EXPECT_FALSE(t.Check(forged, ByteSpan(ip, 4), kT0));
  EXPECT_FALSE(t.Check("", ByteSpan(ip, 4), kT0));
  EXPECT_FALSE(t.Check(token + "x", ByteSpan(ip, 4), kT0));
  // After a long pause both secrets are new.
  EXPECT_FALSE(t.Check(token, ByteSpan(ip, 4), kT0 + absl::Hours(2)));
}

Sha1Hash Hash(uint8_t b) {
  Sha1Hash h;
  h[0] = b;
  return h;
}

TEST(PeerStoreTest, StoresExpiresAndFiltersFamily) {
  PeerStore s;
  std::mt19937_64 rng(1);
  Endpoint a = Endpoint::V4({1, 1, 1, 1}, 1);
  std::array<uint8_t, 16> v6{0x20, 1};
  Endpoint b = Endpoint::V6(v6, 2);
  EXPECT_TRUE(s.Add(Hash(1), a, kT0));
  EXPECT_TRUE(s.Add(Hash(1), b, kT0));
  EXPECT_TRUE(s.Add(Hash(1), a, kT0));  // refresh, no duplicate
  EXPECT_EQ(s.peer_count(), 2u);
  EXPECT_EQ(s.Get(Hash(1), false, 10, kT0, rng), std::vector<Endpoint>{a});
  EXPECT_EQ(s.Get(Hash(1), true, 10, kT0, rng), std::vector<Endpoint>{b});
  EXPECT_TRUE(s.Get(Hash(2), false, 10, kT0, rng).empty());
  EXPECT_TRUE(s.Get(Hash(1), false, 10, kT0 + absl::Minutes(31), rng).empty());
  s.Expire(kT0 + absl::Minutes(31));
  EXPECT_EQ(s.hash_count(), 0u);
}

TEST(PeerStoreTest, LimitsPerHashAndTotal) {
  PeerStoreOptions o;
  o.max_peers_per_hash = 5;
  o.max_hashes = 3;
  PeerStore s(o);
  std::mt19937_64 rng(2);
  for (uint8_t i = 0; i < 50; ++i) {
    s.Add(Hash(1), Endpoint::V4({9, 9, 9, i}, 1), kT0 + absl::Seconds(i));
  }
  EXPECT_EQ(s.peer_count(), 5u);
  // The newest survive.
  std::vector<Endpoint> got = s.Get(Hash(1), false, 10, kT0 + absl::Seconds(60), rng);
  ASSERT_EQ(got.size(), 5u);
  for (const Endpoint& e : got) EXPECT_GE(e.address_bytes()[3], 45);
  EXPECT_EQ(s.Get(Hash(1), false, 2, kT0 + absl::Seconds(60), rng).size(), 2u);
  EXPECT_TRUE(s.Add(Hash(2), Endpoint::V4({1, 1, 1, 1}, 1), kT0));
  EXPECT_TRUE(s.Add(Hash(3), Endpoint::V4({1, 1, 1, 1}, 1), kT0));
  EXPECT_FALSE(s.Add(Hash(4), Endpoint::V4({1, 1, 1, 1}, 1), kT0));
  EXPECT_EQ(s.hash_count(), 3u);
  // Once old entries expire there is room again.
  EXPECT_TRUE(s.Add(Hash(4), Endpoint::V4({1, 1, 1, 1}, 1), kT0 + absl::Hours(1)));
}

TEST(RateLimiterTest, PerSourceBurstThenRate) {
  RateLimiterOptions o;
  o.per_source_rate = 10;
  o.per_source_burst = 20;
  RateLimiter r(o);
  const Endpoint other = Endpoint::V4({1, 2, 3, 5}, 1);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    // One bucket per address, whatever the port.
    allowed += r.Allow(Endpoint::V4({1, 2, 3, 4}, static_cast<uint16_t>(i)), kT0);
  }
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(r.Allow(other, kT0));  // others unaffected
  allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    allowed += r.Allow(Endpoint::V4({1, 2, 3, 4}, 1), kT0 + absl::Seconds(1));
  }
  EXPECT_EQ(allowed, 10);
  EXPECT_GT(r.dropped(), 1900u);
}

TEST(RateLimiterTest, GlobalLimitAndBoundedSources) {
  RateLimiterOptions o;
  o.global_rate = 100;
  o.global_burst = 100;
  o.max_sources = 50;
  RateLimiter r(o);
  int allowed = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    Endpoint ip = Endpoint::V4({10, static_cast<uint8_t>(i >> 16),
                                static_cast<uint8_t>(i >> 8),
                                static_cast<uint8_t>(i)},
                               1);
    allowed += r.Allow(ip, kT0);
  }
  EXPECT_LE(allowed, 50);
  EXPECT_LE(r.tracked_sources(), 50u);
  // Later, idle sources are evicted and new ones served again.
  EXPECT_TRUE(r.Allow(Endpoint::V4({11, 0, 0, 1}, 1), kT0 + absl::Minutes(1)));
}

}  // namespace
}  // namespace bt::dht

namespace bt::dht {
namespace {

TEST(RateLimiterTest, LoopbackSharesOnlyTheGlobalBucket) {
  RateLimiterOptions o;
  o.per_source_burst = 5;
  o.global_burst = 100;
  RateLimiter r(o);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    allowed += r.Allow(Endpoint::V4({127, 0, 0, 1}, 1), kT0);
  }
  EXPECT_EQ(allowed, 100);
  std::array<uint8_t, 16> v6_loopback{};
  v6_loopback[15] = 1;
  EXPECT_FALSE(r.Allow(Endpoint::V6(v6_loopback, 1), kT0));  // global empty
}

}  // namespace
}  // namespace bt::dht
