#include "tracker/udp_tracker.h"

#include <string>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "gtest/gtest.h"

namespace bt::tracker {
namespace {

using std::chrono::seconds;
using std::string_literals::operator""s;

AnnounceRequest SampleRequest() {
  AnnounceRequest r;
  for (int i = 0; i < 20; ++i) {
    r.info_hash[i] = static_cast<uint8_t>(i);
    r.peer_id[i] = static_cast<uint8_t>(100 + i);
  }
  r.port = 0x1ae1;
  r.downloaded = 1;
  r.left = 2;
  r.uploaded = 3;
  r.event = AnnounceEvent::kStarted;
  r.key = 0xcafebabe;
  return r;
}

TEST(UdpTrackerCodecTest, ConnectRequestLayout) {
  EXPECT_EQ(BuildUdpConnectRequest(0x01020304),
            "\x00\x00\x04\x17\x27\x10\x19\x80\x00\x00\x00\x00\x01\x02\x03\x04"s);
}

TEST(UdpTrackerCodecTest, AnnounceRequestLayoutMatchesBep15) {
  AnnounceRequest r = SampleRequest();
  r.ip = "1.2.3.4";
  std::string p = BuildUdpAnnounceRequest(0x1122334455667788, 0xa0b0c0d0, r, "/");
  ASSERT_EQ(p.size(), 98u);
  ByteReader rd(p);
  uint64_t cid, dl, left, ul;
  uint32_t action, txid, event, ip, key, numwant;
  uint16_t port;
  ByteSpan ih, pid;
  ASSERT_TRUE(rd.ReadU64(&cid) && rd.ReadU32(&action) && rd.ReadU32(&txid) &&
              rd.ReadBytes(20, &ih) && rd.ReadBytes(20, &pid) && rd.ReadU64(&dl) &&
              rd.ReadU64(&left) && rd.ReadU64(&ul) && rd.ReadU32(&event) &&
              rd.ReadU32(&ip) && rd.ReadU32(&key) && rd.ReadU32(&numwant) &&
              rd.ReadU16(&port) && rd.empty());
  EXPECT_EQ(cid, 0x1122334455667788u);
  EXPECT_EQ(action, 1u);
  EXPECT_EQ(txid, 0xa0b0c0d0u);
  EXPECT_EQ(ih[19], 19);
  EXPECT_EQ(pid[0], 100);
  EXPECT_EQ(dl, 1u);
  EXPECT_EQ(left, 2u);
  EXPECT_EQ(ul, 3u);
  EXPECT_EQ(event, 2u);
  EXPECT_EQ(ip, 0x01020304u);
  EXPECT_EQ(key, 0xcafebabeu);
  EXPECT_EQ(numwant, 0xffffffffu);
  EXPECT_EQ(port, 0x1ae1);
}

TEST(UdpTrackerCodecTest, Bep41UrlDataIsChunkedAndParsedBack) {
  std::string url = "/announce?passkey=" + std::string(300, 'k');
  std::string p = BuildUdpAnnounceRequest(1, 2, SampleRequest(), url);
  ASSERT_EQ(p.size(), 98u + 2 + 255 + 2 + (url.size() - 255));
  EXPECT_EQ(p[98], 2);
  EXPECT_EQ(static_cast<uint8_t>(p[99]), 255);
  EXPECT_EQ(p[98 + 2 + 255], 2);
  absl::StatusOr<UdpTrackerRequest> req = ParseUdpTrackerRequest(p);
  ASSERT_TRUE(req.ok()) << req.status();
  auto* a = std::get_if<UdpAnnounceRequest>(&*req);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->url_data, url);
  EXPECT_EQ(a->request.info_hash, SampleRequest().info_hash);
  EXPECT_EQ(a->request.event, AnnounceEvent::kStarted);
  EXPECT_FALSE(a->request.numwant);

