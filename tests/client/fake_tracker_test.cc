// A misbehaving tracker on loopback (HTTP and UDP) in front of a good one:
// each failure must end as a tracker_failure with a clear reason, in
// bounded time, and the announce must then succeed on the next tier.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bencode/encoder.h"
#include "client/net/event_loop.h"
#include "client/tracker_announcer.h"
#include "client/net/tracker_client.h"
#include "gtest/gtest.h"
#include "metainfo/compact.h"
#include "tests/client/testing/fake_http_tracker.h"
#include "tracker/udp_tracker.h"

namespace bt::client {
namespace {

using testing::BindLoopback;
using testing::FakeHttpTracker;
using testing::Http200;
using tracker::TrackerEvent;
using std::chrono::milliseconds;

std::string GoodBody(uint16_t peer_port) {
  std::string peers;
  metainfo::AppendCompactPeer(Endpoint::V4({127, 0, 0, 9}, peer_port), &peers);
  return bencode::Encode(bencode::Value(bencode::Value::Dict{
      {"complete", 3}, {"incomplete", 4}, {"interval", 1800},
      {"min interval", 60}, {"peers", peers}}));
}

// FakeUdpTracker answers datagrams with `respond(request)`; nullopt = no
// answer.
class FakeUdpTracker {
 public:
  using Respond = std::function<std::optional<std::string>(
      const tracker::UdpTrackerRequest&)>;
  FakeUdpTracker(EventLoop* loop, Respond respond, bool v6 = false)
      : loop_(loop), respond_(std::move(respond)), v6_(v6) {
    fd_ = BindLoopback(SOCK_DGRAM, &port_, v6);
    EXPECT_TRUE(loop_->Watch(fd_, EventLoop::kReadable, [this](uint32_t) { OnRead(); }).ok());
  }
  ~FakeUdpTracker() {
    loop_->Unwatch(fd_);
    close(fd_);
  }
  std::string url() const {
    return absl::StrFormat("udp://%s:%d/announce", v6_ ? "[::1]" : "127.0.0.1", port_);
  }
  int packets() const { return packets_; }

