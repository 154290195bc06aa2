// ContactHints on their own, then a Node taking a flood of PORT-message
// hints: bounded memory, bounded pings, nothing in the table or the
// bootstrap list that did not answer.
#include "dht/contact_hints.h"

#include <string>
#include <vector>

#include "dht/krpc.h"
#include "dht/node.h"
#include "gtest/gtest.h"
#include "tests/dht/node_harness.h"

namespace bt::dht::testing {
namespace {

Endpoint Host(uint32_t i) {
  return Endpoint::V4({static_cast<uint8_t>(30 + (i >> 16) % 200),
                       static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 7},
                      6881);
}

TEST(ContactHintsTest, EachEndpointIsPingedOnceWhileRemembered) {
  ContactHints hints;
  EXPECT_TRUE(hints.Add(Host(1), kT0));
  EXPECT_FALSE(hints.Add(Host(1), kT0));  // already waiting
  EXPECT_EQ(hints.Due(kT0, 10), std::vector<Endpoint>{Host(1)});
  EXPECT_FALSE(hints.Add(Host(1), kT0 + absl::Minutes(5)));  // pinged
  EXPECT_TRUE(hints.Due(kT0 + absl::Minutes(5), 10).empty());
  // Forgotten after the lifetime: it may be hinted and pinged again.
  EXPECT_TRUE(hints.Add(Host(1), kT0 + absl::Minutes(10)));
  EXPECT_EQ(hints.Due(kT0 + absl::Minutes(10), 10).size(), 1u);
}

TEST(ContactHintsTest, BoundedAndRateLimited) {
  ContactHintOptions o;
  o.max_hints = 16;
  o.pings_per_second = 2;
  o.ping_burst = 4;
  ContactHints hints(o);
  for (uint32_t i = 0; i < 10'000; ++i) hints.Add(Host(i), kT0);
  EXPECT_EQ(hints.size(), 16u);
  EXPECT_EQ(hints.waiting(), 16u);
  // The burst, then the rate; oldest first.
  std::vector<Endpoint> due = hints.Due(kT0, 100);
  ASSERT_EQ(due.size(), 4u);
  EXPECT_EQ(due[0], Host(0));
  EXPECT_TRUE(hints.Due(kT0 + absl::Milliseconds(100), 100).empty());
  EXPECT_EQ(hints.Due(kT0 + absl::Seconds(1), 100).size(), 2u);
  EXPECT_EQ(hints.Due(kT0 + absl::Seconds(3), 1).size(), 1u);  // `max`
  // Pinged hints make room for new ones; waiting ones are never pushed out.
  EXPECT_EQ(hints.waiting(), 16u - 7u);
  for (uint32_t i = 20'000; i < 30'000; ++i) hints.Add(Host(i), kT0 + absl::Seconds(3));
  EXPECT_EQ(hints.size(), 16u);
  EXPECT_EQ(hints.waiting(), 16u);
  // Everything expires.
  hints.Due(kT0 + absl::Hours(1), 0);
  EXPECT_EQ(hints.size(), 0u);
}

class NodeHintTest : public ::testing::Test, public NodeHarness {
 protected:
  // Tick runs the node at `at` and returns the pings it sends.
  std::vector<std::pair<Endpoint, Message>> Tick(absl::Time at) {
    node_.Tick(at);
    std::vector<std::pair<Endpoint, Message>> pings;
    for (OutgoingPacket& p : node_.TakeOutgoing()) {
      Message m;
      EXPECT_TRUE(ParseMessage(p.bytes, &m).ok());
      if (m.kind == MessageKind::kQuery && m.query.method == Method::kPing) {
        pings.emplace_back(p.to, m);
      }
    }
    return pings;
  }
};

TEST_F(NodeHintTest, AFloodOfHintsStaysBoundedAndOnlyAnswersEnterTheTable) {
  const ContactHintOptions defaults;
  for (uint32_t i = 0; i < 100'000; ++i) node_.AddContactHint(Host(i), kT0);
  EXPECT_LE(node_.contact_hints().size(), defaults.max_hints);
  // Ten seconds of ticks: the burst and the rate, no more.
  std::vector<std::pair<Endpoint, Message>> pings;
  for (int t = 0; t <= 100; ++t) {
    for (auto& p : Tick(kT0 + absl::Milliseconds(100) * t)) pings.push_back(p);
  }
  EXPECT_LE(pings.size(), defaults.ping_burst + 10 * defaults.pings_per_second + 1);
  ASSERT_GE(pings.size(), 2u);
  // The latest one answers (the others timed out) and joins the table;
  // the rest stay out.
  const absl::Time later = kT0 + absl::Seconds(10);
  const auto& [answering, ping] = pings.back();
  Send(EncodeMessage(Message::MakeResponse(ping.transaction_id, IdOf('a'))),
       answering, later);
  EXPECT_EQ(node_.table().size(), 1u);
  ASSERT_NE(node_.table().Find(IdOf('a')), nullptr);
  EXPECT_TRUE(node_.table().Find(IdOf('a'))->confirmed);
  // Hints are no bootstrap nodes: a bootstrap asks only the user's router.
  const Endpoint router = Endpoint::V4({10, 9, 9, 9}, 6881);
  node_.AddBootstrapNode(router);
  node_.Bootstrap(later);
  for (const OutgoingPacket& p : node_.TakeOutgoing()) {
    Message m;
    ASSERT_TRUE(ParseMessage(p.bytes, &m).ok());
    if (m.query.method == Method::kFindNode) {
      EXPECT_TRUE(p.to == router || p.to == answering) << p.to.ToString();
    }
  }
}

TEST_F(NodeHintTest, UnusableHintsAreIgnored) {
  node_.AddContactHint(Endpoint::V4({1, 2, 3, 4}, 0), kT0);
  node_.AddContactHint(Endpoint::V4({0, 0, 0, 0}, 6881), kT0);
  std::array<uint8_t, 16> v6{};
  v6[0] = 0x20;
  node_.AddContactHint(Endpoint::V6(v6, 6881), kT0);  // an IPv4 node
  EXPECT_EQ(node_.contact_hints().size(), 0u);
  node_.AddContactHint(Host(1), kT0);
  EXPECT_EQ(node_.contact_hints().size(), 1u);
}

}  // namespace
}  // namespace bt::dht::testing