  // NOP, an unknown option skipped by length, URLData, EndOfOptions, junk.
  std::string q = BuildUdpAnnounceRequest(1, 2, SampleRequest(), "/");
  q += "\x01\x07\x02xy\x02\x02/a\x00garbage"s;
  req = ParseUdpTrackerRequest(q);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(std::get<UdpAnnounceRequest>(*req).url_data, "/a");
  EXPECT_FALSE(ParseUdpTrackerRequest(BuildUdpAnnounceRequest(1, 2, SampleRequest(), "/") +
                                      "\x02\x05xy"s)
                   .ok());
}

TEST(UdpTrackerCodecTest, RepliesRoundTrip) {
  UdpAnnounceReply a;
  a.transaction_id = 7;
  a.interval = 1800;
  a.leechers = 3;
  a.seeders = 4;
  a.peers = {Endpoint::V4({1, 2, 3, 4}, 5), Endpoint::V4({6, 7, 8, 9}, 10)};
  std::string p = BuildUdpAnnounceReply(a);
  EXPECT_EQ(p.size(), 20u + 12u);
  absl::StatusOr<UdpTrackerReply> r = ParseUdpTrackerReply(p, false);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& back = std::get<UdpAnnounceReply>(*r);
  EXPECT_EQ(back.interval, 1800u);
  EXPECT_EQ(back.leechers, 3u);
  EXPECT_EQ(back.seeders, 4u);
  EXPECT_EQ(back.peers, a.peers);
  // The same bytes as IPv6 are 12 bytes of peers: not a multiple of 18.
  EXPECT_FALSE(ParseUdpTrackerReply(p, true).ok());

  r = ParseUdpTrackerReply(BuildUdpConnectReply(9, 0xabcdef), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<UdpConnectReply>(*r).connection_id, 0xabcdefu);
  EXPECT_EQ(std::get<UdpConnectReply>(*r).transaction_id, 9u);

  UdpScrapeReply s{5, {{1, 2, 3}, {4, 5, 6}}};
  r = ParseUdpTrackerReply(BuildUdpScrapeReply(s), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<UdpScrapeReply>(*r).counts.size(), 2u);
  EXPECT_EQ(std::get<UdpScrapeReply>(*r).counts[1].leechers, 6u);

  r = ParseUdpTrackerReply(BuildUdpErrorReply(5, "bad\ntorrent"), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<UdpErrorReply>(*r).message, "bad?torrent");
}

TEST(UdpTrackerCodecTest, EveryTruncatedReplyPrefixIsRejected) {
  std::string connect = BuildUdpConnectReply(1, 2);
  for (size_t n = 0; n < connect.size(); ++n) {
    EXPECT_FALSE(ParseUdpTrackerReply(connect.substr(0, n), false).ok()) << n;
  }
  UdpAnnounceReply a;
  a.peers = {Endpoint::V4({1, 2, 3, 4}, 5)};
  std::string announce = BuildUdpAnnounceReply(a);
  for (size_t n = 0; n < announce.size(); ++n) {
    if (n == 20) continue;  // a reply with no peers is complete
    EXPECT_FALSE(ParseUdpTrackerReply(announce.substr(0, n), false).ok()) << n;
  }
  EXPECT_FALSE(ParseUdpTrackerReply("\x00\x00\x00\x09\x00\x00\x00\x00"s, false).ok());
  EXPECT_FALSE(ParseUdpTrackerReply(BuildUdpScrapeReply({1, {{1, 2, 3}}}) + "x", false).ok());
}

TEST(UdpTrackerCodecTest, ScrapeRequestRoundTripsAndIsCapped) {
  std::vector<Sha1Hash> hashes(100);
  for (size_t i = 0; i < hashes.size(); ++i) hashes[i][0] = static_cast<uint8_t>(i);
  std::string p = BuildUdpScrapeRequest(3, 4, hashes);
  EXPECT_EQ(p.size(), 16u + 20u * kMaxUdpScrapeHashes);
  absl::StatusOr<UdpTrackerRequest> r = ParseUdpTrackerRequest(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<UdpScrapeRequest>(*r).info_hashes.size(), kMaxUdpScrapeHashes);
  EXPECT_EQ(std::get<UdpScrapeRequest>(*r).info_hashes[73][0], 73);
}

// ---- UdpTrackerExchange -----------------------------------------------------

class ExchangeTest : public ::testing::Test {
 protected:
  TimePoint t0 = TimePoint() + seconds(1000);
  UdpConnectionId conn;
  UdpTrackerOptions opt;

