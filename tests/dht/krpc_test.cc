#include "dht/krpc.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::dht {
namespace {

NodeId IdOf(std::string_view twenty) {
  return NodeId::FromBytes(AsBytes(twenty));
}

Message Parse(std::string_view packet) {
  Message m;
  absl::Status s = ParseMessage(packet, &m);
  EXPECT_TRUE(s.ok()) << s << " for " << packet;
  return m;
}

absl::Status ParseStatus(std::string_view packet) {
  Message m;
  return ParseMessage(packet, &m);
}

// The examples of BEP 5, byte for byte.
TEST(KrpcTest, Bep5Examples) {
  const std::string ping_q =
      "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  Message m = Parse(ping_q);
  EXPECT_EQ(m.kind, MessageKind::kQuery);
  EXPECT_EQ(m.query.method, Method::kPing);
  EXPECT_EQ(m.transaction_id, "aa");
  EXPECT_EQ(m.query.id, IdOf("abcdefghij0123456789"));
  EXPECT_EQ(EncodeMessage(m), ping_q);

  const std::string ping_r = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
  m = Parse(ping_r);
  EXPECT_EQ(m.kind, MessageKind::kResponse);
  EXPECT_EQ(m.response.id, IdOf("mnopqrstuvwxyz123456"));
  EXPECT_EQ(EncodeMessage(m), ping_r);

  const std::string error = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
  m = Parse(error);
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error.code, 201);
  EXPECT_EQ(m.error.message, "A Generic Error Ocurred");
  EXPECT_EQ(EncodeMessage(m), error);

  const std::string find_q =
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
      "1:q9:find_node1:t2:aa1:y1:qe";
  m = Parse(find_q);
  EXPECT_EQ(m.query.method, Method::kFindNode);
  EXPECT_EQ(m.query.target, IdOf("mnopqrstuvwxyz123456"));
  EXPECT_EQ(EncodeMessage(m), find_q);

  const std::string get_q =
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e"
      "1:q9:get_peers1:t2:aa1:y1:qe";
  m = Parse(get_q);
  EXPECT_EQ(m.query.method, Method::kGetPeers);
  EXPECT_EQ(m.query.info_hash.ToString(), "mnopqrstuvwxyz123456");
  EXPECT_EQ(EncodeMessage(m), get_q);

  const std::string get_r =
      "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:"
      "idhtnmee1:t2:aa1:y1:re";
  m = Parse(get_r);
  ASSERT_TRUE(m.response.values.has_value());
  ASSERT_EQ(m.response.values->size(), 2u);
  EXPECT_EQ((*m.response.values)[0].ToString(), "97.120.106.101:11893");
  EXPECT_EQ(*m.response.token, "aoeusnth");
  EXPECT_FALSE(m.response.nodes.has_value());
  EXPECT_EQ(EncodeMessage(m), get_r);

  const std::string announce_q =
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:"
      "mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer"
      "1:t2:aa1:y1:qe";
  m = Parse(announce_q);
  EXPECT_EQ(m.query.method, Method::kAnnouncePeer);
  EXPECT_TRUE(m.query.implied_port);
  EXPECT_EQ(m.query.port, 6881);
  EXPECT_EQ(m.query.token, "aoeusnth");
  EXPECT_EQ(EncodeMessage(m), announce_q);
}

