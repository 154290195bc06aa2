#include "protocol/utp/packet.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::protocol::utp {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

// Bytes builds a datagram from byte values.
std::string Bytes(std::vector<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// A header with every field distinct, so a swapped or misplaced field shows.
PacketHeader SampleHeader(PacketType type) {
  PacketHeader h;
  h.type = type;
  h.connection_id = 0xa1b2;
  h.timestamp_us = 0x01020304;
  h.timestamp_difference_us = 0x05060708;
  h.window_size = 0x00100000;
  h.seq_nr = 0xfffe;
  h.ack_nr = 0x0102;
  return h;
}

void ExpectInvalid(std::string_view datagram, std::string_view message) {
  absl::StatusOr<Packet> p = ParsePacket(datagram);
  ASSERT_FALSE(p.ok()) << message;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(message));
}

TEST(PacketTest, TypeNamesAreTheBepNames) {
  EXPECT_EQ(PacketTypeName(PacketType::kData), "ST_DATA");
  EXPECT_EQ(PacketTypeName(PacketType::kFin), "ST_FIN");
  EXPECT_EQ(PacketTypeName(PacketType::kState), "ST_STATE");
  EXPECT_EQ(PacketTypeName(PacketType::kReset), "ST_RESET");
  EXPECT_EQ(PacketTypeName(PacketType::kSyn), "ST_SYN");
  EXPECT_EQ(PacketTypeName(static_cast<PacketType>(9)), "ST_UNKNOWN");
}

// The BEP's version 1 header, written out by hand: type and version share
// the first byte (type high), then extension, connection_id,
// timestamp_microseconds, timestamp_difference_microseconds, wnd_size,
// seq_nr and ack_nr, all big-endian.
TEST(PacketTest, HeaderLayoutIsTheBeps) {
  const std::string wire = Bytes({
      0x41,                    // type 4 (ST_SYN), version 1
      0x00,                    // no extension
      0xa1, 0xb2,              // connection_id
      0x01, 0x02, 0x03, 0x04,  // timestamp_microseconds
      0x05, 0x06, 0x07, 0x08,  // timestamp_difference_microseconds
      0x00, 0x10, 0x00, 0x00,  // wnd_size
      0xff, 0xfe,              // seq_nr
      0x01, 0x02,              // ack_nr
  });
  ASSERT_EQ(wire.size(), kHeaderSize);
  absl::StatusOr<Packet> p = ParsePacket(wire);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->header, SampleHeader(PacketType::kSyn));
  EXPECT_TRUE(p->selective_ack.empty());
  EXPECT_TRUE(p->payload.empty());

  Packet out;
  out.header = SampleHeader(PacketType::kSyn);
  EXPECT_EQ(EncodePacket(out), wire);
}

TEST(PacketTest, SelectiveAckLayoutIsTheBeps) {
  // ST_STATE with a 4-byte mask: extension byte 1, then (next 0, len 4).
  Packet out;
  out.header = SampleHeader(PacketType::kState);
  const std::string mask = Bytes({0x01, 0x00, 0x00, 0x80});
  out.selective_ack = mask;
  out.payload = "xy";
  const std::string wire = EncodePacket(out);
  ASSERT_EQ(wire.size(), 20u + 2u + 4u + 2u);
  EXPECT_EQ(EncodedSize(out), wire.size());
  EXPECT_EQ(wire[0], '\x21');  // type 2, version 1
  EXPECT_EQ(wire[1], '\x01');  // first extension: selective ACK
  EXPECT_EQ(wire.substr(20),
            Bytes({0x00, 0x04, 0x01, 0x00, 0x00, 0x80}) + "xy");
}