  // TakeTxid takes the pending packet and returns its transaction id (and
  // action).
  static uint32_t TakeTxid(UdpTrackerExchange& ex, uint32_t* action = nullptr) {
    std::optional<std::string> p = ex.TakePacket();
    EXPECT_TRUE(p.has_value());
    if (!p) return 0;
    absl::StatusOr<UdpTrackerRequest> r = ParseUdpTrackerRequest(*p);
    EXPECT_TRUE(r.ok()) << r.status();
    uint32_t a = static_cast<uint32_t>(r->index());
    if (action) *action = a;
    return std::visit([](const auto& v) { return v.transaction_id; }, *r);
  }
};

TEST_F(ExchangeTest, ConnectThenAnnounceThenReuseConnection) {
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "/ann", false, &conn, opt);
  ex.Start(t0);
  uint32_t action;
  uint32_t tx = TakeTxid(ex, &action);
  EXPECT_EQ(action, 0u);  // connect
  EXPECT_FALSE(ex.TakePacket());
  EXPECT_EQ(ex.deadline(), t0 + seconds(15));
  ex.OnDatagram(BuildUdpConnectReply(tx, 0x5555), t0 + seconds(1));
  EXPECT_EQ(conn.id, 0x5555u);
  std::optional<std::string> p = ex.TakePacket();
  ASSERT_TRUE(p);
  auto req = std::get<UdpAnnounceRequest>(*ParseUdpTrackerRequest(*p));
  EXPECT_EQ(req.connection_id, 0x5555u);
  EXPECT_EQ(req.url_data, "/ann");
  EXPECT_EQ(ex.deadline(), t0 + seconds(16));
  UdpAnnounceReply a;
  a.transaction_id = req.transaction_id;
  a.interval = 120;
  a.seeders = 2;
  a.leechers = 1;
  a.peers = {Endpoint::V4({127, 0, 0, 1}, 6881)};
  ex.OnDatagram(BuildUdpAnnounceReply(a), t0 + seconds(2));
  ASSERT_TRUE(ex.done());
  ASSERT_TRUE(ex.announce_result().ok());
  EXPECT_EQ(ex.announce_result()->interval, 120);
  EXPECT_EQ(ex.announce_result()->complete, 2);
  EXPECT_EQ(ex.announce_result()->incomplete, 1);
  ASSERT_EQ(ex.announce_result()->peers.size(), 1u);
  EXPECT_EQ(ex.deadline(), TimePoint::max());

  // Within the minute the connection id is reused: the scrape goes first.
  std::vector<Sha1Hash> hashes = {SampleRequest().info_hash};
  UdpTrackerExchange sc = UdpTrackerExchange::Scrape(hashes, false, &conn, opt);
  sc.Start(t0 + seconds(50));
  tx = TakeTxid(sc, &action);
  EXPECT_EQ(action, 2u);  // scrape, no connect
  sc.OnDatagram(BuildUdpScrapeReply({tx, {{9, 8, 7}}}), t0 + seconds(51));
  ASSERT_TRUE(sc.done());
  ASSERT_TRUE(sc.scrape_result().ok()) << sc.scrape_result().status();
  EXPECT_EQ(sc.scrape_result()->files[0].complete, 9);
  EXPECT_EQ(sc.scrape_result()->files[0].downloaded, 8);
  EXPECT_EQ(sc.scrape_result()->files[0].incomplete, 7);

  // After the minute, a new exchange connects again.
  UdpTrackerExchange late = UdpTrackerExchange::Scrape(hashes, false, &conn, opt);
  late.Start(t0 + seconds(61));
  TakeTxid(late, &action);
  EXPECT_EQ(action, 0u);
}

TEST_F(ExchangeTest, WrongTransactionIdsAndGarbageAreIgnored) {
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", false, &conn, opt);
  ex.Start(t0);
  uint32_t tx = TakeTxid(ex);
  ex.OnDatagram(BuildUdpConnectReply(tx + 1, 1), t0);
  ex.OnDatagram("junk", t0);
  ex.OnDatagram(BuildUdpErrorReply(tx ^ 0xffff, "not for you"), t0);
  EXPECT_FALSE(ex.done());
  EXPECT_EQ(ex.ignored_packets(), 3);
  EXPECT_FALSE(conn.id);
  // A reply of the wrong action with our id is ignored too.
  ex.OnDatagram(BuildUdpScrapeReply({tx, {}}), t0);
  EXPECT_FALSE(ex.done());
  ex.OnDatagram(BuildUdpConnectReply(tx, 77), t0);
  EXPECT_EQ(conn.id, 77u);
}

