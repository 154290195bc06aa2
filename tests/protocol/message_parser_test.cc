#include "protocol/message_parser.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "protocol/message.h"

namespace bt::protocol {
namespace {

using ::absl::StatusCode;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string Encode(const Message& m) {
  std::string out;
  AppendMessage(m, &out);
  return out;
}

// Owned copy of a parsed message, so it can outlive the parser's views.
struct Owned {
  Message m;
  std::string storage;
};

Owned Keep(const Message& m) {
  Owned o{m, ""};
  auto rebind = [&](std::string_view* v) {
    o.storage = std::string(*v);
    *v = o.storage;
  };
  if (auto* p = std::get_if<Piece>(&o.m)) rebind(&p->data);
  if (auto* p = std::get_if<Bitfield>(&o.m)) rebind(&p->bits);
  if (auto* p = std::get_if<Extended>(&o.m)) rebind(&p->payload);
  if (auto* p = std::get_if<Hashes>(&o.m)) rebind(&p->hashes);
  if (auto* p = std::get_if<UnknownMessage>(&o.m)) rebind(&p->payload);
  return o;
}

// Feeds `stream` in chunks of the given sizes (cycled) and returns every
// message as its re-encoding, or the first error.
absl::StatusOr<std::vector<std::string>> ParseChunks(
    std::string_view stream, const std::vector<size_t>& chunks,
    ParserOptions options = {}) {
  MessageParser parser(options);
  std::vector<std::string> out;
  size_t pos = 0, i = 0;
  while (pos < stream.size()) {
    size_t n = std::min(chunks[i++ % chunks.size()], stream.size() - pos);
    // A fresh copy per chunk, destroyed after draining: catches views that
    // outlive the bytes they point into (under ASan).
    std::string chunk(stream.substr(pos, n));
    pos += n;
    parser.Feed(chunk);
    while (true) {
      absl::StatusOr<std::optional<Message>> m = parser.Next();
      if (!m.ok()) return m.status();
      if (!*m) break;
      out.push_back(Encode(**m));
    }
    EXPECT_EQ(parser.stream_offset() + parser.buffered_bytes(), pos);
  }
  return out;
}

Handshake ExampleHandshake() {
  Handshake hs;
  hs.reserved.Set(ReservedBit::kExtension).Set(ReservedBit::kFast);
  for (int i = 0; i < 20; ++i) {
    hs.info_hash[i] = static_cast<uint8_t>(i);
    hs.peer_id[i] = static_cast<uint8_t>(100 + i);
  }
  return hs;
}

std::vector<Message> AllMessages(const std::string& block,
                                 const std::string& hashes) {
  HashRange r;
  r.pieces_root[0] = 0xAB;
  r.base_layer = 0;
  r.index = 8;
  r.length = 2;
  r.proof_layers = 3;
  return {
      ExampleHandshake(),
      KeepAlive{},
      Choke{},
      Unchoke{},
      Interested{},
      NotInterested{},
      Have{5},
      Bitfield{"\xFF\xC0"},  // 10 pieces
      Request{3, 16384, 16384},
      Piece{3, 16384, block},
      Cancel{3, 16384, 16384},
      Port{6881},
      Suggest{9},
      HaveAll{},
      HaveNone{},
      Reject{3, 0, 100},
      AllowedFast{1},
      Extended{0, "d1:md6:ut_pexi1eee"},
      Extended{7, ""},
      HashRequest{r},
      Hashes{r, hashes},
      HashReject{r},
      UnknownMessage{200, "opaque"},
  };
}

ParserOptions TenPieces() {
  ParserOptions o;
  o.expect_handshake = true;
  o.num_pieces = 10;
  return o;
}

TEST(MessageParserTest, EveryMessageRoundTripsInAnyFragmentation) {
  std::string block(kBlockSize, 'b');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 7);
  std::string hashes(96, 'h');
  std::vector<Message> all = AllMessages(block, hashes);
  std::string stream;
  std::vector<std::string> expected;
  for (const Message& m : all) {
    expected.push_back(Encode(m));
    stream += expected.back();
  }
  for (std::vector<size_t> chunks : std::vector<std::vector<size_t>>{
           {stream.size()}, {1}, {2}, {3}, {5}, {67, 1, 4096}, {13, 16385}}) {
    absl::StatusOr<std::vector<std::string>> got =
        ParseChunks(stream, chunks, TenPieces());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, expected) << "chunk " << chunks[0];
  }
  std::mt19937 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<size_t> chunks;
    for (int i = 0; i < 20; ++i) chunks.push_back(1 + rng() % 3000);
    absl::StatusOr<std::vector<std::string>> got =
        ParseChunks(stream, chunks, TenPieces());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, expected);
  }
}