 private:
  void OnRead() {
    char buf[2048];
    sockaddr_storage from;
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    ++packets_;
    absl::StatusOr<tracker::UdpTrackerRequest> req =
        tracker::ParseUdpTrackerRequest(std::string_view(buf, n));
    if (!req.ok()) return;
    std::optional<std::string> reply = respond_(*req);
    if (reply) {
      sendto(fd_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  EventLoop* loop_;
  Respond respond_;
  bool v6_;
  int fd_ = -1;
  uint16_t port_ = 0;
  int packets_ = 0;
};

// GoodUdp answers like a real tracker.
std::optional<std::string> GoodUdp(const tracker::UdpTrackerRequest& r) {
  if (auto* c = std::get_if<tracker::UdpConnectRequest>(&r)) {
    return tracker::BuildUdpConnectReply(c->transaction_id, 0x1234);
  }
  if (auto* a = std::get_if<tracker::UdpAnnounceRequest>(&r)) {
    tracker::UdpAnnounceReply reply;
    reply.transaction_id = a->transaction_id;
    reply.interval = 1800;
    reply.seeders = 1;
    reply.peers = {Endpoint::V4({127, 0, 0, 9}, 7777)};
    return tracker::BuildUdpAnnounceReply(reply);
  }
  return std::nullopt;
}

class FakeTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(*EventLoop::Create());
    TrackerClientOptions opt;
    opt.http.timeout = milliseconds(1500);
    opt.http.max_redirects = 3;
    opt.http.limits.max_body_bytes = 64 << 10;
    opt.udp.base_timeout = milliseconds(100);
    opt.udp.max_timeouts = 3;
    client_ = std::move(*TrackerClient::Create(loop_.get(), opt));
  }

  // Announce runs an announcer over `tiers` until a tracker_success (or
  // 10 s), and returns the events seen and the elapsed time.
  std::vector<TrackerEvent> Announce(std::vector<std::vector<std::string>> tiers,
                                     EventLoop::Duration* took = nullptr) {
    std::vector<TrackerEvent> events;
    bool success = false;
    TrackerAnnouncer::Options opt;
    opt.port = 6881;
    TrackerAnnouncer announcer(
        loop_.get(), client_.get(), Sha1Hash(), std::move(tiers), false, opt,
        [] { return TrackerAnnouncer::TransferStats{0, 0, 100}; },
        [&](const TrackerEvent& e) {
          events.push_back(e);
          if (std::holds_alternative<tracker::TrackerSuccessEvent>(e)) success = true;
        });
    auto start = EventLoop::Now();
    announcer.Start();
    while (!success && EventLoop::Now() - start < std::chrono::seconds(10)) {
      EXPECT_TRUE(loop_->RunOnce(0.05).ok());
    }
    if (took) *took = EventLoop::Now() - start;
    EXPECT_TRUE(success) << "no tracker_success within 10 s";
    return events;
  }

  static std::vector<tracker::TrackerFailureEvent> Failures(
      const std::vector<TrackerEvent>& events) {
    std::vector<tracker::TrackerFailureEvent> out;
    for (const auto& e : events) {
      if (auto* f = std::get_if<tracker::TrackerFailureEvent>(&e)) out.push_back(*f);
    }
    return out;
  }

  // ExpectFailThenSuccess checks: one failure for `bad` whose reason has
  // `reason`, then success from `good`, all within `limit`.
  void ExpectFailThenSuccess(const std::string& bad, const std::string& good,
                             const std::string& reason,
                             EventLoop::Duration limit = std::chrono::seconds(5)) {
    EventLoop::Duration took;
    std::vector<TrackerEvent> events = Announce({{bad}, {good}}, &took);
    std::vector<tracker::TrackerFailureEvent> f = Failures(events);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].tracker, bad);
    EXPECT_EQ(f[0].event, tracker::AnnounceEvent::kStarted);
    EXPECT_NE(f[0].reason.find(reason), std::string::npos) << f[0].reason;
    ASSERT_FALSE(events.empty());
    auto* s = std::get_if<tracker::TrackerSuccessEvent>(&events.back());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->tracker, good);
    EXPECT_EQ(s->event, tracker::AnnounceEvent::kStarted);
    ASSERT_EQ(s->peers.size(), 1u);
    EXPECT_LT(took, limit);
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<TrackerClient> client_;
};

TEST_F(FakeTrackerTest, GoodHttpTrackerReportsEveryEvent) {
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(7777)); });
  std::vector<TrackerEvent> events = Announce({{good.url()}});
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(tracker::TrackerEventName(e));
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names.front(), "tracker_connect");
  EXPECT_EQ(std::get<tracker::TrackerConnectEvent>(events.front()).event,
            tracker::AnnounceEvent::kStarted);
  EXPECT_NE(std::find(names.begin(), names.end(), "tracker_write"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tracker_read"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tracker_disconnect"), names.end());
  EXPECT_EQ(names.back(), "tracker_success");
  auto& s = std::get<tracker::TrackerSuccessEvent>(events.back());
  EXPECT_EQ(s.complete, 3);
  EXPECT_EQ(s.incomplete, 4);
  EXPECT_EQ(s.min_interval, 60);
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers[0].ToString(), "127.0.0.9:7777");
  size_t written = 0, read = 0;
  for (const auto& e : events) {
    if (auto* w = std::get_if<tracker::TrackerWriteEvent>(&e)) written += w->length;
    if (auto* r = std::get_if<tracker::TrackerReadEvent>(&e)) read += r->length;
  }
  EXPECT_EQ(written, good.last_request().size());
  EXPECT_EQ(read, Http200(GoodBody(7777)).bytes.size());
  EXPECT_NE(good.last_request().find("GET /announce?info_hash="), std::string::npos);
  EXPECT_NE(good.last_request().find("&event=started"), std::string::npos);
  EXPECT_NE(good.last_request().find(absl::StrFormat("Host: 127.0.0.1:%d\r\n", good.port())),
            std::string::npos);
}

