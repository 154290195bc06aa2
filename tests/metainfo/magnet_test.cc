#include "metainfo/magnet.h"

#include <string>

#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

using ::testing::ElementsAre;

constexpr char kHex[] = "c9e15763f722f23e98a29decdfae341b98d53056";
constexpr char kV2Hex[] =
    "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";

TEST(MagnetTest, ParsesV1HexWithEverything) {
  std::string uri = std::string("magnet:?xt=urn:btih:") + kHex +
                    "&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A80"
                    "&tr=http://t2.example/announce?a=b%26c&ws=http%3A%2F%2Fws"
                    "&x.pe=10.0.0.1:6881&x.pe=[::1]:51413&x.pe=peer.example:1"
                    "&so=0,2,4-6&unknown=1";
  auto m = ParseMagnet(uri);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->info_hash_v1->ToHex(), kHex);
  EXPECT_FALSE(m->info_hash_v2);
  EXPECT_EQ(m->display_name, "Big Buck Bunny");
  EXPECT_THAT(m->trackers, ElementsAre("udp://tracker.example:80",
                                       "http://t2.example/announce?a=b&c"));
  EXPECT_THAT(m->web_seeds, ElementsAre("http://ws"));
  EXPECT_THAT(m->peers,
              ElementsAre("10.0.0.1:6881", "[::1]:51413", "peer.example:1"));
  EXPECT_THAT(m->select_only,
              ElementsAre(FileRange{0, 0}, FileRange{2, 2}, FileRange{4, 6}));
  EXPECT_TRUE(m->SelectsFile(5));
  EXPECT_FALSE(m->SelectsFile(3));
  EXPECT_EQ(m->WireInfoHash(), *m->info_hash_v1);
}

TEST(MagnetTest, Base32AndUppercaseHex) {
  auto hex = ParseMagnet(std::string("magnet:?xt=urn:btih:") + kHex);
  ASSERT_TRUE(hex.ok());
  std::string b32 = hex->info_hash_v1->ToBase32();
  ASSERT_EQ(b32.size(), 32u);
  auto m = ParseMagnet("MAGNET:?xt=URN:BTIH:" + b32);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->info_hash_v1, hex->info_hash_v1);
  std::string upper = kHex;
  for (char& c : upper) c = toupper(c);
  EXPECT_EQ(ParseMagnet("magnet:?xt=urn:btih:" + upper)->info_hash_v1,
            hex->info_hash_v1);
}

TEST(MagnetTest, V2AndHybrid) {
  auto v2 = ParseMagnet(std::string("magnet:?xt=urn:btmh:1220") + kV2Hex);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->info_hash_v2->ToHex(), kV2Hex);
  EXPECT_EQ(v2->WireInfoHash(), Sha1Hash::FromBytes(v2->info_hash_v2->span()));
  auto hybrid = ParseMagnet(std::string("magnet:?xt=urn:btih:") + kHex +
                            "&xt=urn:btmh:1220" + kV2Hex + "&tr.1=http://a" +
                            "&tr.2=http://b");
  ASSERT_TRUE(hybrid.ok()) << hybrid.status();
  EXPECT_TRUE(hybrid->info_hash_v1 && hybrid->info_hash_v2);
  EXPECT_THAT(hybrid->trackers, ElementsAre("http://a", "http://b"));
}

TEST(MagnetTest, BuildRoundTrips) {
  MagnetLink m;
  m.info_hash_v1 = *Sha1Hash::FromHex(kHex);
  m.info_hash_v2 = *Sha256Hash::FromHex(kV2Hex);
  m.display_name = "a name & more/ü+";
  m.trackers = {"udp://t:1/announce", "http://x/?a=1&b=2"};
  m.web_seeds = {"http://ws/path"};
  m.peers = {"[::1]:6881"};
  m.select_only = {{1, 1}, {3, 9}};
  std::string uri = BuildMagnet(m);
  EXPECT_EQ(uri.substr(0, 60), std::string("magnet:?xt=urn:btih:") + kHex);
  auto back = ParseMagnet(uri);
  ASSERT_TRUE(back.ok()) << back.status() << " " << uri;
  EXPECT_EQ(*back, m);
}