TEST(MessageParserTest, ParsedValuesMatch) {
  std::string block = "0123456789";
  std::string hashes(64, 'h');
  std::vector<Message> all = AllMessages(block, hashes);
  std::string stream;
  for (const Message& m : all) stream += Encode(m);
  MessageParser parser(TenPieces());
  parser.Feed(stream);
  for (const Message& want : all) {
    absl::StatusOr<std::optional<Message>> got = parser.Next();
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, want) << MessageName(want);
  }
  absl::StatusOr<std::optional<Message>> end = parser.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(MessageParserTest, WholePiecePayloadIsAViewIntoTheInput) {
  std::string stream = Encode(Have{1});
  std::string block(kBlockSize, 'x');
  AppendPiece(1, 0, block, &stream);
  MessageParser parser;
  parser.Feed(stream);
  ASSERT_TRUE(parser.Next().ok());
  absl::StatusOr<std::optional<Message>> m = parser.Next();
  ASSERT_TRUE(m.ok() && *m);
  const Piece& p = std::get<Piece>(**m);
  EXPECT_EQ(p.data.data(), stream.data() + 9 + kPieceHeaderSize);
  EXPECT_EQ(p.data.size(), kBlockSize);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(MessageParserTest, StraddlingMessageIsAssembledAndNothingMore) {
  std::string stream;
  AppendPiece(1, 0, std::string(100, 'x'), &stream);
  AppendHave(2, &stream);
  MessageParser parser;
  parser.Feed(std::string_view(stream).substr(0, 50));
  absl::StatusOr<std::optional<Message>> m = parser.Next();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(*m);
  EXPECT_EQ(parser.buffered_bytes(), 50u);
  std::string rest = stream.substr(50);
  parser.Feed(rest);
  m = parser.Next();
  ASSERT_TRUE(m.ok() && *m);
  EXPECT_EQ(std::get<Piece>(**m).data, std::string(100, 'x'));
  // The have message was not copied: it is parsed in place from `rest`.
  m = parser.Next();
  ASSERT_TRUE(m.ok() && *m);
  EXPECT_EQ(std::get<Have>(**m).piece, 2u);
  EXPECT_EQ(parser.stream_offset(), stream.size());
}

TEST(MessageParserTest, FeedBeforeDrainingKeepsEverything) {
  std::string a = Encode(Have{1}) + Encode(Have{2});
  std::string b = Encode(Have{3});
  MessageParser parser;
  parser.Feed(a);
  absl::StatusOr<std::optional<Message>> m = parser.Next();
  ASSERT_TRUE(m.ok() && *m);
  EXPECT_EQ(std::get<Have>(**m).piece, 1u);
  parser.Feed(b);  // Have{2} still pending in `a`
  a.assign(a.size(), '\xEE');
  for (uint32_t want : {2u, 3u}) {
    m = parser.Next();
    ASSERT_TRUE(m.ok() && *m) << want;
    EXPECT_EQ(std::get<Have>(**m).piece, want);
  }
  m = parser.Next();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(*m);
}

// Every proper prefix of a message is incomplete: no message, no error.
TEST(MessageParserTest, TruncatedStreamsYieldNothing) {
  std::string block(300, 'p');
  std::string hashes(64, 'h');
  for (const Message& m : AllMessages(block, hashes)) {
    std::string bytes = Encode(m);
    ParserOptions o = TenPieces();
    o.expect_handshake = std::holds_alternative<Handshake>(m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      MessageParser parser(o);
      std::string prefix = bytes.substr(0, n);
      parser.Feed(prefix);
      absl::StatusOr<std::optional<Message>> got = parser.Next();
      ASSERT_TRUE(got.ok()) << MessageName(m) << " " << n << got.status();
      EXPECT_FALSE(*got) << MessageName(m) << " " << n;
    }
  }
}

absl::Status ParseOne(std::string_view bytes, ParserOptions o = {}) {
  MessageParser parser(o);
  parser.Feed(bytes);
  absl::StatusOr<std::optional<Message>> m = parser.Next();
  if (!m.ok()) return m.status();
  if (!*m) return absl::UnknownError("incomplete");
  return absl::OkStatus();
}

// Fixed-size messages whose length prefix is one too short or too long
// (with the matching payload) are rejected, and the error names the rule.
TEST(MessageParserTest, WrongLengthFixedSizeMessagesRejected) {
  struct Case {
    int id;
    int payload;
  };
  for (Case c : std::vector<Case>{{0, 0},
                                  {1, 0},
                                  {2, 0},
                                  {3, 0},
                                  {4, 4},
                                  {6, 12},
                                  {8, 12},
                                  {9, 2},
                                  {13, 4},
                                  {14, 0},
                                  {15, 0},
                                  {16, 12},
                                  {17, 4},
                                  {21, 48},
                                  {23, 48}}) {
    for (int payload = 0; payload <= c.payload + 3; ++payload) {
      if (payload == c.payload) continue;
      std::string bytes = Bytes({0, 0, 0, payload + 1, c.id});
      // Valid-looking contents: block length 1, hash count 2.
      std::string body(payload, '\0');
      if (c.id == 6 || c.id == 8 || c.id == 16) {
        if (payload >= 12) body[11] = 1;
      }
      absl::Status s = ParseOne(bytes + body);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument)
          << c.id << " payload " << payload << ": " << s;
      EXPECT_NE(s.message().find("expected"), std::string_view::npos) << s;
      // The error is raised as soon as the id byte arrives.
      EXPECT_EQ(ParseOne(bytes).code(), StatusCode::kInvalidArgument) << c.id;
    }
  }
}

