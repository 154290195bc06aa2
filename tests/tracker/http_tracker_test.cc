#include "tracker/http_tracker.h"

#include <string>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/compact.h"

namespace bt::tracker {
namespace {

using bencode::Value;
using std::string_literals::operator""s;

AnnounceRequest SampleRequest() {
  AnnounceRequest r;
  for (int i = 0; i < 20; ++i) {
    r.info_hash[i] = static_cast<uint8_t>(0x10 * (i % 16) + i % 7);
    r.peer_id[i] = static_cast<uint8_t>('A' + i);
  }
  r.peer_id[0] = '-';
  r.peer_id[7] = '-';
  r.port = 6881;
  r.uploaded = 10;
  r.downloaded = 20;
  r.left = 1234567890123;
  r.key = 0xdeadbeef;
  return r;
}

TEST(HttpTrackerTest, BuildsAnnounceUrlWithEveryParameter) {
  AnnounceRequest r = SampleRequest();
  r.event = AnnounceEvent::kStarted;
  r.numwant = 50;
  r.tracker_id = "id 1";
  r.ip = "1.2.3.4";
  r.ipv6 = "2001:db8::1";
  r.no_peer_id = true;
  std::string url = BuildHttpAnnounceUrl("http://t/announce?passkey=abc", r);
  EXPECT_EQ(url,
            "http://t/announce?passkey=abc"
            "&info_hash=%00%11%223DUfp%81%92%A3%B4%C5%D6%E0%F1%02%13%245"
            "&peer_id=-BCDEFG-IJKLMNOPQRST"
            "&port=6881&uploaded=10&downloaded=20&left=1234567890123"
            "&compact=1&no_peer_id=1&event=started&numwant=50&key=DEADBEEF"
            "&trackerid=id%201&ip=1.2.3.4&ipv6=2001%3Adb8%3A%3A1");
}

TEST(HttpTrackerTest, OmitsOptionalParameters) {
  AnnounceRequest r = SampleRequest();
  r.compact = false;
  r.key = 1;
  std::string url = BuildHttpAnnounceUrl("http://t/announce", r);
  EXPECT_EQ(url.find("event="), std::string::npos);
  EXPECT_EQ(url.find("numwant"), std::string::npos);
  EXPECT_EQ(url.find("compact"), std::string::npos);
  EXPECT_EQ(url.find("trackerid"), std::string::npos);
  EXPECT_EQ(url.find("ip="), std::string::npos);
  EXPECT_NE(url.find("&key=00000001"), std::string::npos);
  r.event = AnnounceEvent::kStopped;
  EXPECT_NE(BuildHttpAnnounceUrl("http://t/a", r).find("&event=stopped"), std::string::npos);
  r.event = AnnounceEvent::kCompleted;
  EXPECT_NE(BuildHttpAnnounceUrl("http://t/a", r).find("&event=completed"), std::string::npos);
}

TEST(HttpTrackerTest, BuildsScrapeUrl) {
  Sha1Hash a, b;
  a[0] = 0xff;
  b[19] = 'z';
  Sha1Hash hashes[] = {a, b};
  EXPECT_EQ(BuildHttpScrapeUrl("http://t/scrape", hashes),
            "http://t/scrape?info_hash=%FF%00%00%00%00%00%00%00%00%00%00%00%00"
            "%00%00%00%00%00%00%00&info_hash=%00%00%00%00%00%00%00%00%00%00%00"
            "%00%00%00%00%00%00%00%00z");
}

TEST(HttpTrackerTest, ParsesCompactResponseWithEveryField) {
  std::string peers4, peers6;
  metainfo::AppendCompactPeer(Endpoint::V4({10, 0, 0, 1}, 6881), &peers4);
  metainfo::AppendCompactPeer(Endpoint::V4({10, 0, 0, 2}, 6882), &peers4);
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  metainfo::AppendCompactPeer(Endpoint::V6(v6, 7000), &peers6);
  Value::Dict d{{"interval", 1800},
                {"min interval", 900},
                {"complete", 5},
                {"incomplete", 7},
                {"downloaded", 100},
                {"tracker id", "tid"},
                {"warning message", "be nice"},
                {"peers", peers4},
                {"peers6", peers6},
                {"external ip", "\x7f\x00\x00\x01"s}};
  std::string body = bencode::Encode(Value(d));
  absl::StatusOr<AnnounceResponse> r = ParseHttpAnnounceResponse(body);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->failure_reason);
  EXPECT_EQ(r->interval, 1800);
  EXPECT_EQ(r->min_interval, 900);
  EXPECT_EQ(r->complete, 5);
  EXPECT_EQ(r->incomplete, 7);
  EXPECT_EQ(r->downloaded, 100);
  EXPECT_EQ(r->tracker_id, "tid");
  EXPECT_EQ(r->warning_message, "be nice");
  ASSERT_EQ(r->peers.size(), 3u);
  EXPECT_EQ(r->peers[0].endpoint.ToString(), "10.0.0.1:6881");
  EXPECT_EQ(r->peers[1].endpoint.ToString(), "10.0.0.2:6882");
  EXPECT_EQ(r->peers[2].endpoint.ToString(), "[::1]:7000");
  ASSERT_TRUE(r->external_ip);
  EXPECT_EQ(r->external_ip->AddressString(), "127.0.0.1");
}

TEST(HttpTrackerTest, ParsesDictionaryPeers) {
  std::string id(20, 'p');
  Value::List peers{
      Value::Dict{{"ip", "192.168.0.9"}, {"port", 51413}, {"peer id", id}},
      Value::Dict{{"ip", "fe80::1"}, {"port", 1}},
      Value::Dict{{"ip", "host.example"}, {"port", 2}},  // needs DNS: skipped
      Value::Dict{{"ip", "1.1.1.1"}, {"port", 0}},       // bad port: skipped
  };
  std::string body = bencode::Encode(Value(Value::Dict{{"interval", 60}, {"peers", peers}}));
  absl::StatusOr<AnnounceResponse> r = ParseHttpAnnounceResponse(body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->peers.size(), 2u);
  EXPECT_EQ(r->peers[0].endpoint.ToString(), "192.168.0.9:51413");
  ASSERT_TRUE(r->peers[0].peer_id);
  EXPECT_EQ(r->peers[0].peer_id->ToString(), id);
  EXPECT_EQ(r->peers[1].endpoint.ToString(), "[fe80::1]:1");
  EXPECT_FALSE(r->peers[1].peer_id);
  EXPECT_EQ(r->peers_skipped, 2);
}

TEST(HttpTrackerTest, FailureReasonIsAValueNotAnError) {
  absl::StatusOr<AnnounceResponse> r =
      ParseHttpAnnounceResponse("d14:failure reason17:torrent not founde");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->failure_reason, "torrent not found");
  EXPECT_TRUE(r->peers.empty());
  absl::StatusOr<ScrapeResponse> s =
      ParseHttpScrapeResponse("d14:failure reason6:no waye");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->failure_reason, "no way");
}

