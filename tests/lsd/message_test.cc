#include "lsd/message.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::lsd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Sha1Hash Hash(char fill) {
  std::string s(20, fill);
  return Sha1Hash::FromBytes(AsBytes(s));
}

// Cat joins strings (Debian's Abseil takes no std::string_view in StrCat).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(parts), ...);
  return out;
}

constexpr char kHexA[] =
    "6161616161616161616161616161616161616161";  // 'a' x 20

std::string Datagram(std::string_view headers) {
  return Cat("BT-SEARCH * HTTP/1.1\r\n", headers, "\r\n\r\n");
}

absl::StatusCode Code(std::string_view datagram) {
  return ParseAnnounce(datagram).status().code();
}

// The BEP's layout, as libtorrent sends it.
TEST(LsdMessageTest, ParsesTheBepLayout) {
  auto a = ParseAnnounce(
      Cat("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
          "Infohash: ",
          kHexA, "\r\ncookie: 5a0c\r\n\r\n\r\n"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "239.192.152.143:6771");
  EXPECT_EQ(a->port, 6881);
  EXPECT_THAT(a->info_hashes, ElementsAre(Hash('a')));
  EXPECT_EQ(a->cookie, "5a0c");
}

TEST(LsdMessageTest, HeaderNamesIgnoreCaseAndUnknownOnesAreSkipped) {
  auto a = ParseAnnounce(
      Datagram(Cat("PORT:80\r\nX-Future: whatever\r\ninfohash:  ",
                   absl::AsciiStrToUpper(kHexA), "\r\nINFOHASH: ", kHexA)));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->port, 80);
  EXPECT_THAT(a->info_hashes, ElementsAre(Hash('a'), Hash('a')));
  EXPECT_EQ(a->cookie, "");
  EXPECT_EQ(a->host, "");
}

TEST(LsdMessageTest, OneOrManyTrailingEmptyLines) {
  const std::string headers = Cat("Port: 1\r\nInfohash: ", kHexA);
  EXPECT_TRUE(
      ParseAnnounce(Cat("BT-SEARCH * HTTP/1.1\r\n", headers, "\r\n\r\n")).ok());
  EXPECT_TRUE(ParseAnnounce(
                  Cat("BT-SEARCH * HTTP/1.1\r\n", headers, "\r\n\r\n\r\n\r\n"))
                  .ok());
}

TEST(LsdMessageTest, RoundTripsThroughTheEncoder) {
  const std::vector<Sha1Hash> hashes = {Hash('x'), Hash('y'), Hash('z')};
  const std::string d = EncodeAnnounce(kHostV6, 51413, hashes, "c00k1e");
  auto a = ParseAnnounce(d);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, (Announce{std::string(kHostV6), 51413, hashes, "c00k1e"}));
  // Without a cookie the header is left out.
  EXPECT_THAT(EncodeAnnounce(kHostV4, 1, hashes, ""),
              ::testing::Not(HasSubstr("cookie")));
}

TEST(LsdMessageTest, EncodeAnnouncesBatchesWithinTheBepSize) {
  std::vector<Sha1Hash> hashes;
  for (int i = 0; i < 100; ++i) hashes.push_back(Hash(static_cast<char>(i)));
  const std::vector<std::string> out = EncodeAnnounces(
      kHostV6, 65535, hashes, std::string(kMaxCookieBytes, 'c'));
  ASSERT_GT(out.size(), 1u);
  std::vector<Sha1Hash> back;
  for (const std::string& d : out) {
    EXPECT_LE(d.size(), kMaxDatagramBytes);
    auto a = ParseAnnounce(d);
    ASSERT_TRUE(a.ok()) << a.status();
    back.insert(back.end(), a->info_hashes.begin(), a->info_hashes.end());
  }
  EXPECT_EQ(back, hashes);
  EXPECT_TRUE(EncodeAnnounces(kHostV4, 1, {}, "c").empty());
}

