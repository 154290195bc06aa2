// NodeHarness: one dht::Node driven by hand, for tests of what it answers:
// deliver a datagram, get back the node's replies to the sender. Every
// datagram the node sends is checked against its reply budget
// (NodeOptions::max_response_size).
//
//   namespace bt::dht::testing {
//   class NodeTest : public ::testing::Test, public NodeHarness {};
//   TEST_F(NodeTest, Ping) {
//     Message r = One(MakeQ(Method::kPing, IdOf('a'), "t1"));
//   }
#ifndef TESTS_DHT_NODE_HARNESS_H_
#define TESTS_DHT_NODE_HARNESS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/endpoint.h"
#include "dht/item.h"
#include "dht/krpc.h"
#include "dht/node.h"
#include "gtest/gtest.h"

namespace bt::dht::testing {

inline const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
inline const Endpoint kPeer = Endpoint::V4({10, 0, 0, 2}, 7000);

// IdOf returns the id whose 20 bytes are all `c`.
inline NodeId IdOf(char c) {
  NodeId id;
  for (size_t i = 0; i < 20; ++i) id[i] = static_cast<uint8_t>(c);
  return id;
}

// MakeQ encodes a query of `method` from `from_id`; `fill` sets its fields.
inline std::string MakeQ(Method method, const NodeId& from_id,
                         const std::string& t,
                         std::function<void(Query&)> fill = nullptr) {
  Message m = Message::MakeQuery(t, method, from_id);
  if (fill) fill(m.query);
  return EncodeMessage(m);
}

// FillPut sets the put fields of `q` from `item`: its value, and for a
// mutable item its key, signature, seq and salt.
inline void FillPut(const DhtItem& item, Query& q) {
  q.value = item.value;
  if (!item.is_mutable) return;
  q.key = std::string(AsChars(ByteSpan(item.key)));
  q.signature = std::string(AsChars(ByteSpan(item.signature)));
  q.seq = item.seq;
  q.salt = item.salt;
}

class NodeHarness {
 public:
  // DefaultOptions: id 'MMMM...', a fixed seed.
  static NodeOptions DefaultOptions() {
    NodeOptions o;
    o.id = IdOf('M');
    o.seed = 5;
    return o;
  }

  explicit NodeHarness(NodeOptions options = DefaultOptions())
      : budget_(options.max_response_size), node_(std::move(options), kT0) {}

  // Send delivers `packet` from `from` and returns the replies to `from`
  // (not the node's own queries, such as liveness pings).
  std::vector<Message> Send(const std::string& packet,
                            const Endpoint& from = kPeer,
                            absl::Time at = kT0) {
    node_.HandlePacket(packet, from, at);
    std::vector<Message> out;
    for (OutgoingPacket& p : node_.TakeOutgoing()) {
      EXPECT_LE(p.bytes.size(), budget_);
      if (p.to != from) continue;
      Message m;
      EXPECT_TRUE(ParseMessage(p.bytes, &m).ok()) << p.bytes;
      if (m.kind == MessageKind::kQuery) continue;
      out.push_back(m);
    }
    return out;
  }

  // BootstrapFrom bootstraps from `router` alone and returns the query the
  // node sends it, expected to be its only datagram.
  Message BootstrapFrom(const Endpoint& router) {
    node_.AddBootstrapNode(router);
    node_.Bootstrap(kT0);
    std::vector<OutgoingPacket> out = node_.TakeOutgoing();
    EXPECT_EQ(out.size(), 1u);
    Message q;
    if (!out.empty()) EXPECT_TRUE(ParseMessage(out[0].bytes, &q).ok());
    return q;
  }

  // One is Send that expects exactly one reply.
  Message One(const std::string& packet, const Endpoint& from = kPeer,
              absl::Time at = kT0) {
    std::vector<Message> r = Send(packet, from, at);
    EXPECT_EQ(r.size(), 1u) << packet;
    return r.empty() ? Message() : r[0];
  }

 protected:
  size_t budget_;
  Node node_;
};

}  // namespace bt::dht::testing

#endif  // TESTS_DHT_NODE_HARNESS_H_
