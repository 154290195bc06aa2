// Exact wire layouts of every message, as the BEPs give them.
#include "protocol/message.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

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

TEST(MessageTest, NoPayloadMessages) {
  // BEP 3: <len=0001><id>; BEP 6: have all 0x0E, have none 0x0F.
  EXPECT_EQ(Encode(KeepAlive{}), Bytes({0, 0, 0, 0}));
  EXPECT_EQ(Encode(Choke{}), Bytes({0, 0, 0, 1, 0}));
  EXPECT_EQ(Encode(Unchoke{}), Bytes({0, 0, 0, 1, 1}));
  EXPECT_EQ(Encode(Interested{}), Bytes({0, 0, 0, 1, 2}));
  EXPECT_EQ(Encode(NotInterested{}), Bytes({0, 0, 0, 1, 3}));
  EXPECT_EQ(Encode(HaveAll{}), Bytes({0, 0, 0, 1, 0x0E}));
  EXPECT_EQ(Encode(HaveNone{}), Bytes({0, 0, 0, 1, 0x0F}));
}

TEST(MessageTest, OneIntMessages) {
  EXPECT_EQ(Encode(Have{0x01020304}), Bytes({0, 0, 0, 5, 4, 1, 2, 3, 4}));
  // BEP 6: Suggest <len=0x0005><op=0x0D><index>, Allowed Fast op=0x11.
  EXPECT_EQ(Encode(Suggest{7}), Bytes({0, 0, 0, 5, 0x0D, 0, 0, 0, 7}));
  EXPECT_EQ(Encode(AllowedFast{258}), Bytes({0, 0, 0, 5, 0x11, 0, 0, 1, 2}));
  std::string out;
  AppendHave(0x01020304, &out);
  EXPECT_EQ(out, Encode(Have{0x01020304}));
}

TEST(MessageTest, BlockReferenceMessages) {
  const std::string tail = Bytes({0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0});
  EXPECT_EQ(Encode(Request{1, 0x4000, 0x4000}), Bytes({0, 0, 0, 13, 6}) + tail);
  EXPECT_EQ(Encode(Cancel{1, 0x4000, 0x4000}), Bytes({0, 0, 0, 13, 8}) + tail);
  // BEP 6: Reject Request <len=0x000D><op=0x10><index><begin><length>.
  EXPECT_EQ(Encode(Reject{1, 0x4000, 0x4000}),
            Bytes({0, 0, 0, 13, 0x10}) + tail);
  std::string out;
  AppendRequest(1, 0x4000, 0x4000, &out);
  AppendCancel(1, 0x4000, 0x4000, &out);
  AppendReject(1, 0x4000, 0x4000, &out);
  EXPECT_EQ(out, Encode(Request{1, 0x4000, 0x4000}) +
                     Encode(Cancel{1, 0x4000, 0x4000}) +
                     Encode(Reject{1, 0x4000, 0x4000}));
}

TEST(MessageTest, BitfieldAndPiece) {
  EXPECT_EQ(Encode(Bitfield{"\xF0\x80"}), Bytes({0, 0, 0, 3, 5, 0xF0, 0x80}));
  EXPECT_EQ(Encode(Piece{2, 16, "abc"}),
            Bytes({0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0, 0, 16}) + "abc");
}

TEST(MessageTest, PieceHeaderAloneForScatterGather) {
  std::string header;
  AppendPieceHeader(2, 16, 3, &header);
  ASSERT_EQ(header.size(), kPieceHeaderSize);
  EXPECT_EQ(header + "abc", Encode(Piece{2, 16, "abc"}));
  std::string full;
  AppendPiece(2, 16, "abc", &full);
  EXPECT_EQ(full, header + "abc");
}

TEST(MessageTest, PortIsLengthThree) {
  // BEP 5: PORT begins with 0x09 and has a two byte payload.
  EXPECT_EQ(Encode(Port{6881}), Bytes({0, 0, 0, 3, 9, 0x1A, 0xE1}));
}

TEST(MessageTest, Extended) {
  // BEP 10: <len><20><extended id><payload>.
  EXPECT_EQ(Encode(Extended{0, "de"}), Bytes({0, 0, 0, 4, 20, 0}) + "de");
  std::string out;
  AppendExtended(3, "d8:msg_typei0e5:piecei0ee", &out);
  EXPECT_EQ(out, Bytes({0, 0, 0, 27, 20, 3}) + "d8:msg_typei0e5:piecei0ee");
}

TEST(MessageTest, HashMessages) {
  HashRange r;
  for (int i = 0; i < 32; ++i) r.pieces_root[i] = static_cast<uint8_t>(i);
  r.base_layer = 1;
  r.index = 4;
  r.length = 4;
  r.proof_layers = 2;
  std::string body = r.pieces_root.ToString() +
                     Bytes({0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2});
  EXPECT_EQ(Encode(HashRequest{r}), Bytes({0, 0, 0, 49, 21}) + body);
  EXPECT_EQ(Encode(HashReject{r}), Bytes({0, 0, 0, 49, 23}) + body);
  std::string hashes(64, 'h');
  EXPECT_EQ(Encode(Hashes{r, hashes}),
            Bytes({0, 0, 0, 49 + 64, 22}) + body + hashes);
}

TEST(MessageTest, HandshakeThroughAppendMessage) {
  Handshake hs;
  std::string out = Encode(hs);
  ASSERT_EQ(out.size(), kHandshakeLength);
  EXPECT_EQ(out.substr(0, 20), kHandshakePrefix);
}

TEST(MessageTest, Names) {
  EXPECT_EQ(MessageName(Piece{}), "piece");
  EXPECT_EQ(MessageName(HaveAll{}), "have all");
  EXPECT_EQ(MessageName(KeepAlive{}), "keep-alive");
  EXPECT_EQ(MessageName(UnknownMessage{99, ""}), "unknown");
  EXPECT_EQ(MessageIdName(23), "hash reject");
  EXPECT_EQ(MessageIdName(99), "unknown");
}

}  // namespace
}  // namespace bt::protocol