TEST(PacketTest, AllTypesRoundTripWithAndWithoutSelectiveAck) {
  const std::string mask = Bytes({0xff, 0x00, 0x5a, 0x01, 0, 0, 0, 0x80});
  for (PacketType type :
       {PacketType::kData, PacketType::kFin, PacketType::kState,
        PacketType::kReset, PacketType::kSyn}) {
    for (std::string_view sack : {std::string_view(), std::string_view(mask)}) {
      for (std::string_view payload : {"", "payload bytes"}) {
        SCOPED_TRACE(std::string(PacketTypeName(type)) + " sack " +
                     std::to_string(sack.size()) + " payload " +
                     std::to_string(payload.size()));
        Packet in;
        in.header = SampleHeader(type);
        in.selective_ack = sack;
        in.payload = payload;
        std::string wire = EncodePacket(in);
        EXPECT_EQ(wire.size(), EncodedSize(in));
        EXPECT_TRUE(LooksLikeUtp(wire));
        absl::StatusOr<Packet> out = ParsePacket(wire);
        ASSERT_TRUE(out.ok()) << out.status();
        EXPECT_EQ(*out, in);
        EXPECT_EQ(out->header, in.header);
        EXPECT_EQ(out->selective_ack, sack);
        EXPECT_EQ(out->payload, payload);
        // The views point into the datagram.
        if (!payload.empty()) {
          EXPECT_EQ(out->payload.data() + out->payload.size(),
                    wire.data() + wire.size());
        }
      }
    }
  }
}

TEST(PacketTest, EncodesIntoACallersSpan) {
  Packet in;
  in.header = SampleHeader(PacketType::kData);
  const std::string mask(8, '\x0f');
  in.selective_ack = mask;
  in.payload = "abc";
  std::string buffer(100, '#');
  size_t n = EncodePacket(in, absl::MakeSpan(buffer));
  EXPECT_EQ(n, EncodedSize(in));
  EXPECT_EQ(buffer.substr(0, n), EncodePacket(in));
  EXPECT_EQ(buffer.substr(n), std::string(100 - n, '#'));  // nothing past n

  std::string exact(EncodedSize(in), '\0');
  EXPECT_EQ(EncodePacket(in, absl::MakeSpan(exact)), exact.size());
  EXPECT_EQ(exact, EncodePacket(in));
}

TEST(PacketDeathTest, EncodingIntoTooSmallASpanAbortsRatherThanOverrun) {
  Packet in;
  in.header = SampleHeader(PacketType::kData);
  in.payload = "abc";
  std::string small(EncodedSize(in) - 1, '\0');
  EXPECT_DEATH(EncodePacket(in, absl::MakeSpan(small)), "");
}

TEST(PacketTest, LargestSelectiveAckRoundTrips) {
  Packet in;
  in.header = SampleHeader(PacketType::kState);
  std::string mask(kMaxSelectiveAckSize, '\0');
  SetSelectiveAckBit(mask, kMaxSelectiveAckSize * 8 - 1);
  in.selective_ack = mask;
  std::string wire = EncodePacket(in);
  EXPECT_EQ(static_cast<uint8_t>(wire[21]), kMaxSelectiveAckSize);
  absl::StatusOr<Packet> out = ParsePacket(wire);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, in);
}

// Each proper prefix of a packet with a selective ACK and a payload is
// either an error (cut inside the header or the extension) or the same
// packet with a shorter payload; never a crash, never a different header.
TEST(PacketTest, EveryPrefixIsAnErrorOrTheSamePacketWithLessPayload) {
  Packet in;
  in.header = SampleHeader(PacketType::kData);
  const std::string mask = Bytes({1, 2, 3, 4, 5, 6, 7, 8});
  in.selective_ack = mask;
  in.payload = "0123456789";
  const std::string wire = EncodePacket(in);
  const size_t payload_start = wire.size() - in.payload.size();
  ASSERT_EQ(payload_start, 20u + 2u + 8u);
  for (size_t n = 0; n < wire.size(); ++n) {
    SCOPED_TRACE(n);
    // A view, not a copy: the parsed views must point into live memory.
    absl::StatusOr<Packet> p = ParsePacket(std::string_view(wire).substr(0, n));
    if (n < payload_start) {
      ASSERT_FALSE(p.ok());
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(p.status().message()),
                  HasSubstr("truncated at byte " + std::to_string(n)));
    } else {
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_EQ(p->header, in.header);
      EXPECT_EQ(p->selective_ack, mask);
      EXPECT_EQ(p->payload, in.payload.substr(0, n - payload_start));
    }
  }
}