TEST(LsdMessageTest, EveryTruncatedPrefixIsRefused) {
  const std::string d = EncodeAnnounce(kHostV4, 6881, {Hash('q')}, "abc");
  // The last CRLF is optional (tolerated trailing lines), so stop before.
  for (size_t n = 0; n + 2 < d.size(); ++n) {
    EXPECT_FALSE(ParseAnnounce(d.substr(0, n)).ok()) << n;
  }
}

TEST(LsdMessageTest, RefusesMalformedAnnounces) {
  using absl::StatusCode::kInvalidArgument;
  const std::string ih = Cat("Infohash: ", kHexA);
  const std::string port = "Port: 6881\r\n";
  struct Case {
    std::string datagram;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"", "line 1"},
      {"garbage\r\n\r\n", "line 1"},
      {Cat("M-SEARCH * HTTP/1.1\r\n", port, ih, "\r\n\r\n"), "line 1"},
      {Cat("BT-SEARCH * HTTP/1.1\n", port, ih, "\r\n\r\n"), "line 1"},
      {Datagram(ih), "no Port"},
      {Datagram(port + "Host: x"), "no Infohash"},
      {Datagram("Port: 0\r\n" + ih), "Port '0'"},
      {Datagram("Port: 65536\r\n" + ih), "Port '65536'"},
      {Datagram("Port: -1\r\n" + ih), "Port '-1'"},
      {Datagram("Port: 0x10\r\n" + ih), "Port '0x10'"},
      {Datagram("Port:\r\n" + ih), "Port ''"},
      {Datagram(port + port + ih), "Port repeated"},
      {Datagram(port + "Infohash: 1234"), "40 hex"},
      {Datagram(port + "Infohash: " + std::string(40, 'g')), "40 hex"},
      {Datagram(port + ih + "00"), "40 hex"},
      {Datagram(port + ih + "\r\nno colon here"), "without a name"},
      {Datagram(port + ih + "\r\n: value"), "without a name"},
      {Datagram(port + ih + "\r\nX: a\x01z"), "control character"},
      {Datagram(port + ih + "\r\nHost: a\r\nHost: b"), "Host repeated"},
      {Datagram(port + ih + "\r\ncookie: a\r\ncookie: b"), "cookie repeated"},
      {Datagram(port + ih + "\r\ncookie: " + std::string(65, 'c')),
       "cookie longer"},
      {Cat("BT-SEARCH * HTTP/1.1\r\n", port, ih, "\r\n"), "no empty line"},
      {Cat(Datagram(port + ih), "body"), "after the headers"},
      {Cat(Datagram(port + ih), "\n"), "after the headers"},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseAnnounce(c.datagram).status();
    EXPECT_EQ(s.code(), kInvalidArgument) << c.datagram;
    EXPECT_THAT(s.message(), HasSubstr(c.why)) << c.datagram;
  }
}

TEST(LsdMessageTest, RefusesWhatIsOverTheLimits) {
  using absl::StatusCode::kResourceExhausted;
  const std::string ih = Cat("Infohash: ", kHexA, "\r\n");
  std::string many_hashes = "Port: 1\r\n";
  for (size_t i = 0; i <= kMaxInfoHashes; ++i) many_hashes += ih;
  many_hashes.resize(many_hashes.size() - 2);
  EXPECT_EQ(Code(Datagram(many_hashes)), kResourceExhausted);
  std::string many_headers = "Port: 1\r\n" + ih;
  for (size_t i = 0; i < kMaxHeaders; ++i) many_headers += "X: y\r\n";
  many_headers.resize(many_headers.size() - 2);
  EXPECT_EQ(Code(Datagram(many_headers)), kResourceExhausted);
  std::string huge = Datagram("Port: 1\r\n" + ih +
                              "X: " + std::string(kMaxAnnounceBytes, 'x'));
  EXPECT_EQ(Code(huge), kResourceExhausted);
  EXPECT_THAT(ParseAnnounce(huge).status().message(), HasSubstr("more than"));
}

}  // namespace
}  // namespace bt::lsd
