#include "dht/lookup.h"

#include <algorithm>
#include <random>

#include "dht/node_id.h"
#include "gtest/gtest.h"

namespace bt::dht {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

class LookupTest : public ::testing::Test {
 protected:
  LookupTest() : rng_(11) {
    for (uint32_t i = 0; i < 1000; ++i) {
      NodeInfo n;
      for (size_t b = 0; b < 20; ++b) n.id[b] = static_cast<uint8_t>(rng_());
      n.endpoint = Endpoint::V4({10, static_cast<uint8_t>(i >> 16),
                                 static_cast<uint8_t>(i >> 8),
                                 static_cast<uint8_t>(i)},
                                1000);
      all_.push_back(n);
    }
    for (size_t b = 0; b < 20; ++b) target_[b] = static_cast<uint8_t>(rng_());
  }

  std::vector<NodeInfo> ClosestTo(const NodeId& t, size_t k) const {
    std::vector<NodeInfo> v = all_;
    std::sort(v.begin(), v.end(), [&](const NodeInfo& a, const NodeInfo& b) {
      return CloserTo(t, a.id, b.id);
    });
    v.resize(k);
    return v;
  }
  const NodeInfo* ByEndpoint(const Endpoint& e) const {
    for (const NodeInfo& n : all_) {
      if (n.endpoint == e) return &n;
    }
    return nullptr;
  }
  // Each node answers with the 8 nodes nearest the target among a random
  // quarter of the network (an imperfect routing table).
  std::vector<NodeInfo> AnswerOf(const NodeInfo& n) {
    std::vector<NodeInfo> known;
    std::mt19937_64 r(n.endpoint.address_bytes()[3] * 7919 + n.endpoint.address_bytes()[2]);
    for (const NodeInfo& m : all_) {
      if (r() % 4 == 0) known.push_back(m);
    }
    std::sort(known.begin(), known.end(), [&](const NodeInfo& a, const NodeInfo& b) {
      return CloserTo(target_, a.id, b.id);
    });
    known.resize(std::min<size_t>(8, known.size()));
    return known;
  }