TEST(PacketTest, UnknownExtensionsAreSkipped) {
  // Extension chain: type 2 (3 bytes) -> type 1 SACK (4 bytes) -> type 77
  // (0 bytes) -> end, then payload "pl".
  std::string wire = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  wire[1] = 2;
  wire += Bytes({1, 3}) + "abc";
  wire += Bytes({77, 4, 0x10, 0, 0, 0});
  wire += Bytes({0, 0});
  wire += "pl";
  absl::StatusOr<Packet> p = ParsePacket(wire);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->header, SampleHeader(PacketType::kState));
  EXPECT_EQ(p->selective_ack, Bytes({0x10, 0, 0, 0}));
  EXPECT_TRUE(SelectiveAckHas(p->selective_ack, 4));
  EXPECT_EQ(p->payload, "pl");

  // Only unknown extensions: no selective ACK.
  std::string only_unknown =
      EncodePacket(Packet{SampleHeader(PacketType::kData)});
  only_unknown[1] = 9;
  only_unknown += Bytes({0, 2}) + "zz" + "data";
  p = ParsePacket(only_unknown);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->selective_ack.empty());
  EXPECT_EQ(p->payload, "data");

  // Re-encoding drops what was not understood.
  Packet again = *p;
  EXPECT_EQ(EncodePacket(again),
            EncodePacket(Packet{SampleHeader(PacketType::kData), "", "data"}));
}

TEST(PacketTest, ShortDatagramIsRejected) {
  const std::string wire =
      EncodePacket(Packet{SampleHeader(PacketType::kState)});
  ExpectInvalid("", "utp header: truncated at byte 0");
  ExpectInvalid(wire.substr(0, 19), "utp header: truncated at byte 19");
}

TEST(PacketTest, OtherVersionsAreRejected) {
  std::string wire = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  wire[0] = 0x22;  // ST_STATE, version 2
  ExpectInvalid(wire, "utp header: version 2 at byte 0");
  wire[0] = 0x20;  // version 0 (the pre-BEP format)
  ExpectInvalid(wire, "utp header: version 0 at byte 0");
}

TEST(PacketTest, UnknownTypesAreRejected) {
  std::string wire = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  wire[0] = 0x51;
  ExpectInvalid(wire, "utp header: unknown packet type 5 at byte 0");
  wire[0] = '\xf1';
  ExpectInvalid(wire, "utp header: unknown packet type 15 at byte 0");
}

TEST(PacketTest, TruncatedExtensionsAreRejected) {
  std::string header = EncodePacket(Packet{SampleHeader(PacketType::kData)});
  header[1] = 1;
  // No room for the extension's (next, len) header at all, or half of it.
  ExpectInvalid(header,
                "utp extension 1 at byte 20: header truncated at byte 20");
  ExpectInvalid(header + Bytes({0}),
                "utp extension 1 at byte 20: header truncated at byte 21");
  // The length says 8, 4 bytes follow.
  ExpectInvalid(header + Bytes({0, 8, 1, 2, 3, 4}),
                "utp extension 1 at byte 20: 8-byte body truncated at byte 26");
  // A later link cut short: unknown type 5 (1 byte) says next is type 3,
  // whose header is missing, then whose body is.
  std::string chain = header;
  chain[1] = 5;
  ExpectInvalid(chain + Bytes({3, 1, 0xaa}),
                "utp extension 3 at byte 23: header truncated at byte 23");
  ExpectInvalid(chain + Bytes({3, 1, 0xaa, 0, 200}) + "short",
                "utp extension 3 at byte 23: 200-byte body truncated at byte "
                "30");
}

TEST(PacketTest, EmptySelectiveAckIsRejected) {
  std::string header = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  header[1] = 1;
  ExpectInvalid(header + Bytes({0, 0}),
                "utp selective ack: length 0 at byte 21");
  // After an unknown extension the offset moves with it.
  header[1] = 2;
  ExpectInvalid(header + Bytes({1, 1, 0xaa, 0, 0}),
                "utp selective ack: length 0 at byte 24");
}

