// Node behaviour towards other nodes: answers, errors, limits against
// hostile input, BEP 43 read-only mode, state save/restore.
#include "dht/node.h"

#include <string>

#include "dht/item.h"
#include "dht/krpc.h"
#include "dht/node_id.h"
#include "gtest/gtest.h"
#include "tests/dht/node_harness.h"

namespace bt::dht::testing {
namespace {

class NodeTest : public ::testing::Test, public NodeHarness {};

TEST_F(NodeTest, AnswersPingWithIdAndRequesterAddress) {
  Message r = One(MakeQ(Method::kPing, IdOf('a'), "t1"));
  EXPECT_EQ(r.kind, MessageKind::kResponse);
  EXPECT_EQ(r.transaction_id, "t1");
  EXPECT_EQ(r.response.id, IdOf('M'));
  ASSERT_TRUE(r.ip.has_value());
  EXPECT_EQ(*r.ip, kPeer);
  // The querier is now in the table (unconfirmed).
  EXPECT_EQ(node_.table().size(), 1u);
}

TEST_F(NodeTest, MalformedQueriesGetProtocolErrors) {
  const char* bad[] = {
      "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",           // short id
      "d1:ad2:idi1ee1:q4:ping1:t2:aa1:y1:qe",             // id not a string
      "d1:a3:xyz1:q4:ping1:t2:aa1:y1:qe",                 // a not a dict
      "d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q9:find_node1:t2:aa1:y1:qe",  // no target
      "d1:ad2:id20:aaaaaaaaaaaaaaaaaaaa9:info_hash20:bbbbbbbbbbbbbbbbbbbb"
      "4:porti99999e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",  // port range
  };
  for (const char* packet : bad) {
    Message r = One(packet);
    EXPECT_EQ(r.kind, MessageKind::kError) << packet;
    EXPECT_EQ(r.error.code, kErrorProtocol) << packet;
    EXPECT_EQ(r.transaction_id, "aa");
  }
  // Unparseable or non-query garbage is dropped without a reply.
  for (const std::string packet :
       {std::string("garbage"), std::string("d1:y1:qe"), std::string("le"),
        std::string("d1:t2:aa1:y1:re"), std::string(5000, 'x')}) {
    EXPECT_TRUE(Send(packet).empty()) << packet.substr(0, 20);
  }
  EXPECT_GE(node_.stats().dropped_malformed, 10u);
}

TEST_F(NodeTest, UnknownMethodGets204) {
  Message r = One("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q7:vote_me1:t2:zz1:y1:qe");
  EXPECT_EQ(r.kind, MessageKind::kError);
  EXPECT_EQ(r.error.code, kErrorMethodUnknown);
  EXPECT_EQ(r.transaction_id, "zz");
}

TEST_F(NodeTest, AnnounceNeedsTheTokenIssuedToThatAddress) {
  Sha1Hash ih = Sha1Hash::FromBytes(AsBytes("bbbbbbbbbbbbbbbbbbbb"));
  Message gp = One(MakeQ(Method::kGetPeers, IdOf('a'), "g1",
                         [&](Query& q) { q.info_hash = ih; }));
  ASSERT_TRUE(gp.response.token.has_value());
  EXPECT_FALSE(gp.response.values.has_value());
  std::string token = *gp.response.token;

  // Forged token: refused.
  Message bad = One(MakeQ(Method::kAnnouncePeer, IdOf('a'), "a1", [&](Query& q) {
    q.info_hash = ih;
    q.port = 1234;
    q.token = token + "x";
  }));
  EXPECT_EQ(bad.kind, MessageKind::kError);
  EXPECT_EQ(bad.error.code, kErrorProtocol);
  // The right token from another address: refused.
  Endpoint other = Endpoint::V4({10, 0, 0, 3}, 7000);
  bad = One(MakeQ(Method::kAnnouncePeer, IdOf('b'), "a2", [&](Query& q) {
              q.info_hash = ih;
              q.port = 1234;
              q.token = token;
            }),
            other);
  EXPECT_EQ(bad.kind, MessageKind::kError);
  EXPECT_EQ(node_.stats().bad_tokens, 2u);
  EXPECT_EQ(node_.peer_store().peer_count(), 0u);

  // The right token: stored, with implied_port using the source port.
  Message ok = One(MakeQ(Method::kAnnouncePeer, IdOf('a'), "a3", [&](Query& q) {
    q.info_hash = ih;
    q.port = 1;
    q.implied_port = true;
    q.token = token;
  }));
  EXPECT_EQ(ok.kind, MessageKind::kResponse);
  gp = One(MakeQ(Method::kGetPeers, IdOf('c'), "g2",
                 [&](Query& q) { q.info_hash = ih; }),
           other);
  ASSERT_TRUE(gp.response.values.has_value());
  EXPECT_EQ(*gp.response.values, std::vector<Endpoint>{kPeer});
  // Tokens expire after 10 minutes.
  bad = One(MakeQ(Method::kAnnouncePeer, IdOf('a'), "a4", [&](Query& q) {
              q.info_hash = ih;
              q.port = 5;
              q.token = token;
            }),
            kPeer, kT0 + absl::Minutes(11));
  EXPECT_EQ(bad.kind, MessageKind::kError);
}

TEST_F(NodeTest, GetPeersResponseStaysUnder1024Bytes) {
  Sha1Hash ih = Sha1Hash::FromBytes(AsBytes("cccccccccccccccccccc"));
  // Fill the table and the store from many addresses.
  for (int i = 0; i < 400; ++i) {
    Endpoint from = Endpoint::V4({11, 1, static_cast<uint8_t>(i / 200),
                                  static_cast<uint8_t>(i % 200)},
                                 static_cast<uint16_t>(1000 + i));
    NodeId id;
    id[0] = static_cast<uint8_t>(i);
    id[1] = static_cast<uint8_t>(i >> 8);
    Message gp = One(MakeQ(Method::kGetPeers, id, "g",
                           [&](Query& q) { q.info_hash = ih; }),
                     from);
    One(MakeQ(Method::kAnnouncePeer, id, "a", [&](Query& q) {
          q.info_hash = ih;
          q.port = 2000;
          q.token = *gp.response.token;
        }),
        from);
  }
  EXPECT_EQ(node_.peer_store().peer_count(), 200u);  // per-hash cap
  Message gp = One(MakeQ(Method::kGetPeers, IdOf('z'), "g",
                         [&](Query& q) { q.info_hash = ih; }));
  ASSERT_TRUE(gp.response.values.has_value());
  EXPECT_GT(gp.response.values->size(), 50u);
  // One() checked the 1024-byte cap on every reply.
}

TEST_F(NodeTest, SampleInfohashesServesStoredHashesWithinTheSizeCap) {
  // Announce 200 different hashes from one address.
  for (int i = 0; i < 200; ++i) {
    Sha1Hash ih;
    ih[0] = static_cast<uint8_t>(i);
    Endpoint from = Endpoint::V4({10, 3, 0, static_cast<uint8_t>(i)}, 5000);
    Message gp = One(MakeQ(Method::kGetPeers, IdOf('a'), "g",
                           [&](Query& q) { q.info_hash = ih; }),
                     from);
    One(MakeQ(Method::kAnnouncePeer, IdOf('a'), "a", [&](Query& q) {
          q.info_hash = ih;
          q.port = 1;
          q.token = *gp.response.token;
        }),
        from);
  }
  Message r = One(MakeQ(Method::kSampleInfohashes, IdOf('b'), "s",
                        [](Query& q) { q.target = IdOf('x'); }));
  ASSERT_EQ(r.kind, MessageKind::kResponse);
  EXPECT_EQ(*r.response.num, 200);
  ASSERT_TRUE(r.response.samples.has_value());
  EXPECT_GT(r.response.samples->size(), 20u);
  EXPECT_LT(r.response.samples->size(), 200u);  // capped by the 1024 bytes
  EXPECT_EQ(*r.response.interval, 300);
}

TEST_F(NodeTest, Bep44PutAndGet) {
  std::array<uint8_t, 32> seed{};
  seed[5] = 1;
  Ed25519KeyPair keys = Ed25519KeyPairFromSeed(seed);
  DhtItem v1 = SignMutableItem(keys, "salt", 1, "5:hello");
  NodeId target = ItemTarget(v1);
  auto get = [&](const NodeId& t, std::optional<int64_t> seq = std::nullopt) {
    return One(MakeQ(Method::kGet, IdOf('a'), "g", [&](Query& q) {
      q.target = t;
      q.seq = seq;
    }));
  };
  auto put = [&](const DhtItem& item, const std::string& token,
                 std::optional<int64_t> cas = std::nullopt) {
    return One(MakeQ(Method::kPut, IdOf('a'), "p", [&](Query& q) {
      q.token = token;
      FillPut(item, q);
      q.cas = cas;  // sent for mutable items only
    }));
  };
  Message g = get(target);
  ASSERT_TRUE(g.response.token.has_value());
  EXPECT_FALSE(g.response.value.has_value());
  std::string token = *g.response.token;

  EXPECT_EQ(put(v1, "forged").error.code, kErrorProtocol);
  DhtItem bad_sig = v1;
  bad_sig.signature[0] ^= 1;
  EXPECT_EQ(put(bad_sig, token).error.code, kErrorInvalidSignature);
  DhtItem big = SignMutableItem(keys, "", 1, "1001:" + std::string(1001, 'x'));
  EXPECT_EQ(put(big, token).error.code, kErrorValueTooBig);
  DhtItem salty = SignMutableItem(keys, std::string(65, 's'), 1, "1:x");
  EXPECT_EQ(put(salty, token).error.code, kErrorSaltTooBig);

  EXPECT_EQ(put(v1, token).kind, MessageKind::kResponse);
  g = get(target);
  ASSERT_TRUE(g.response.value.has_value());
  EXPECT_EQ(*g.response.value, "5:hello");
  EXPECT_EQ(*g.response.seq, 1);
  EXPECT_EQ(g.response.key, std::string(AsChars(ByteSpan(keys.public_key))));
  // "seq" asks only for newer items.
  g = get(target, 1);
  EXPECT_FALSE(g.response.value.has_value());
  EXPECT_EQ(*g.response.seq, 1);

  DhtItem v2 = SignMutableItem(keys, "salt", 2, "5:world");
  EXPECT_EQ(put(v2, token, int64_t{7}).error.code, kErrorCasMismatch);
  EXPECT_EQ(put(v2, token, int64_t{1}).kind, MessageKind::kResponse);
  EXPECT_EQ(put(v1, token).error.code, kErrorSequenceTooLow);

  DhtItem imm = MakeImmutableItem("li1ei2ee");
  EXPECT_EQ(put(imm, token).kind, MessageKind::kResponse);
  g = get(ItemTarget(imm));
  EXPECT_EQ(*g.response.value, "li1ei2ee");
  EXPECT_TRUE(g.response.key.empty());
}

TEST_F(NodeTest, FloodFromOneAddressIsCut) {
  int replies = 0;
  for (int i = 0; i < 5000; ++i) {
    replies += static_cast<int>(
        Send(MakeQ(Method::kFindNode, IdOf('f'), "ff",
                   [](Query& q) { q.target = IdOf('q'); }))
            .size());
  }
  EXPECT_LE(replies, 60);
  EXPECT_GE(node_.stats().dropped_rate_limited, 4900u);
  // Another address is still served.
  EXPECT_EQ(Send(MakeQ(Method::kPing, IdOf('g'), "p"),
                 Endpoint::V4({10, 9, 9, 9}, 1))
                .size(),
            1u);
  // Malformed floods are limited the same way.
  replies = 0;
  for (int i = 0; i < 5000; ++i) {
    replies += static_cast<int>(
        Send("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",
             Endpoint::V4({10, 8, 8, 8}, 1))
            .size());
  }
  EXPECT_LE(replies, 60);
}

TEST_F(NodeTest, ManySpoofedSourcesStayBounded) {
  for (uint32_t i = 0; i < 50000; ++i) {
    Endpoint from = Endpoint::V4({static_cast<uint8_t>(20 + i % 200),
                                  static_cast<uint8_t>(i >> 8),
                                  static_cast<uint8_t>(i), 1},
                                 static_cast<uint16_t>(1 + i % 60000));
    NodeId id;
    id[0] = static_cast<uint8_t>(i);
    id[1] = static_cast<uint8_t>(i >> 8);
    id[2] = static_cast<uint8_t>(i >> 16);
    node_.HandlePacket(MakeQ(Method::kPing, id, "pp"), from,
                       kT0 + absl::Milliseconds(i));
    node_.TakeOutgoing();
  }
  EXPECT_LE(node_.table().size(), 160u * 8u);
  EXPECT_LE(node_.table().replacement_count(), 160u * 8u);
  EXPECT_LE(node_.pending_queries(), 32u);  // maintenance pings are capped
}

TEST_F(NodeTest, UnsolicitedAndSpoofedResponsesAreDropped) {
  Message r = Message::MakeResponse("nope", IdOf('x'));
  EXPECT_TRUE(Send(EncodeMessage(r)).empty());
  EXPECT_EQ(node_.stats().dropped_unmatched, 1u);
  // A real query of ours, answered from another address: dropped.
  Message q = BootstrapFrom(kPeer);
  EXPECT_EQ(q.query.method, Method::kFindNode);
  Message answer = Message::MakeResponse(q.transaction_id, IdOf('p'));
  answer.response.nodes = std::vector<NodeInfo>{};
  Send(EncodeMessage(answer), Endpoint::V4({10, 0, 0, 66}, 7000));
  EXPECT_EQ(node_.stats().dropped_unmatched, 2u);
  EXPECT_EQ(node_.table().size(), 0u);
  // From the right address: accepted.
  Send(EncodeMessage(answer), kPeer);
  EXPECT_EQ(node_.table().size(), 1u);
}

TEST_F(NodeTest, WantSelectsNodeFamilies) {
  // Give the table a confirmed contact via a lookup answer.
  Message q = BootstrapFrom(kPeer);
  Message answer = Message::MakeResponse(q.transaction_id, IdOf('p'));
  Send(EncodeMessage(answer), kPeer);
  auto find = [&](bool n4, bool n6) {
    return One(MakeQ(Method::kFindNode, IdOf('a'), "f", [&](Query& fq) {
                 fq.target = IdOf('p');
                 fq.want_n4 = n4;
                 fq.want_n6 = n6;
               }),
               Endpoint::V4({10, 0, 0, 9}, 1));
  };
  Message r = find(false, false);
  ASSERT_TRUE(r.response.nodes.has_value());
  EXPECT_EQ(r.response.nodes->size(), 1u);
  EXPECT_FALSE(r.response.nodes6.has_value());
  r = find(false, true);  // only IPv6 wanted: an IPv4 node has none
  EXPECT_FALSE(r.response.nodes.has_value());
  r = find(true, true);
  EXPECT_TRUE(r.response.nodes.has_value());
}

TEST_F(NodeTest, ExternalAddressNeedsThreeVoters) {
  std::vector<Endpoint> routers;
  for (uint8_t i = 0; i < 3; ++i) {
    routers.push_back(Endpoint::V4({10, 1, 1, static_cast<uint8_t>(i + 1)}, 6881));
    node_.AddBootstrapNode(routers.back());
  }
  node_.Bootstrap(kT0);
  std::vector<OutgoingPacket> out = node_.TakeOutgoing();
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_FALSE(node_.ExternalAddress().has_value());
    Message q;
    ASSERT_TRUE(ParseMessage(out[i].bytes, &q).ok());
    Message answer = Message::MakeResponse(q.transaction_id, IdOf('k' + i));
    answer.ip = Endpoint::V4({203, 0, 113, 7}, 6881);
    Send(EncodeMessage(answer), out[i].to);
  }
  ASSERT_TRUE(node_.ExternalAddress().has_value());
  EXPECT_EQ(node_.ExternalAddress()->AddressString(), "203.0.113.7");
  // Our id 'MMMM...' does not fit that address: a BEP 42 id is suggested
  // and saved for the next start.
  std::optional<NodeId> suggested = node_.SuggestedId();
  ASSERT_TRUE(suggested.has_value());
  EXPECT_TRUE(IsSecureNodeId(*suggested,
                             node_.ExternalAddress()->address_bytes()));
  absl::StatusOr<SavedState> saved = ParseSavedState(node_.SaveState());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->id, *suggested);
}