TEST(KrpcTest, ResponseWithNodesNodes6IpAndVersion) {
  Message m = Message::MakeResponse("xy", IdOf("abcdefghij0123456789"));
  std::vector<NodeInfo> nodes = {
      {IdOf("11111111111111111111"), Endpoint::V4({1, 2, 3, 4}, 5)},
      {IdOf("22222222222222222222"), Endpoint::V4({9, 8, 7, 6}, 65535)}};
  std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 7;
  std::vector<NodeInfo> nodes6 = {
      {IdOf("33333333333333333333"), Endpoint::V6(v6, 6881)}};
  m.response.nodes = nodes;
  m.response.nodes6 = nodes6;
  m.response.token = "tok";
  m.response.values = std::vector<Endpoint>{Endpoint::V4({10, 0, 0, 1}, 1),
                                            Endpoint::V6(v6, 2)};
  m.ip = Endpoint::V4({127, 0, 0, 1}, 4242);
  m.version = "BK01";
  std::string bytes = EncodeMessage(m);
  Message back = Parse(bytes);
  EXPECT_EQ(back.kind, MessageKind::kResponse);
  EXPECT_EQ(*back.response.nodes, nodes);
  EXPECT_EQ(*back.response.nodes6, nodes6);
  EXPECT_EQ(*back.response.token, "tok");
  EXPECT_EQ(back.response.values->size(), 2u);
  EXPECT_EQ((*back.response.values)[1], Endpoint::V6(v6, 2));
  EXPECT_EQ(*back.ip, Endpoint::V4({127, 0, 0, 1}, 4242));
  EXPECT_EQ(back.version, "BK01");
  EXPECT_EQ(EncodeMessage(back), bytes);
}

TEST(KrpcTest, WantAndReadOnly) {
  Message q = Message::MakeQuery("t1", Method::kFindNode,
                                 IdOf("abcdefghij0123456789"));
  q.query.target = IdOf("mnopqrstuvwxyz123456");
  q.query.want_n4 = true;
  q.query.want_n6 = true;
  q.read_only = true;
  std::string bytes = EncodeMessage(q);
  EXPECT_NE(bytes.find("4:wantl2:n42:n6e"), std::string::npos);
  EXPECT_NE(bytes.find("2:roi1e"), std::string::npos);
  Message back = Parse(bytes);
  EXPECT_TRUE(back.query.want_n4);
  EXPECT_TRUE(back.query.want_n6);
  EXPECT_TRUE(back.read_only);

  // Unknown want entries are ignored.
  back = Parse(
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:want"
      "l2:n62:xxee1:q9:find_node1:t2:aa1:y1:qe");
  EXPECT_FALSE(back.query.want_n4);
  EXPECT_TRUE(back.query.want_n6);
  // ro must be an integer 0 or 1.
  EXPECT_FALSE(ParseStatus("d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:ro1:x"
                           "1:t2:aa1:y1:qe")
                   .ok());
  EXPECT_FALSE(Parse("d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi0e1:t2:"
                     "aa1:y1:qe")
                   .read_only);
}

TEST(KrpcTest, UnknownMethodParsesForA204Reply) {
  Message m = Parse(
      "d1:ad2:id20:abcdefghij0123456789e1:q6:vote_x1:t2:zz1:y1:qe");
  EXPECT_EQ(m.query.method, Method::kUnknown);
  EXPECT_EQ(m.query.method_name, "vote_x");
  EXPECT_EQ(m.transaction_id, "zz");
}

TEST(KrpcTest, AnnounceWithoutImpliedPortNeedsPort) {
  EXPECT_FALSE(ParseStatus("d1:ad2:id20:abcdefghij01234567899:info_hash20:"
                           "mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer"
                           "1:t2:aa1:y1:qe")
                   .ok());
  // With implied_port=1 the port may be absent.
  Message m = Parse(
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:"
      "mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe");
  EXPECT_TRUE(m.query.implied_port);
  // Port out of range, implied_port out of range, token missing.
  EXPECT_FALSE(ParseStatus("d1:ad2:id20:abcdefghij01234567899:info_hash20:"
                           "mnopqrstuvwxyz1234564:porti65536e5:token1:xe1:q13:"
                           "announce_peer1:t2:aa1:y1:qe")
                   .ok());
  EXPECT_FALSE(ParseStatus("d1:ad2:id20:abcdefghij012345678912:implied_porti2e"
                           "9:info_hash20:mnopqrstuvwxyz1234564:porti1e5:token"
                           "1:xe1:q13:announce_peer1:t2:aa1:y1:qe")
                   .ok());
  EXPECT_FALSE(ParseStatus("d1:ad2:id20:abcdefghij01234567899:info_hash20:"
                           "mnopqrstuvwxyz1234564:porti1ee1:q13:"
                           "announce_peer1:t2:aa1:y1:qe")
                   .ok());
}