TEST(MessageParserTest, MaxMessageLengthCheckedOnThePrefixAlone) {
  ParserOptions o;
  o.max_message_length = 100;
  EXPECT_EQ(ParseOne(Bytes({0, 0, 0, 101}), o).code(),
            StatusCode::kResourceExhausted);
  absl::Status s = ParseOne(Bytes({0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("maximum message length"), std::string_view::npos);
  std::string ok = Bytes({0, 0, 0, 100, 20, 1}) + std::string(98, 'e');
  EXPECT_TRUE(ParseOne(ok, o).ok());
}

TEST(MessageParserTest, BitfieldSizeAndSpareBits) {
  ParserOptions o;
  o.num_pieces = 10;
  EXPECT_TRUE(ParseOne(Encode(Bitfield{"\xFF\xC0"}), o).ok());
  EXPECT_FALSE(ParseOne(Encode(Bitfield{"\xFF"}), o).ok());
  EXPECT_FALSE(
      ParseOne(Encode(Bitfield{std::string_view("\xFF\xC0\x00", 3)}), o).ok());
  absl::Status s = ParseOne(Encode(Bitfield{"\xFF\xE0"}), o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("spare bits"), std::string_view::npos) << s;
  EXPECT_FALSE(ParseOne(Encode(Bitfield{"\xFF\xC1"}), o).ok());
  o.num_pieces = 16;
  EXPECT_TRUE(ParseOne(Encode(Bitfield{"\xFF\xFF"}), o).ok());
  // Unknown piece count: any size.
  EXPECT_TRUE(ParseOne(Encode(Bitfield{"\xFF\xFF\x01"})).ok());
  // Piece count known later.
  MessageParser parser;
  parser.set_num_pieces(3);
  std::string b = Encode(Bitfield{"\xF0"});
  parser.Feed(b);
  EXPECT_FALSE(parser.Next().ok());
}

TEST(MessageParserTest, PieceIndicesCheckedWhenPieceCountKnown) {
  ParserOptions o;
  o.num_pieces = 10;
  EXPECT_TRUE(ParseOne(Encode(Have{9}), o).ok());
  for (const Message& m : std::vector<Message>{
           Have{10}, Suggest{10}, AllowedFast{10}, Request{10, 0, 1},
           Cancel{10, 0, 1}, Reject{10, 0, 1}, Piece{10, 0, "x"}}) {
    absl::Status s = ParseOne(Encode(m), o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << MessageName(m);
    EXPECT_NE(s.message().find("out of range"), std::string_view::npos) << s;
  }
}

TEST(MessageParserTest, BlockLengths) {
  EXPECT_TRUE(ParseOne(Encode(Request{0, 0, kBlockSize})).ok());
  EXPECT_FALSE(ParseOne(Encode(Request{0, 0, kBlockSize + 1})).ok());
  EXPECT_FALSE(ParseOne(Encode(Request{0, 0, 0})).ok());
  EXPECT_FALSE(ParseOne(Encode(Cancel{0, 0, 0})).ok());
  EXPECT_FALSE(ParseOne(Encode(Reject{0, 0, kBlockSize + 1})).ok());
  EXPECT_FALSE(ParseOne(Encode(Request{0, 0xFFFFC000, 0x8000}),
                        ParserOptions{.max_block_length = 0x8000})
                   .ok());
  std::string big(kBlockSize + 1, 'x');
  absl::Status s = ParseOne(Encode(Piece{0, 0, big}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("maximum block length"), std::string_view::npos);
  // Rejected from the header alone, before the block arrives.
  std::string header;
  AppendPieceHeader(0, 0, kBlockSize + 1, &header);
  EXPECT_FALSE(ParseOne(header.substr(0, 5)).ok());
  // A piece message without a block.
  EXPECT_FALSE(ParseOne(Bytes({0, 0, 0, 9, 7, 0, 0, 0, 0, 0, 0, 0, 0})).ok());
  EXPECT_FALSE(ParseOne(Bytes({0, 0, 0, 5, 7, 0, 0, 0, 0})).ok());
  ParserOptions o;
  o.max_block_length = 1 << 17;
  std::string bigger(1 << 17, 'y');
  EXPECT_TRUE(ParseOne(Encode(Piece{0, 0, bigger}), o).ok());
}

TEST(MessageParserTest, ExtendedNeedsAnId) {
  EXPECT_FALSE(ParseOne(Bytes({0, 0, 0, 1, 20})).ok());
  EXPECT_TRUE(ParseOne(Bytes({0, 0, 0, 2, 20, 0})).ok());
}

TEST(MessageParserTest, HashMessageRules) {
  HashRange r;
  r.length = 4;
  r.index = 8;
  EXPECT_TRUE(ParseOne(Encode(HashRequest{r})).ok());
  r.length = 3;
  EXPECT_FALSE(ParseOne(Encode(HashRequest{r})).ok());
  r.length = 1;
  EXPECT_FALSE(ParseOne(Encode(HashReject{r})).ok());
  r.length = 16;
  absl::Status s = ParseOne(Encode(HashRequest{r}));
  EXPECT_NE(s.message().find("multiple"), std::string_view::npos) << s;
  r.length = 2;
  EXPECT_TRUE(ParseOne(Encode(Hashes{r, std::string(64, 'h')})).ok());
  EXPECT_FALSE(ParseOne(Encode(Hashes{r, std::string(32, 'h')})).ok());
  EXPECT_FALSE(ParseOne(Encode(Hashes{r, std::string(65, 'h')})).ok());
  EXPECT_FALSE(ParseOne(Encode(Hashes{r, ""})).ok());
}

TEST(MessageParserTest, FastMessagesNeedTheFastExtension) {
  ParserOptions o;
  o.fast_extension = false;
  for (const Message& m :
       std::vector<Message>{Suggest{1}, HaveAll{}, HaveNone{}, Reject{0, 0, 1},
                            AllowedFast{1}}) {
    absl::Status s = ParseOne(Encode(m), o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << MessageName(m);
    EXPECT_NE(s.message().find("Fast extension"), std::string_view::npos);
  }
  EXPECT_TRUE(ParseOne(Encode(Have{1}), o).ok());
}

TEST(MessageParserTest, UnknownIds) {
  std::string m = Bytes({0, 0, 0, 3, 99, 1, 2});
  EXPECT_TRUE(ParseOne(m).ok());
  ParserOptions o;
  o.allow_unknown_messages = false;
  absl::Status s = ParseOne(m, o);
  EXPECT_NE(s.message().find("unknown message id"), std::string_view::npos);
}

TEST(MessageParserTest, ErrorsAreStickyAndNameTheOffset) {
  std::string stream = Encode(Have{1}) + Encode(Have{2}) +
                       Bytes({0, 0, 0, 2, 0, 0}) + Encode(Have{3});
  MessageParser parser;
  parser.Feed(stream);
  ASSERT_TRUE(parser.Next().ok());
  ASSERT_TRUE(parser.Next().ok());
  absl::Status s = parser.Next().status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("choke"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("offset 18"), std::string_view::npos) << s;
  EXPECT_EQ(parser.Next().status(), s);
  parser.Feed(Encode(Have{4}));
  EXPECT_EQ(parser.Next().status(), s);
}

TEST(MessageParserTest, BadHandshakeDetectedOnTheFirstWrongByte) {
  ParserOptions o;
  o.expect_handshake = true;
  MessageParser parser(o);
  for (char c : std::string("\x13"
                            "BitTorrent")) {
    parser.Feed(std::string_view(&c, 1));
    ASSERT_TRUE(parser.Next().ok());
  }
  parser.Feed("X");
  absl::Status s = parser.Next().status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("byte 11"), std::string_view::npos) << s;
  EXPECT_EQ(ParseOne("GET / HTTP/1.1\r\n", o).code(),
            StatusCode::kInvalidArgument);
}

// Random interleavings of Feed and Next, including Feed before the previous
// input was drained, yield the same messages as parsing the whole stream.
TEST(MessageParserTest, RandomFeedAndNextInterleavings) {
  std::string block(5000, 'z');
  std::string hashes(64, 'h');
  std::string stream;
  std::vector<std::string> expected;
  for (int round = 0; round < 5; ++round) {
    for (const Message& m : AllMessages(block, hashes)) {
      if (std::holds_alternative<Handshake>(m) && round > 0) continue;
      expected.push_back(Encode(m));
      stream += expected.back();
    }
  }
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    MessageParser parser(TenPieces());
    std::vector<std::unique_ptr<std::string>> chunks;  // kept alive
    std::vector<std::string> got;
    size_t pos = 0;
    while (got.size() < expected.size()) {
      if (pos < stream.size() && rng() % 3 != 0) {
        size_t n = std::min<size_t>(1 + rng() % 700, stream.size() - pos);
        chunks.push_back(std::make_unique<std::string>(stream.substr(pos, n)));
        pos += n;
        parser.Feed(*chunks.back());
      }
      int nexts = static_cast<int>(rng() % 4);
      for (int i = 0; i < nexts || pos == stream.size(); ++i) {
        absl::StatusOr<std::optional<Message>> m = parser.Next();
        ASSERT_TRUE(m.ok()) << m.status();
        if (!*m) break;
        got.push_back(Encode(**m));
      }
    }
    ASSERT_EQ(got, expected) << "trial " << trial;
    EXPECT_EQ(parser.stream_offset(), stream.size());
    EXPECT_EQ(parser.buffered_bytes(), 0u);
  }
}

TEST(MessageParserTest, KeepAlivesBetweenMessages) {
  std::string stream = Encode(KeepAlive{}) + Encode(KeepAlive{}) +
                       Encode(Unchoke{}) + Encode(KeepAlive{});
  absl::StatusOr<std::vector<std::string>> got = ParseChunks(stream, {1});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[2], Encode(Unchoke{}));
}

}  // namespace
}  // namespace bt::protocol
