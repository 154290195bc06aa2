#include "protocol/ut_pex.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

using ::absl::StatusCode;

std::array<uint8_t, 16> V6(uint8_t last) {
  std::array<uint8_t, 16> a{};
  a[0] = 0x20;
  a[1] = 0x01;
  a[15] = last;
  return a;
}

TEST(UtPexTest, RoundTripExactBytes) {
  PexMessage m;
  m.added = {Endpoint::V4({10, 0, 0, 1}, 6881), Endpoint::V4({10, 0, 0, 2}, 1)};
  m.added_flags = {kPexSeed | kPexReachable, kPexPrefersEncryption};
  m.added6 = {Endpoint::V6(V6(1), 0x1234)};
  m.added6_flags = {kPexUtp};
  m.dropped = {Endpoint::V4({192, 168, 1, 1}, 80)};
  m.dropped6 = {Endpoint::V6(V6(2), 443)};
  std::string out;
  AppendPexMessage(m, &out);
  std::string want = "d5:added12:";
  want += std::string("\x0a\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x01", 12);
  want += "7:added.f2:";
  want += std::string("\x12\x01", 2);
  want += "6:added618:";
  want += std::string(AsChars(ByteSpan(V6(1)))) + "\x12\x34";
  want += "8:added6.f1:";
  want += '\x04';
  want += "7:dropped6:";
  want += std::string("\xc0\xa8\x01\x01\x00\x50", 6);
  want += "8:dropped618:";
  want += std::string(AsChars(ByteSpan(V6(2)))) + std::string("\x01\xbb", 2);
  want += "e";
  EXPECT_EQ(out, want);
  absl::StatusOr<PexMessage> back = ParsePexMessage(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(UtPexTest, FlagsOptionalAndListsMayBeMissing) {
  absl::StatusOr<PexMessage> m = ParsePexMessage("d7:dropped0:e");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->dropped.empty());
  m =
      ParsePexMessage(std::string("d5:added6:\x01\x02\x03\x04\x00\x05"
                                  "e",
                                  17));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->added.size(), 1u);
  EXPECT_EQ(m->added[0].ToString(), "1.2.3.4:5");
  EXPECT_TRUE(m->added_flags.empty());
  // Unknown keys are ignored.
  EXPECT_TRUE(ParsePexMessage("d5:added0:3:zzzi1ee").ok());
}

TEST(UtPexTest, Rejects) {
  struct Case {
    std::string payload;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {"de", "none of"},
           {"d3:zzzi1ee", "none of"},
           {"le", "not a dictionary"},
           {"d5:addedi1ee", "\"added\" is not a string"},
           {"d5:added5:abcdee", "\"added\""},
           {"d6:added66:abcdefe", "\"added6\""},
           {"d7:dropped7:abcdefge", "\"dropped\""},
           {"d8:dropped617:abcdefghijklmnopqe", "\"dropped6\""},
           {"d5:added6:abcdef7:added.f2:xxe", "\"added.f\" has 2 flag bytes"},
           {"d5:added6:abcdef7:added.fi1ee", "\"added.f\" is not a string"},
           {"d5:added0:8:added6.f1:xe", "\"added6.f\""},
           {"d5:added6:abcdef", "ut_pex"},
       }) {
    absl::Status s = ParsePexMessage(c.payload).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.payload;
    EXPECT_NE(s.message().find(c.needle), std::string_view::npos)
        << c.payload << ": " << s;
  }
}

TEST(UtPexTest, PeerListLimit) {
  PexMessage m;
  for (int i = 0; i < 11; ++i) {
    m.dropped.push_back(Endpoint::V4({10, 0, 0, static_cast<uint8_t>(i)}, 1));
  }
  std::string out;
  AppendPexMessage(m, &out);
  PexLimits limits;
  limits.max_peers_per_list = 10;
  EXPECT_EQ(ParsePexMessage(out, limits).status().code(),
            StatusCode::kResourceExhausted);
  limits.max_peers_per_list = 11;
  EXPECT_TRUE(ParsePexMessage(out, limits).ok());
}

TEST(UtPexTest, BuilderSkipsWrongFamilyAndMismatchedFlags) {
  PexMessage m;
  m.added = {Endpoint::V4({1, 1, 1, 1}, 1), Endpoint::V6(V6(1), 2)};
  m.added_flags = {1, 2};  // two flags, but only one IPv4 peer is written
  std::string out;
  AppendPexMessage(m, &out);
  absl::StatusOr<PexMessage> back = ParsePexMessage(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->added.size(), 1u);
  EXPECT_TRUE(back->added_flags.empty());
  EXPECT_TRUE(back->added6.empty());
}

TEST(UtPexTest, EveryTruncationRejected) {
  PexMessage m;
  m.added = {Endpoint::V4({10, 0, 0, 1}, 6881)};
  m.added_flags = {2};
  std::string out;
  AppendPexMessage(m, &out);
  for (size_t n = 0; n < out.size(); ++n) {
    EXPECT_FALSE(ParsePexMessage(out.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace bt::protocol