TEST_F(ExchangeTest, RetransmitsWithBackoffAndReconnectsWhenIdExpires) {
  opt.max_timeouts = 6;
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", false, &conn, opt);
  // BEP 15's "announce times out" example.
  ex.Start(t0);
  uint32_t action;
  uint32_t tx = TakeTxid(ex, &action);
  ex.OnDatagram(BuildUdpConnectReply(tx, 42), t0 + seconds(1));
  uint32_t atx = TakeTxid(ex, &action);
  EXPECT_EQ(action, 1u);
  EXPECT_EQ(ex.deadline(), t0 + seconds(16));
  ex.OnTimeout(t0 + seconds(10));  // too early: nothing
  EXPECT_FALSE(ex.TakePacket());
  ex.OnTimeout(t0 + seconds(16));
  EXPECT_EQ(TakeTxid(ex, &action), atx);  // same request, same id
  EXPECT_EQ(action, 1u);
  EXPECT_EQ(ex.deadline(), t0 + seconds(46));
  ex.OnTimeout(t0 + seconds(46));
  EXPECT_EQ(TakeTxid(ex, &action), atx);
  EXPECT_EQ(ex.deadline(), t0 + seconds(106));
  ex.OnTimeout(t0 + seconds(106));  // connection id from t0+1 has expired
  uint32_t ctx = TakeTxid(ex, &action);
  EXPECT_EQ(action, 0u);
  EXPECT_NE(ctx, atx);
  EXPECT_EQ(ex.deadline(), t0 + seconds(226));
  // The late answer to the old announce is now ignored.
  UdpAnnounceReply late;
  late.transaction_id = atx;
  ex.OnDatagram(BuildUdpAnnounceReply(late), t0 + seconds(107));
  EXPECT_FALSE(ex.done());
  ex.OnTimeout(t0 + seconds(226));
  EXPECT_EQ(TakeTxid(ex, &action), ctx);
  EXPECT_EQ(ex.deadline(), t0 + seconds(466));
}

TEST_F(ExchangeTest, GivesUpAfterMaxTimeoutsWithClearReason) {
  opt.base_timeout = std::chrono::milliseconds(10);
  opt.max_timeouts = 3;
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", false, &conn, opt);
  ex.Start(t0);
  int sends = 0;
  TimePoint now = t0;
  while (!ex.done()) {
    if (ex.TakePacket()) ++sends;
    ex.OnDatagram(BuildUdpConnectReply(0xdead, 1), now);  // wrong txid
    now = ex.deadline();
    ex.OnTimeout(now);
  }
  EXPECT_EQ(sends, 3);
  EXPECT_EQ(now - t0, std::chrono::milliseconds(10 + 20 + 40));
  ASSERT_FALSE(ex.announce_result().ok());
  EXPECT_EQ(ex.announce_result().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(ex.announce_result().status().message().find("after 3 attempts"),
            std::string::npos)
      << ex.announce_result().status();
  EXPECT_NE(ex.announce_result().status().message().find("wrong transaction id"),
            std::string::npos)
      << ex.announce_result().status();
}

TEST_F(ExchangeTest, ErrorPacketBecomesFailureReason) {
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", false, &conn, opt);
  ex.Start(t0);
  uint32_t tx = TakeTxid(ex);
  ex.OnDatagram(BuildUdpErrorReply(tx, "torrent not registered"), t0);
  ASSERT_TRUE(ex.done());
  ASSERT_TRUE(ex.announce_result().ok());
  EXPECT_EQ(ex.announce_result()->failure_reason, "torrent not registered");
}

TEST_F(ExchangeTest, MalformedReplyWithOurIdFails) {
  conn.id = 5;
  conn.obtained = t0;
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", false, &conn, opt);
  ex.Start(t0);
  uint32_t tx = TakeTxid(ex);
  UdpAnnounceReply a;
  a.transaction_id = tx;
  ex.OnDatagram(BuildUdpAnnounceReply(a) + "abc", t0);
  ASSERT_TRUE(ex.done());
  EXPECT_EQ(ex.announce_result().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExchangeTest, ScrapeCountMismatchFails) {
  conn.id = 5;
  conn.obtained = t0;
  std::vector<Sha1Hash> hashes(2);
  UdpTrackerExchange ex = UdpTrackerExchange::Scrape(hashes, false, &conn, opt);
  ex.Start(t0);
  uint32_t tx = TakeTxid(ex);
  ex.OnDatagram(BuildUdpScrapeReply({tx, {{1, 2, 3}}}), t0);
  ASSERT_TRUE(ex.done());
  EXPECT_FALSE(ex.scrape_result().ok());
}

TEST_F(ExchangeTest, Ipv6PeersUse18ByteStride) {
  conn.id = 5;
  conn.obtained = t0;
  UdpTrackerExchange ex = UdpTrackerExchange::Announce(SampleRequest(), "", true, &conn, opt);
  ex.Start(t0);
  uint32_t tx = TakeTxid(ex);
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  UdpAnnounceReply a;
  a.transaction_id = tx;
  a.peers = {Endpoint::V6(v6, 6881)};
  ex.OnDatagram(BuildUdpAnnounceReply(a), t0);
  ASSERT_TRUE(ex.done());
  ASSERT_TRUE(ex.announce_result().ok()) << ex.announce_result().status();
  EXPECT_EQ(ex.announce_result()->peers[0].endpoint.ToString(), "[::1]:6881");
}

}  // namespace
}  // namespace bt::tracker
