#include "dht/routing_table.h"

#include <random>
#include <set>

#include "dht/node_id.h"
#include "gtest/gtest.h"

namespace bt::dht {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

NodeId RandomId(std::mt19937_64& rng) {
  NodeId id;
  for (size_t i = 0; i < NodeId::kSize; ++i) id[i] = static_cast<uint8_t>(rng());
  return id;
}

Endpoint Ep(uint32_t n, uint16_t port = 6881) {
  return Endpoint::V4({static_cast<uint8_t>(1 + (n >> 24) % 200),
                       static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                       static_cast<uint8_t>(n)},
                      port);
}

// An id sharing exactly `bits` leading bits with `own`.
NodeId IdWithPrefix(const NodeId& own, int bits, std::mt19937_64& rng) {
  NodeId id = RandomId(rng);
  for (int b = 0; b < bits; ++b) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (b % 8));
    id[b / 8] = static_cast<uint8_t>((id[b / 8] & ~mask) | (own[b / 8] & mask));
  }
  uint8_t mask = static_cast<uint8_t>(0x80 >> (bits % 8));
  id[bits / 8] = static_cast<uint8_t>((id[bits / 8] & ~mask) |
                                      (~own[bits / 8] & mask));
  return id;
}

TEST(RoutingTableTest, FirstBucketHoldsK) {
  std::mt19937_64 rng(1);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  // All far nodes (prefix 0) share one bucket: only K fit, the rest are
  // cached as replacements, and splitting keeps our side open.
  for (uint32_t i = 0; i < 20; ++i) {
    t.OnResponse({IdWithPrefix(own, 0, rng), Ep(i)}, kT0);
  }
  EXPECT_EQ(t.size(), 8u);
  EXPECT_EQ(t.replacement_count(), 8u);  // capped
  EXPECT_EQ(t.bucket_count(), 2u);
}

TEST(RoutingTableTest, SplitsAroundOwnIdOnly) {
  std::mt19937_64 rng(2);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  uint32_t n = 0;
  for (int bits = 0; bits < 12; ++bits) {
    for (int i = 0; i < 10; ++i) {
      t.OnResponse({IdWithPrefix(own, bits, rng), Ep(n++)}, kT0);
    }
  }
  // Each prefix length got its own bucket of K.
  EXPECT_GE(t.bucket_count(), 12u);
  EXPECT_EQ(t.size(), 12u * 8u);
  EXPECT_EQ(t.GoodCount(kT0), 12u * 8u);
  // Table stays bounded however many nodes arrive.
  for (int i = 0; i < 5000; ++i) t.OnResponse({RandomId(rng), Ep(n++)}, kT0);
  EXPECT_LE(t.size(), 160u * 8u);
  EXPECT_LE(t.replacement_count(), 160u * 8u);
}

TEST(RoutingTableTest, ClosestIsSortedAndExact) {
  std::mt19937_64 rng(3);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  for (uint32_t i = 0; i < 300; ++i) t.OnResponse({RandomId(rng), Ep(i)}, kT0);
  std::vector<NodeInfo> all = t.AllContacts();
  NodeId target = RandomId(rng);
  std::vector<NodeInfo> closest = t.Closest(target, 8);
  ASSERT_EQ(closest.size(), 8u);
  std::sort(all.begin(), all.end(), [&](const NodeInfo& a, const NodeInfo& b) {
    return CloserTo(target, a.id, b.id);
  });
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(closest[i].id, all[i].id);
}