  std::mt19937_64 rng_;
  std::vector<NodeInfo> all_;
  NodeId target_;
};

TEST_F(LookupTest, ConvergesOnTheTrueClosestWithinAlpha) {
  LookupOptions o;
  o.alpha = 3;
  Lookup lookup(target_, o, kT0);
  for (int i = 0; i < 8; ++i) lookup.AddCandidate(all_[i]);
  absl::Time now = kT0;
  size_t rounds = 0;
  while (!lookup.Done(now)) {
    std::vector<Endpoint> q = lookup.NextQueries(now);
    ASSERT_LE(q.size(), 3u);
    ASSERT_FALSE(q.empty());
    for (const Endpoint& e : q) {
      const NodeInfo* n = ByEndpoint(e);
      lookup.OnResponse(e, n->id, true, AnswerOf(*n), std::string("tok"), now);
    }
    now += absl::Milliseconds(50);
    ASSERT_LT(++rounds, 100u);
  }
  std::vector<LookupHit> hits = lookup.Closest();
  std::vector<NodeInfo> truth = ClosestTo(target_, 8);
  ASSERT_EQ(hits.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(hits[i].node.id, truth[i].id) << i;
    EXPECT_TRUE(hits[i].has_token);
  }
  EXPECT_LE(lookup.queries_sent(), 60u);
  EXPECT_EQ(lookup.in_flight(), 0u);
}

TEST_F(LookupTest, TimeoutIsRetriedOnceThenFails) {
  Lookup lookup(target_, LookupOptions(), kT0);
  lookup.AddCandidate(all_[0]);
  std::vector<Endpoint> q = lookup.NextQueries(kT0);
  ASSERT_EQ(q.size(), 1u);
  lookup.OnFailure(q[0], /*timed_out=*/true);
  EXPECT_FALSE(lookup.Done(kT0));
  q = lookup.NextQueries(kT0);
  ASSERT_EQ(q.size(), 1u);  // asked again
  lookup.OnFailure(q[0], true);
  EXPECT_TRUE(lookup.NextQueries(kT0).empty());
  EXPECT_TRUE(lookup.Done(kT0));
  EXPECT_TRUE(lookup.Closest().empty());
}

TEST_F(LookupTest, BudgetsBoundQueriesAndTime) {
  LookupOptions o;
  o.max_queries = 5;
  o.max_duration = absl::Seconds(10);
  Lookup lookup(target_, o, kT0);
  for (int i = 0; i < 50; ++i) lookup.AddCandidate(all_[i]);
  size_t sent = 0;
  absl::Time now = kT0;
  for (int round = 0; round < 20; ++round) {
    for (const Endpoint& e : lookup.NextQueries(now)) {
      ++sent;
      const NodeInfo* n = ByEndpoint(e);
      lookup.OnResponse(e, n->id, true, AnswerOf(*n), std::nullopt, now);
    }
  }
  EXPECT_EQ(sent, 5u);
  EXPECT_TRUE(lookup.Done(now));
  // Time budget: a lookup with an unanswered query ends at max_duration.
  Lookup slow(target_, o, kT0);
  slow.AddCandidate(all_[0]);
  ASSERT_EQ(slow.NextQueries(kT0).size(), 1u);
  EXPECT_FALSE(slow.Done(kT0 + absl::Seconds(9)));
  EXPECT_TRUE(slow.Done(kT0 + absl::Seconds(10)));
}

TEST_F(LookupTest, SlowQueriesFreeTheirSlot) {
  LookupOptions o;
  o.alpha = 1;
  Lookup lookup(target_, o, kT0);
  lookup.AddCandidate(all_[0]);
  lookup.AddCandidate(all_[1]);
  EXPECT_EQ(lookup.NextQueries(kT0).size(), 1u);
  EXPECT_TRUE(lookup.NextQueries(kT0 + absl::Milliseconds(500)).empty());
  EXPECT_EQ(lookup.NextQueries(kT0 + absl::Seconds(2)).size(), 1u);
}

TEST_F(LookupTest, EnforcementSkipsNodesWhoseIdDoesNotMatch) {
  LookupOptions o;
  o.enforce_node_id = true;
  o.k = 2;
  Lookup lookup(target_, o, kT0);
  std::vector<NodeInfo> near = ClosestTo(target_, 3);
  for (const NodeInfo& n : near) lookup.AddCandidate(n);
  std::vector<Endpoint> q = lookup.NextQueries(kT0);
  ASSERT_EQ(q.size(), 2u);
  // The nearest answers but is "insecure": the third must be asked.
  lookup.OnResponse(near[0].endpoint, near[0].id, false, {}, std::string("t"), kT0);
  lookup.OnResponse(near[1].endpoint, near[1].id, true, {}, std::string("t"), kT0);
  EXPECT_FALSE(lookup.Done(kT0));
  q = lookup.NextQueries(kT0);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0], near[2].endpoint);
  lookup.OnResponse(near[2].endpoint, near[2].id, true, {}, std::string("t"), kT0);
  EXPECT_TRUE(lookup.Done(kT0));
  std::vector<LookupHit> hits = lookup.Closest();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].node.id, near[1].id);
  EXPECT_EQ(hits[1].node.id, near[2].id);
}

TEST_F(LookupTest, AnswerWithAnotherIdCountsAsFailure) {
  Lookup lookup(target_, LookupOptions(), kT0);
  lookup.AddCandidate(all_[0]);
  std::vector<Endpoint> q = lookup.NextQueries(kT0);
  lookup.OnResponse(q[0], all_[1].id, true, {}, std::nullopt, kT0);
  EXPECT_TRUE(lookup.Closest().empty());
}

TEST_F(LookupTest, BootstrapEndpointsAreAskedFirstAndPlacedByTheirAnswer) {
  Lookup lookup(target_, LookupOptions(), kT0);
  lookup.AddCandidate(all_[5]);
  lookup.AddBootstrap(all_[7].endpoint);
  std::vector<Endpoint> q = lookup.NextQueries(kT0);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0], all_[7].endpoint);
  lookup.OnResponse(all_[7].endpoint, all_[7].id, true, {}, std::nullopt, kT0);
  lookup.OnResponse(all_[5].endpoint, all_[5].id, true, {}, std::nullopt, kT0);
  EXPECT_TRUE(lookup.Done(kT0));
  EXPECT_EQ(lookup.Closest().size(), 2u);
}

}  // namespace
}  // namespace bt::dht