TEST_F(FakeTrackerTest, HttpGarbage) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    return FakeHttpTracker::Reply{"\x01\x02 this is not HTTP\r\n\r\n"};
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "bad status line");
}

TEST_F(FakeTrackerTest, HttpGarbageBody) {
  FakeHttpTracker bad(loop_.get(), [](int) { return Http200("<html>oops</html>"); });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "not valid bencode");
}

TEST_F(FakeTrackerTest, HttpTruncatedBody) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    return FakeHttpTracker::Reply{"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nd8:interval"};
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "truncated");
}

TEST_F(FakeTrackerTest, HttpOversizeDeclaredBody) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    return FakeHttpTracker::Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"};
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "exceeds the limit");
}

TEST_F(FakeTrackerTest, HttpEndlessBodyIsCutAtTheCap) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    FakeHttpTracker::Reply r{"HTTP/1.1 200 OK\r\n\r\n"};
    r.stream_forever = true;
    return r;
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "exceeds the limit");
}

TEST_F(FakeTrackerTest, HttpFailureReason) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    return Http200("d14:failure reason20:unregistered torrente");
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "tracker: unregistered torrent");
}

TEST_F(FakeTrackerTest, HttpErrorStatus) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    return FakeHttpTracker::Reply{"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such\r\n"};
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "HTTP 404 Not Found");
}

TEST_F(FakeTrackerTest, HttpRedirectLoop) {
  std::unique_ptr<FakeHttpTracker> bad;
  bad = std::make_unique<FakeHttpTracker>(loop_.get(), [&](int) {
    return FakeHttpTracker::Reply{absl::StrFormat(
        "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
        bad->url("/announce?again=1"))};
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad->url(), good.url(), "too many redirects (3)");
  EXPECT_EQ(bad->requests(), 4);  // the first request plus 3 redirects
}

TEST_F(FakeTrackerTest, HttpRedirectIsFollowed) {
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(5)); });
  FakeHttpTracker redirect(loop_.get(), [&](int) {
    return FakeHttpTracker::Reply{absl::StrFormat(
        "HTTP/1.1 301 Moved\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
        good.url("/elsewhere?x=1"))};
  });
  std::vector<TrackerEvent> events = Announce({{redirect.url()}});
  EXPECT_TRUE(Failures(events).empty());
  EXPECT_NE(good.last_request().find("GET /elsewhere?x=1 HTTP/1.1\r\n"), std::string::npos)
      << good.last_request();
}

TEST_F(FakeTrackerTest, HttpSilence) {
  FakeHttpTracker bad(loop_.get(), [](int) {
    FakeHttpTracker::Reply r;
    r.silent = true;
    return r;
  });
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(bad.url(), good.url(), "timed out after 1.5 s");
}

TEST_F(FakeTrackerTest, HttpConnectionRefused) {
  uint16_t port;
  int fd = BindLoopback(SOCK_STREAM, &port);
  close(fd);  // nothing listens there now
  FakeHttpTracker good(loop_.get(), [](int) { return Http200(GoodBody(1)); });
  ExpectFailThenSuccess(absl::StrFormat("http://127.0.0.1:%d/announce", port), good.url(),
                        "Connection refused");
}

TEST_F(FakeTrackerTest, UdpSilence) {
  FakeUdpTracker bad(loop_.get(), [](const tracker::UdpTrackerRequest&) {
    return std::nullopt;
  });
  FakeUdpTracker good(loop_.get(), GoodUdp);
  // 100 + 200 + 400 ms of retransmissions, then the next tier.
  ExpectFailThenSuccess(bad.url(), good.url(), "did not answer");
  EXPECT_EQ(bad.packets(), 3);
}

TEST_F(FakeTrackerTest, UdpWrongTransactionId) {
  FakeUdpTracker bad(loop_.get(), [](const tracker::UdpTrackerRequest& r) {
    uint32_t tx = std::visit([](const auto& v) { return v.transaction_id; }, r);
    return std::optional<std::string>(tracker::BuildUdpConnectReply(tx + 1, 5));
  });
  FakeUdpTracker good(loop_.get(), GoodUdp);
  ExpectFailThenSuccess(bad.url(), good.url(), "wrong transaction id");
}