class NodeEnforcementTest : public ::testing::Test, public NodeHarness {
 protected:
  NodeEnforcementTest() : NodeHarness(Options()) {}
  static NodeOptions Options() {
    NodeOptions o = DefaultOptions();
    o.enforce_node_id = true;
    return o;
  }
};

TEST_F(NodeEnforcementTest, IdsThatDoNotMatchTheirAddressStayOutOfTheTable) {
  const Endpoint host = Endpoint::V4({124, 31, 75, 21}, 6881);
  NodeId forged = IdOf('f');
  ASSERT_FALSE(IsSecureNodeId(forged, host.address_bytes()));
  // Its queries are answered, but it is not added.
  EXPECT_EQ(One(MakeQ(Method::kPing, forged, "p"), host).kind,
            MessageKind::kResponse);
  EXPECT_EQ(node_.table().size(), 0u);
  // Nor when it answers a query of ours.
  Message q = BootstrapFrom(host);
  Send(EncodeMessage(Message::MakeResponse(q.transaction_id, forged)), host);
  EXPECT_EQ(node_.table().size(), 0u);
  // An id made for its address is taken.
  NodeId secure = SecureNodeId(host.address_bytes(), 3, IdOf('s'));
  One(MakeQ(Method::kPing, secure, "p"), host);
  EXPECT_NE(node_.table().Find(secure), nullptr);
  // Local addresses are exempt.
  One(MakeQ(Method::kPing, forged, "p"), kPeer);
  EXPECT_NE(node_.table().Find(forged), nullptr);
}