// libtorrent sends masks of lengths that are not multiples of 4 (seen: 1
// and 6 bytes); they are read as they are.
TEST(PacketTest, SelectiveAckOfAnyLengthAsLibtorrentSends) {
  std::string header = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  header[1] = 1;
  for (const std::string& mask :
       {Bytes({0x05}), Bytes({1, 0, 0, 0, 0, 0x80})}) {
    const std::string wire =
        header + Bytes({0, static_cast<uint8_t>(mask.size())}) + mask;
    absl::StatusOr<Packet> p = ParsePacket(wire);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->selective_ack, mask);
    EXPECT_EQ(EncodePacket(*p), wire);
  }
  const std::string one_byte = header + Bytes({0, 1, 0x05});
  absl::StatusOr<Packet> p = ParsePacket(one_byte);  // views into one_byte
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(SelectiveAckHas(p->selective_ack, 0));
  EXPECT_FALSE(SelectiveAckHas(p->selective_ack, 1));
  EXPECT_TRUE(SelectiveAckHas(p->selective_ack, 2));
  EXPECT_FALSE(SelectiveAckHas(p->selective_ack, 8));
}

TEST(PacketTest, SecondSelectiveAckIsRejected) {
  std::string header = EncodePacket(Packet{SampleHeader(PacketType::kState)});
  header[1] = 1;
  ExpectInvalid(header + Bytes({1, 4, 1, 0, 0, 0, 0, 4, 2, 0, 0, 0}),
                "utp selective ack: a second one at byte 26");
}

// A chain of many empty unknown extensions costs two bytes each and ends.
TEST(PacketTest, LongExtensionChainIsWalkedToTheEnd) {
  std::string wire = EncodePacket(Packet{SampleHeader(PacketType::kData)});
  wire[1] = 7;
  for (int i = 0; i < 10000; ++i) wire += Bytes({7, 0});
  ExpectInvalid(wire, "utp extension 7 at byte 20020: header truncated");
  wire += Bytes({0, 0}) + "end";
  absl::StatusOr<Packet> p = ParsePacket(wire);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->payload, "end");
}

TEST(PacketTest, PayloadOnNonDataPacketsIsParsed) {
  for (PacketType type : {PacketType::kFin, PacketType::kState,
                          PacketType::kReset, PacketType::kSyn}) {
    std::string wire =
        EncodePacket(Packet{SampleHeader(type), "", "stray bytes"});
    absl::StatusOr<Packet> p = ParsePacket(wire);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->payload, "stray bytes");
  }
}

TEST(PacketTest, LooksLikeUtpTellsUtpFromKrpc) {
  const std::string ping =
      "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  EXPECT_FALSE(LooksLikeUtp(ping));
  EXPECT_FALSE(ParsePacket(ping).ok());
  for (PacketType type :
       {PacketType::kData, PacketType::kFin, PacketType::kState,
        PacketType::kReset, PacketType::kSyn}) {
    EXPECT_TRUE(LooksLikeUtp(EncodePacket(Packet{SampleHeader(type)})));
  }
  std::string wire = EncodePacket(Packet{SampleHeader(PacketType::kSyn)});
  EXPECT_FALSE(LooksLikeUtp(wire.substr(0, 19)));  // too short
  wire[0] = 0x42;
  EXPECT_FALSE(LooksLikeUtp(wire));  // version 2
  wire[0] = 0x51;
  EXPECT_FALSE(LooksLikeUtp(wire));  // type 5
  EXPECT_FALSE(LooksLikeUtp(""));
}

TEST(PacketTest, SelectiveAckBitsAreLeastSignificantFirst) {
  std::string mask(4, '\0');
  SetSelectiveAckBit(mask, 0);   // ack_nr + 2
  SetSelectiveAckBit(mask, 7);   // ack_nr + 9
  SetSelectiveAckBit(mask, 8);   // ack_nr + 10
  SetSelectiveAckBit(mask, 31);  // ack_nr + 33
  EXPECT_EQ(mask, Bytes({0x81, 0x01, 0x00, 0x80}));
  SetSelectiveAckBit(mask, 0);  // setting twice is harmless
  EXPECT_EQ(mask, Bytes({0x81, 0x01, 0x00, 0x80}));
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(SelectiveAckHas(mask, i), i == 0 || i == 7 || i == 8 || i == 31)
        << i;
  }
  EXPECT_FALSE(SelectiveAckHas(mask, 32));  // past the end
  EXPECT_FALSE(SelectiveAckHas(mask, 1000000));
  EXPECT_FALSE(SelectiveAckHas("", 0));
}

}  // namespace
}  // namespace bt::protocol::utp