TEST(RoutingTableTest, LivenessGoodQuestionableBad) {
  std::mt19937_64 rng(4);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  NodeInfo a{RandomId(rng), Ep(1)};
  t.OnResponse(a, kT0);
  const Contact* c = t.Find(a.id);
  ASSERT_NE(c, nullptr);
  auto opts = t.options();
  EXPECT_TRUE(c->IsGood(kT0 + absl::Minutes(14), opts.good_interval, 2));
  EXPECT_FALSE(c->IsGood(kT0 + absl::Minutes(16), opts.good_interval, 2));
  EXPECT_EQ(t.Questionable(kT0 + absl::Minutes(16), 10).size(), 1u);
  // A query from it within 15 minutes keeps it good (it answered before).
  t.OnQuery(a, kT0 + absl::Minutes(20));
  EXPECT_TRUE(t.Find(a.id)->IsGood(kT0 + absl::Minutes(30), opts.good_interval, 2));
  // Two timeouts in a row make it bad; bad contacts are not returned.
  t.OnTimeout(a);
  EXPECT_EQ(t.Closest(a.id, 8).size(), 1u);
  t.OnTimeout(a);
  EXPECT_TRUE(t.Find(a.id)->IsBad(2));
  EXPECT_TRUE(t.Closest(a.id, 8).empty());
  // An answer restores it.
  t.OnResponse(a, kT0 + absl::Minutes(31));
  EXPECT_EQ(t.Closest(a.id, 8).size(), 1u);
}

TEST(RoutingTableTest, FullBucketAsksToPingQuestionableAndReplacesBad) {
  std::mt19937_64 rng(5);
  NodeId own = RandomId(rng);
  RoutingTableOptions o;
  RoutingTable t(own, o);
  // Fill the far bucket, forcing a split first so it cannot split again.
  std::vector<NodeInfo> far;
  for (uint32_t i = 0; i < 8; ++i) {
    far.push_back({IdWithPrefix(own, 0, rng), Ep(i)});
    t.OnResponse(far.back(), kT0);
  }
  t.OnResponse({IdWithPrefix(own, 1, rng), Ep(100)}, kT0);  // splits
  NodeInfo newcomer{IdWithPrefix(own, 0, rng), Ep(200)};
  // All good: no ping suggested, newcomer cached.
  EXPECT_FALSE(t.OnResponse(newcomer, kT0 + absl::Minutes(1)).has_value());
  EXPECT_EQ(t.Find(newcomer.id), nullptr);
  // Later, the old ones are questionable: a ping target is suggested.
  std::optional<NodeInfo> ping =
      t.OnResponse(newcomer, kT0 + absl::Minutes(20));
  ASSERT_TRUE(ping.has_value());
  EXPECT_NE(ping->id, newcomer.id);
  // It times out twice: the cached newcomer takes its place.
  t.OnTimeout(*ping);
  t.OnTimeout(*ping);
  EXPECT_EQ(t.Find(ping->id), nullptr);
  ASSERT_NE(t.Find(newcomer.id), nullptr);
}

TEST(RoutingTableTest, OneContactPerIpExceptLoopback) {
  std::mt19937_64 rng(6);
  RoutingTable t(RandomId(rng));
  t.OnResponse({RandomId(rng), Ep(7, 1000)}, kT0);
  t.OnResponse({RandomId(rng), Ep(7, 1001)}, kT0);
  EXPECT_EQ(t.size(), 1u);
  for (uint16_t p = 1; p <= 5; ++p) {
    t.OnResponse({RandomId(rng), Endpoint::V4({127, 0, 0, 1}, p)}, kT0);
  }
  EXPECT_EQ(t.size(), 6u);
}

TEST(RoutingTableTest, LiveContactKeepsItsAddress) {
  std::mt19937_64 rng(7);
  RoutingTable t(RandomId(rng));
  NodeInfo a{RandomId(rng), Ep(1)};
  t.OnResponse(a, kT0);
  t.OnResponse({a.id, Ep(2)}, kT0);
  EXPECT_EQ(t.Find(a.id)->node.endpoint, Ep(1));
}

TEST(RoutingTableTest, UnconfirmedFromQueriesAreNotServedByDefault) {
  std::mt19937_64 rng(8);
  RoutingTable t(RandomId(rng));
  NodeInfo a{RandomId(rng), Ep(1)};
  t.OnQuery(a, kT0);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.Closest(a.id, 8).empty());
  EXPECT_EQ(t.Closest(a.id, 8, /*include_unconfirmed=*/true).size(), 1u);
  EXPECT_EQ(t.Questionable(kT0, 8).size(), 1u);
  // One timeout drops an unconfirmed contact to bad.
  t.OnTimeout(a);
  EXPECT_TRUE(t.Closest(a.id, 8, true).empty());
}