TEST(NodeReadOnlyTest, ReadOnlyNodesAreSilentAndSayRo) {
  NodeOptions o;
  o.id = IdOf('R');
  o.read_only = true;
  o.seed = 1;
  Node ro(o, kT0);
  Message ping = Message::MakeQuery("t", Method::kPing, IdOf('a'));
  ro.HandlePacket(EncodeMessage(ping), kPeer, kT0);
  EXPECT_TRUE(ro.TakeOutgoing().empty());
  ro.AddBootstrapNode(kPeer);
  ro.Bootstrap(kT0);
  std::vector<OutgoingPacket> out = ro.TakeOutgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].bytes.find("2:roi1e"), std::string::npos);

  // A normal node answers a read-only querier but does not add it.
  NodeOptions n;
  n.seed = 2;
  Node normal(n, kT0);
  Message q = Message::MakeQuery("t", Method::kPing, IdOf('a'));
  q.read_only = true;
  normal.HandlePacket(EncodeMessage(q), kPeer, kT0);
  EXPECT_EQ(normal.TakeOutgoing().size(), 1u);
  EXPECT_EQ(normal.table().size(), 0u);
}

TEST(NodeIdTest, Bep42IdFromExternalAddress) {
  NodeOptions o;
  o.external_address = Endpoint::V4({124, 31, 75, 21}, 1);
  o.seed = 3;
  Node n(o, kT0);
  EXPECT_TRUE(IsSecureNodeId(n.id(), o.external_address->address_bytes()));
  EXPECT_FALSE(IsSecureNodeId(
      n.id(), Endpoint::V4({124, 31, 75, 22}, 1).address_bytes()) &&
               IsSecureNodeId(n.id(),
                              Endpoint::V4({125, 31, 75, 21}, 1).address_bytes()));
}

TEST(SavedStateTest, RoundTripAndErrors) {
  std::string state = "d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes26:bbbbbbbbbbbbbbbbbbbb"
                      "\x01\x02\x03\x04\x1a\xe1" "e";
  absl::StatusOr<SavedState> s = ParseSavedState(state);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id, IdOf('a'));
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(s->nodes[0].endpoint, Endpoint::V4({1, 2, 3, 4}, 6881));
  EXPECT_FALSE(ParseSavedState("d2:id3:abce").ok());
  EXPECT_FALSE(ParseSavedState("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes3:abce").ok());
  EXPECT_FALSE(ParseSavedState("le").ok());
  EXPECT_FALSE(ParseSavedState("").ok());
}

}  // namespace
}  // namespace bt::dht::testing