TEST(KrpcTest, RejectsWrongTypesAndLengths) {
  struct Case {
    const char* packet;
    absl::StatusCode code;
  } cases[] = {
      {"le", absl::StatusCode::kInvalidArgument},
      {"i1e", absl::StatusCode::kInvalidArgument},
      {"de", absl::StatusCode::kInvalidArgument},  // no t
      {"d1:ti1e1:y1:qe", absl::StatusCode::kInvalidArgument},
      {"d1:t2:aa1:y1:xe", absl::StatusCode::kInvalidArgument},
      {"d1:t2:aa1:y2:qqe", absl::StatusCode::kInvalidArgument},
      {"d1:t2:aa1:yi1ee", absl::StatusCode::kInvalidArgument},
      // query without a / with a non-dict a / short id
      {"d1:q4:ping1:t2:aa1:y1:qe", absl::StatusCode::kInvalidArgument},
      {"d1:al2:ide1:q4:ping1:t2:aa1:y1:qe", absl::StatusCode::kInvalidArgument},
      {"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      {"d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      {"d1:ad2:id20:abcdefghij0123456789e1:qi1e1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      // find_node without target; get_peers with a short info_hash
      {"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      {"d1:ad2:id20:abcdefghij01234567899:info_hash3:abce1:q9:get_peers1:t2:"
       "aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      // want not a list / entry not a string
      {"d1:ad2:id20:abcdefghij01234567894:want2:n4e1:q4:ping1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      {"d1:ad2:id20:abcdefghij01234567894:wantli4eee1:q4:ping1:t2:aa1:y1:qe",
       absl::StatusCode::kInvalidArgument},
      // response without r / r without id / nodes of a bad length
      {"d1:t2:aa1:y1:re", absl::StatusCode::kInvalidArgument},
      {"d1:rde1:t2:aa1:y1:re", absl::StatusCode::kInvalidArgument},
      {"d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      {"d1:rd2:id20:abcdefghij01234567896:nodes63:abce1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      {"d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      {"d1:rd2:id20:abcdefghij01234567896:values6:abcdefe1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      {"d1:rd2:id20:abcdefghij01234567895:tokeni1ee1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      // errors: not a list, wrong arity, wrong types
      {"d1:e3:abc1:t2:aa1:y1:ee", absl::StatusCode::kInvalidArgument},
      {"d1:eli201ee1:t2:aa1:y1:ee", absl::StatusCode::kInvalidArgument},
      {"d1:el1:xi201ee1:t2:aa1:y1:ee", absl::StatusCode::kInvalidArgument},
      // bad ip
      {"d2:ip3:abc1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re",
       absl::StatusCode::kInvalidArgument},
      // over-long transaction id
      {"d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", absl::StatusCode::kResourceExhausted},
      // duplicate keys
      {"d1:t2:aa1:t2:bb1:y1:qe", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseStatus(c.packet);
    EXPECT_EQ(s.code(), c.code) << c.packet << ": " << s;
  }
}

TEST(KrpcTest, LimitsAreChecked) {
  EXPECT_EQ(ParseStatus(std::string(kMaxPacketSize + 1, 'd')).code(),
            absl::StatusCode::kResourceExhausted);
  std::string values = "d1:rd2:id20:abcdefghij01234567896:valuesl";
  for (size_t i = 0; i < kMaxValues + 1; ++i) values += "6:abcdef";
  values += "ee1:t2:aa1:y1:re";
  ASSERT_LE(values.size(), kMaxPacketSize);
  EXPECT_EQ(ParseStatus(values).code(), absl::StatusCode::kResourceExhausted);
  std::string token(kMaxTokenSize + 1, 'k');
  EXPECT_EQ(ParseStatus("d1:rd2:id20:abcdefghij01234567895:token" +
                        std::to_string(token.size()) + ":" + token +
                        "e1:t2:aa1:y1:re")
                .code(),
            absl::StatusCode::kResourceExhausted);
  // Deep nesting is refused by the decoder limit.
  std::string deep = "d1:t2:aa1:y1:q1:zl";
  for (int i = 0; i < 20; ++i) deep += "l";
  for (int i = 0; i < 21; ++i) deep += "e";
  deep += "e";
  EXPECT_FALSE(ParseStatus(deep).ok());
}

TEST(KrpcTest, FailedQueryKeepsTransactionIdAndKind) {
  Message m;
  absl::Status s = ParseMessage(
      "d1:ad2:id3:abce1:q4:ping1:t2:Zz1:y1:qe", &m);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(m.transaction_id, "Zz");
  EXPECT_EQ(m.kind, MessageKind::kQuery);
}

TEST(KrpcTest, EveryTruncatedPrefixFails) {
  Message q = Message::MakeQuery("ab", Method::kAnnouncePeer,
                                 IdOf("abcdefghij0123456789"));
  q.query.info_hash = Sha1Hash::FromBytes(AsBytes("mnopqrstuvwxyz123456"));
  q.query.port = 1234;
  q.query.token = "token";
  q.read_only = true;
  std::string bytes = EncodeMessage(q);
  ASSERT_TRUE(ParseStatus(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ParseStatus(bytes.substr(0, n)).ok()) << n;
  }
}

TEST(KrpcTest, UnknownKeysAreIgnored) {
  Message m = Parse(
      "d1:ad2:id20:abcdefghij01234567895:zzzzzi1ee1:q4:ping1:t2:aa"
      "1:y1:q1:zli1eee");
  EXPECT_EQ(m.query.method, Method::kPing);
}

}  // namespace
}  // namespace bt::dht

namespace bt::dht {
namespace {

TEST(KrpcBep51Test, SampleInfohashesRoundTrip) {
  Message q = Message::MakeQuery("sq", Method::kSampleInfohashes,
                                 NodeId::FromBytes(AsBytes("abcdefghij0123456789")));
  q.query.target = NodeId::FromBytes(AsBytes("mnopqrstuvwxyz123456"));
  std::string bytes = EncodeMessage(q);
  EXPECT_EQ(bytes,
            "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
            "1:q17:sample_infohashes1:t2:sq1:y1:qe");
  Message back;
  ASSERT_TRUE(ParseMessage(bytes, &back).ok());
  EXPECT_EQ(back.query.method, Method::kSampleInfohashes);
  EXPECT_EQ(back.query.target, q.query.target);

  Message r = Message::MakeResponse("sq", q.query.id);
  r.response.interval = 300;
  r.response.num = 2;
  r.response.samples = std::vector<Sha1Hash>{
      Sha1Hash::FromBytes(AsBytes("11111111111111111111")),
      Sha1Hash::FromBytes(AsBytes("22222222222222222222"))};
  r.response.nodes = std::vector<NodeInfo>{};
  bytes = EncodeMessage(r);
  EXPECT_EQ(bytes,
            "d1:rd2:id20:abcdefghij01234567898:intervali300e5:nodes0:"
            "3:numi2e7:samples40:1111111111111111111122222222222222222222e"
            "1:t2:sq1:y1:re");
  ASSERT_TRUE(ParseMessage(bytes, &back).ok());
  EXPECT_EQ(*back.response.interval, 300);
  EXPECT_EQ(*back.response.num, 2);
  EXPECT_EQ(*back.response.samples, *r.response.samples);
}

TEST(KrpcBep51Test, RejectsBadSampleFields) {
  Message m;
  EXPECT_FALSE(ParseMessage("d1:rd2:id20:abcdefghij01234567897:samples3:abce"
                            "1:t2:aa1:y1:re",
                            &m)
                   .ok());
  EXPECT_FALSE(ParseMessage("d1:rd2:id20:abcdefghij01234567898:intervali21601e"
                            "e1:t2:aa1:y1:re",
                            &m)
                   .ok());
  EXPECT_FALSE(ParseMessage("d1:rd2:id20:abcdefghij01234567893:numi-1ee"
                            "1:t2:aa1:y1:re",
                            &m)
                   .ok());
  // sample_infohashes needs a target.
  EXPECT_FALSE(ParseMessage("d1:ad2:id20:abcdefghij0123456789e1:q17:"
                            "sample_infohashes1:t2:aa1:y1:qe",
                            &m)
                   .ok());
}

}  // namespace
}  // namespace bt::dht

namespace bt::dht {
namespace {

TEST(KrpcBep44Test, GetAndPutRoundTrip) {
  NodeId id = NodeId::FromBytes(AsBytes("abcdefghij0123456789"));
  Message put = Message::MakeQuery("pp", Method::kPut, id);
  put.query.token = "tok";
  put.query.value = "d1:ali1ei2eee";  // any bencoded value, kept verbatim
  put.query.key = std::string(32, 'K');
  put.query.signature = std::string(64, 'S');
  put.query.seq = 4;
  put.query.salt = "foobar";
  put.query.cas = 3;
  std::string bytes = EncodeMessage(put);
  Message back;
  ASSERT_TRUE(ParseMessage(bytes, &back).ok()) << bytes;
  EXPECT_EQ(back.query.method, Method::kPut);
  EXPECT_EQ(back.query.value, "d1:ali1ei2eee");
  EXPECT_EQ(back.query.key, put.query.key);
  EXPECT_EQ(back.query.signature, put.query.signature);
  EXPECT_EQ(*back.query.seq, 4);
  EXPECT_EQ(*back.query.cas, 3);
  EXPECT_EQ(back.query.salt, "foobar");
  EXPECT_EQ(EncodeMessage(back), bytes);

  Message get = Message::MakeQuery("gg", Method::kGet, id);
  get.query.target = id;
  get.query.seq = 9;
  bytes = EncodeMessage(get);
  EXPECT_EQ(bytes,
            "d1:ad2:id20:abcdefghij01234567893:seqi9e6:target20:"
            "abcdefghij0123456789e1:q3:get1:t2:gg1:y1:qe");

  Message r = Message::MakeResponse("gg", id);
  r.response.value = "12:Hello World!";
  r.response.key = std::string(32, 'K');
  r.response.signature = std::string(64, 'S');
  r.response.seq = 1;
  r.response.token = "t";
  bytes = EncodeMessage(r);
  ASSERT_TRUE(ParseMessage(bytes, &back).ok()) << bytes;
  EXPECT_EQ(*back.response.value, "12:Hello World!");
  EXPECT_EQ(*back.response.seq, 1);
  EXPECT_EQ(EncodeMessage(back), bytes);
}

TEST(KrpcBep44Test, RejectsBadFields) {
  Message m;
  // put without v / with a short key / mutable without sig or seq.
  EXPECT_FALSE(ParseMessage("d1:ad2:id20:abcdefghij01234567895:token1:xe1:q3:put"
                            "1:t2:aa1:y1:qe", &m).ok());
  EXPECT_FALSE(ParseMessage("d1:ad2:id20:abcdefghij01234567891:k3:abc3:seqi1e"
                            "3:sig64:" + std::string(64, 's') +
                            "5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", &m).ok());
  EXPECT_FALSE(ParseMessage("d1:ad2:id20:abcdefghij01234567891:k32:" +
                            std::string(32, 'k') +
                            "5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", &m).ok());
  // negative seq
  EXPECT_FALSE(ParseMessage("d1:ad2:id20:abcdefghij01234567893:seqi-1e6:target20:"
                            "abcdefghij0123456789e1:q3:get1:t2:gg1:y1:qe", &m).ok());
}

}  // namespace
}  // namespace bt::dht