TEST(RoutingTableTest, StaleBucketsGetRefreshTargetsInRange) {
  std::mt19937_64 rng(9);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  uint32_t n = 0;
  for (int bits = 0; bits < 4; ++bits) {
    for (int i = 0; i < 9; ++i) t.OnResponse({IdWithPrefix(own, bits, rng), Ep(n++)}, kT0);
  }
  size_t buckets = t.bucket_count();
  EXPECT_TRUE(t.StaleBuckets(kT0 + absl::Minutes(5), RandomId(rng)).empty());
  std::vector<NodeId> targets =
      t.StaleBuckets(kT0 + absl::Minutes(16), RandomId(rng));
  ASSERT_EQ(targets.size(), buckets);
  for (size_t i = 0; i + 1 < targets.size(); ++i) {
    EXPECT_EQ(CommonPrefixBits(own, targets[i]), static_cast<int>(i));
  }
  EXPECT_GE(CommonPrefixBits(own, targets.back()),
            static_cast<int>(buckets - 1));
  // Reported once per interval.
  EXPECT_TRUE(t.StaleBuckets(kT0 + absl::Minutes(17), RandomId(rng)).empty());
}

TEST(RoutingTableTest, IgnoresOwnId) {
  std::mt19937_64 rng(10);
  NodeId own = RandomId(rng);
  RoutingTable t(own);
  t.OnResponse({own, Ep(1)}, kT0);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace bt::dht

namespace bt::dht {
namespace {

TEST(RoutingTableTest, EnforcementRefusesIdsThatDoNotMatchTheAddress) {
  std::mt19937_64 rng(9);
  RoutingTableOptions o;
  o.enforce_node_id = true;
  RoutingTable t(RandomId(rng), o);
  const Endpoint host = Endpoint::V4({124, 31, 75, 21}, 6881);
  NodeId forged = RandomId(rng);
  while (IsSecureNodeId(forged, host.address_bytes())) forged = RandomId(rng);
  // Neither an answer nor a query gets it in, not even as a replacement.
  t.OnResponse({forged, host}, kT0);
  t.OnQuery({forged, host}, kT0);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.replacement_count(), 0u);
  // An id made for that address is welcome.
  NodeId secure = SecureNodeId(host.address_bytes(), 1, RandomId(rng));
  t.OnResponse({secure, host}, kT0);
  ASSERT_NE(t.Find(secure), nullptr);
  // It cannot take its id to an address the id does not match.
  t.OnTimeout({secure, host});
  t.OnTimeout({secure, host});
  ASSERT_TRUE(t.Find(secure)->IsBad(o.max_failures));
  const Endpoint elsewhere = Endpoint::V4({124, 31, 75, 99}, 6881);
  ASSERT_FALSE(IsSecureNodeId(secure, elsewhere.address_bytes()));
  t.OnResponse({secure, elsewhere}, kT0);
  EXPECT_EQ(t.Find(secure)->node.endpoint, host);
  // Loopback and private addresses are exempt (BEP 42).
  for (const Endpoint& local :
       {Endpoint::V4({127, 0, 0, 1}, 1), Endpoint::V4({10, 1, 2, 3}, 1),
        Endpoint::V4({192, 168, 1, 1}, 1)}) {
    NodeId any = RandomId(rng);
    t.OnResponse({any, local}, kT0);
    EXPECT_NE(t.Find(any), nullptr) << local.ToString();
  }
}

TEST(RoutingTableTest, WithoutEnforcementAnyIdIsTaken) {
  std::mt19937_64 rng(10);
  RoutingTable t(RandomId(rng));
  const Endpoint host = Endpoint::V4({124, 31, 75, 21}, 6881);
  NodeId forged = RandomId(rng);
  while (IsSecureNodeId(forged, host.address_bytes())) forged = RandomId(rng);
  t.OnResponse({forged, host}, kT0);
  EXPECT_NE(t.Find(forged), nullptr);
}

}  // namespace
}  // namespace bt::dht