TEST_F(FakeTrackerTest, UdpGarbage) {
  FakeUdpTracker bad(loop_.get(), [](const tracker::UdpTrackerRequest&) {
    return std::optional<std::string>("garbage!");
  });
  FakeUdpTracker good(loop_.get(), GoodUdp);
  ExpectFailThenSuccess(bad.url(), good.url(), "ignored 3 packets");
}

TEST_F(FakeTrackerTest, UdpTruncatedAnnounceReply) {
  FakeUdpTracker bad(loop_.get(), [](const tracker::UdpTrackerRequest& r) {
    std::optional<std::string> reply = GoodUdp(r);
    if (std::holds_alternative<tracker::UdpAnnounceRequest>(r)) reply->resize(23);
    return reply;
  });
  FakeUdpTracker good(loop_.get(), GoodUdp);
  ExpectFailThenSuccess(bad.url(), good.url(), "multiple of 6");
}

TEST_F(FakeTrackerTest, UdpErrorPacket) {
  FakeUdpTracker bad(loop_.get(), [](const tracker::UdpTrackerRequest& r) {
    uint32_t tx = std::visit([](const auto& v) { return v.transaction_id; }, r);
    return std::optional<std::string>(tracker::BuildUdpErrorReply(tx, "invalid info hash"));
  });
  FakeUdpTracker good(loop_.get(), GoodUdp);
  ExpectFailThenSuccess(bad.url(), good.url(), "tracker: invalid info hash");
}

TEST_F(FakeTrackerTest, UdpUrlDataReachesTheTracker) {
  std::string url_data;
  FakeUdpTracker t(loop_.get(), [&](const tracker::UdpTrackerRequest& r) {
    if (auto* a = std::get_if<tracker::UdpAnnounceRequest>(&r)) url_data = a->url_data;
    return GoodUdp(r);
  });
  Announce({{t.url() + "?passkey=secret"}});
  EXPECT_EQ(url_data, "/announce?passkey=secret");
}

TEST_F(FakeTrackerTest, UdpOverIpv6UsesTheLongPeerStride) {
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  FakeUdpTracker t(
      loop_.get(),
      [&](const tracker::UdpTrackerRequest& r) -> std::optional<std::string> {
        if (auto* a = std::get_if<tracker::UdpAnnounceRequest>(&r)) {
          tracker::UdpAnnounceReply reply;
          reply.transaction_id = a->transaction_id;
          reply.interval = 60;
          reply.peers = {Endpoint::V6(v6, 7000)};
          return tracker::BuildUdpAnnounceReply(reply);
        }
        return GoodUdp(r);
      },
      /*v6=*/true);
  std::vector<TrackerEvent> events = Announce({{t.url()}});
  auto& s = std::get<tracker::TrackerSuccessEvent>(events.back());
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers[0].ToString(), "[::1]:7000");
}

TEST_F(FakeTrackerTest, HttpOverIpv6WithPeers6) {
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  std::string peers6;
  metainfo::AppendCompactPeer(Endpoint::V6(v6, 7001), &peers6);
  std::string body = bencode::Encode(bencode::Value(
      bencode::Value::Dict{{"interval", 60}, {"peers", ""}, {"peers6", peers6}}));
  FakeHttpTracker t(loop_.get(), [&](int) { return Http200(body); }, /*v6=*/true);
  std::vector<TrackerEvent> events = Announce({{t.url()}});
  auto& s = std::get<tracker::TrackerSuccessEvent>(events.back());
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers[0].ToString(), "[::1]:7001");
  EXPECT_NE(t.last_request().find("Host: [::1]:"), std::string::npos);
}

TEST_F(FakeTrackerTest, BadTrackerUrlFailsClearly) {
  FakeUdpTracker good(loop_.get(), GoodUdp);
  ExpectFailThenSuccess("gopher://x/announce", good.url(), "scheme must be http, https or udp");
}

}  // namespace
}  // namespace bt::client