TEST(HttpTrackerTest, RejectsMalformedResponses) {
  struct Case {
    std::string body;
    const char* expect;
  } cases[] = {
      {"<html>404</html>", "not valid bencode"},
      {"", "not valid bencode"},
      {"le", "expected a dictionary"},
      {"d8:intervali-5ee", "interval"},
      {"d8:interval3:abce", "interval"},
      {"d5:peers5:abcdee", "multiple of 6"},
      {"d6:peers617:" + std::string(17, 'x') + "e", "multiple of 18"},
      {"d5:peersi3ee", "neither a string nor a list"},
      {"d5:peersli1eee", "peers entry"},
      {"d5:peersld4:porti1eeee", "lacks"},
      {"d5:peersld2:ipi1e4:porti1eeee", "ip"},
      {"d5:peersld2:ip7:1.2.3.47:peer id3:abc4:porti1eeee", "peer id"},
      {"d11:external ip3:abce", "external ip"},
      {"d14:failure reasoni1ee", "failure reason"},
      {"d8:intervali1ee trailing", "not valid bencode"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AnnounceResponse> r = ParseHttpAnnounceResponse(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.body << " -> " << r.status();
  }
}

TEST(HttpTrackerTest, EveryTruncatedPrefixFailsCleanly) {
  std::string peers4;
  metainfo::AppendCompactPeer(Endpoint::V4({10, 0, 0, 1}, 6881), &peers4);
  std::string body = bencode::Encode(
      Value(Value::Dict{{"interval", 1800}, {"peers", peers4}, {"complete", 1}}));
  ASSERT_TRUE(ParseHttpAnnounceResponse(body).ok());
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(ParseHttpAnnounceResponse(body.substr(0, n)).ok()) << n;
  }
}

TEST(HttpTrackerTest, LimitsAreEnforced) {
  std::string peers4;
  for (int i = 0; i < 11; ++i) {
    metainfo::AppendCompactPeer(Endpoint::V4({10, 0, 0, 1}, static_cast<uint16_t>(i + 1)), &peers4);
  }
  std::string body = bencode::Encode(Value(Value::Dict{{"peers", peers4}}));
  HttpTrackerParseOptions opt;
  opt.max_peers = 10;
  EXPECT_EQ(ParseHttpAnnounceResponse(body, opt).status().code(),
            absl::StatusCode::kResourceExhausted);
  opt.max_peers = 11;
  EXPECT_TRUE(ParseHttpAnnounceResponse(body, opt).ok());
  opt.max_body_size = body.size() - 1;
  EXPECT_EQ(ParseHttpAnnounceResponse(body, opt).status().code(),
            absl::StatusCode::kResourceExhausted);

  Value::List dict_peers;
  for (int i = 0; i < 3; ++i) dict_peers.push_back(Value::Dict{{"ip", "1.2.3.4"}, {"port", 5}});
  body = bencode::Encode(Value(Value::Dict{{"peers", dict_peers}}));
  opt = {};
  opt.max_peers = 2;
  EXPECT_EQ(ParseHttpAnnounceResponse(body, opt).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(HttpTrackerTest, ParsesScrapeResponse) {
  std::string x(20, 'x'), y(20, 'y');
  // BEP 48's example.
  std::string body =
      "d5:filesd20:" + x + "d8:completei11e10:downloadedi13772e10:incompletei19e"
      "e20:" + y + "d8:completei21e10:downloadedi206e10:incompletei20eeee";
  absl::StatusOr<ScrapeResponse> s = ParseHttpScrapeResponse(body);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->files.size(), 2u);
  Sha1Hash hx = Sha1Hash::FromBytes(AsBytes(x));
  const ScrapeEntry* e = s->Find(hx);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->complete, 11);
  EXPECT_EQ(e->downloaded, 13772);
  EXPECT_EQ(e->incomplete, 19);
  EXPECT_EQ(s->Find(Sha1Hash::FromBytes(AsBytes(y)))->downloaded, 206);

  EXPECT_FALSE(ParseHttpScrapeResponse("d5:filesd3:abcdeee").ok());  // short key
  EXPECT_FALSE(ParseHttpScrapeResponse("de").ok());                  // no files
  EXPECT_FALSE(ParseHttpScrapeResponse("d5:filesd20:" + x + "i1eee").ok());
  EXPECT_FALSE(ParseHttpScrapeResponse(
                   "d5:filesd20:" + x + "d8:completei-1eeee")
                   .ok());
  HttpTrackerParseOptions opt;
  opt.max_scrape_files = 1;
  EXPECT_EQ(ParseHttpScrapeResponse(body, opt).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bt::tracker