TEST(MagnetTest, FromTorrent) {
  auto bytes = bencode::Encode(testing::MakeTorrent(
      "x", {{{"x"}, "data", ""}}, 16384, testing::Version::kHybrid, true));
  auto t = TorrentInfo::Parse(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  MagnetLink m = MagnetFromTorrent(*t);
  EXPECT_EQ(m.info_hash_v1, t->info_hash_v1());
  EXPECT_EQ(m.info_hash_v2, t->info_hash_v2());
  EXPECT_EQ(m.display_name, "x");
  EXPECT_THAT(m.trackers, ElementsAre("http://tracker.example/announce"));
}

TEST(MagnetTest, Errors) {
  std::string ih = std::string("xt=urn:btih:") + kHex;
  struct Bad {
    std::string uri;
    absl::StatusCode code;
    const char* message;
  };
  const Bad cases[] = {
      {"http://example/", absl::StatusCode::kInvalidArgument, "magnet:?"},
      {"magnet:?dn=x", absl::StatusCode::kInvalidArgument, "no xt"},
      {"magnet:?xt=urn:btih:1234", absl::StatusCode::kInvalidArgument,
       "urn:btih"},
      {"magnet:?xt=urn:btih:" + std::string(40, 'g'),
       absl::StatusCode::kInvalidArgument, "urn:btih"},
      {"magnet:?xt=urn:btih:" + std::string(32, '1'),
       absl::StatusCode::kInvalidArgument, "urn:btih"},  // '1' not base32
      {"magnet:?xt=urn:btmh:1114" + std::string(kV2Hex).substr(0, 40),
       absl::StatusCode::kInvalidArgument, "1220"},
      {"magnet:?xt=urn:btmh:1220abcd", absl::StatusCode::kInvalidArgument,
       "1220"},
      {"magnet:?" + ih + "&xt=urn:btih:" + std::string(40, '0'),
       absl::StatusCode::kInvalidArgument, "two different"},
      {"magnet:?" + ih + "&dn=%4", absl::StatusCode::kInvalidArgument,
       "percent escape"},
      {"magnet:?" + ih + "&dn=%zz", absl::StatusCode::kInvalidArgument,
       "percent escape"},
      {"magnet:?" + ih + "&x.pe=nohost", absl::StatusCode::kInvalidArgument,
       "x.pe"},
      {"magnet:?" + ih + "&x.pe=h:99999", absl::StatusCode::kInvalidArgument,
       "x.pe"},
      {"magnet:?" + ih + "&x.pe=:80", absl::StatusCode::kInvalidArgument,
       "x.pe"},
      {"magnet:?" + ih + "&so=3-1", absl::StatusCode::kInvalidArgument,
       "so entry"},
      {"magnet:?" + ih + "&so=a", absl::StatusCode::kInvalidArgument,
       "so entry"},
      {"magnet:?" + ih + "&so=1,,2", absl::StatusCode::kInvalidArgument,
       "so entry"},
  };
  for (const Bad& c : cases) {
    auto m = ParseMagnet(c.uri);
    ASSERT_FALSE(m.ok()) << c.uri;
    EXPECT_EQ(m.status().code(), c.code) << c.uri;
    EXPECT_NE(m.status().message().find(c.message), std::string::npos)
        << m.status();
  }
}

TEST(MagnetTest, Limits) {
  std::string base = std::string("magnet:?xt=urn:btih:") + kHex;
  MagnetLimits limits;
  limits.max_list_entries = 2;
  EXPECT_TRUE(ParseMagnet(base + "&tr=a&tr=b", limits).ok());
  EXPECT_EQ(ParseMagnet(base + "&tr=a&tr=b&tr=c", limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseMagnet(base + "&so=1,2,3", limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  limits.max_uri_bytes = base.size();
  EXPECT_TRUE(ParseMagnet(base, limits).ok());
  EXPECT_EQ(ParseMagnet(base + "&", limits).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MagnetTest, EveryPrefixIsHandled) {
  std::string uri = std::string("magnet:?xt=urn:btih:") + kHex +
                    "&dn=a%20b&tr=http%3A%2F%2Fx&so=1-3&x.pe=1.2.3.4:5";
  for (size_t n = 0; n <= uri.size(); ++n) {
    auto m = ParseMagnet(uri.substr(0, n));
    if (m.ok()) EXPECT_TRUE(m->info_hash_v1.has_value());
  }
}

}  // namespace
}  // namespace bt::metainfo
