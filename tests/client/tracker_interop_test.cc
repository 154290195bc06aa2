// btkit's tracker client against opentracker on loopback, over HTTP and
// UDP: two announcers for one info-hash see each other, scrape counts
// match, and "stopped" removes the peer.
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/net/event_loop.h"
#include "client/net/tracker_client.h"
#include "client/tracker_announcer.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/testing/opentracker.h"

namespace bt::client {
namespace {

using ::bt::testing::Opentracker;

class TrackerInteropTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (access(Opentracker::kPath, X_OK) != 0) {
      GTEST_SKIP() << "opentracker is not installed (" << Opentracker::kPath
                   << ")";
    }
    info_hash_ = *Sha1Hash::FromHex("5eedc0de5eedc0de5eedc0de5eedc0de5eedc0de");
    for (int i = 0; i < 20; ++i) {
      peer_a_[i] = static_cast<uint8_t>('a');
      peer_b_[i] = static_cast<uint8_t>('b');
    }
    auto tracker =
        Opentracker::Start({info_hash_}, absl::Now() + absl::Seconds(20));
    ASSERT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = *std::move(tracker);
    loop_ = std::move(*EventLoop::Create());
    TrackerClientOptions opt;
    opt.http.timeout = std::chrono::seconds(5);
    opt.udp.base_timeout = std::chrono::milliseconds(500);
    client_ = std::move(*TrackerClient::Create(loop_.get(), opt));
  }

  std::string url() const { return GetParam() ? tracker_->udp_url() : tracker_->http_url(); }

  tracker::AnnounceResponse Announce(const PeerId& id, uint16_t port, int64_t left,
                                     tracker::AnnounceEvent event,
                                     std::vector<tracker::TrackerEvent>* events = nullptr) {
    tracker::AnnounceRequest req;
    req.info_hash = info_hash_;
    req.peer_id = id;
    req.port = port;
    req.left = left;
    req.event = event;
    req.numwant = 50;
    req.key = port;
    std::optional<absl::StatusOr<tracker::AnnounceResponse>> result;
    client_->Announce(
        url(), req,
        [&](const tracker::TrackerEvent& e) {
          if (events) events->push_back(e);
        },
        [&](absl::StatusOr<tracker::AnnounceResponse> r) { result = std::move(r); });
    Run([&] { return result.has_value(); });
    EXPECT_TRUE(result.has_value());
    if (!result || !result->ok()) {
      ADD_FAILURE() << (result ? result->status().ToString() : "no answer");
      return {};
    }
    EXPECT_FALSE((*result)->failure_reason) << *(*result)->failure_reason;
    return **result;
  }

  tracker::ScrapeEntry Scrape() {
    std::optional<absl::StatusOr<tracker::ScrapeResponse>> result;
    client_->Scrape(url(), {info_hash_},
                    [&](absl::StatusOr<tracker::ScrapeResponse> r) { result = std::move(r); });
    Run([&] { return result.has_value(); });
    if (!result || !result->ok()) {
      ADD_FAILURE() << (result ? result->status().ToString() : "no answer");
      return {};
    }
    const tracker::ScrapeEntry* e = (*result)->Find(info_hash_);
    if (e == nullptr) {
      ADD_FAILURE() << "info-hash missing from scrape";
      return {};
    }
    return *e;
  }

  void Run(const std::function<bool()>& done) {
    auto start = EventLoop::Now();
    while (!done() && EventLoop::Now() - start < std::chrono::seconds(15)) {
      ASSERT_TRUE(loop_->RunOnce(0.05).ok());
    }
  }

  static bool Has(const tracker::AnnounceResponse& r, uint16_t port) {
    for (const auto& p : r.peers) {
      if (p.endpoint.ToString() == absl::StrFormat("127.0.0.1:%d", port)) return true;
    }
    return false;
  }

  Sha1Hash info_hash_;
  PeerId peer_a_, peer_b_;
  std::unique_ptr<Opentracker> tracker_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<TrackerClient> client_;
};

TEST_P(TrackerInteropTest, AnnouncersSeeEachOtherScrapeMatchesStoppedRemoves) {
  const uint16_t kPortA = 41001, kPortB = 41002;
  std::vector<tracker::TrackerEvent> events;
  tracker::AnnounceResponse a1 =
      Announce(peer_a_, kPortA, 1000, tracker::AnnounceEvent::kStarted, &events);
  EXPECT_GT(a1.interval.value_or(0), 0);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(std::holds_alternative<tracker::TrackerSuccessEvent>(events.back()));

  // B is a seed (left=0): it must get A.
  tracker::AnnounceResponse b1 = Announce(peer_b_, kPortB, 0, tracker::AnnounceEvent::kStarted);
  EXPECT_TRUE(Has(b1, kPortA));
  EXPECT_EQ(b1.complete, 1);
  EXPECT_EQ(b1.incomplete, 1);
  // A announces again and gets B.
  tracker::AnnounceResponse a2 = Announce(peer_a_, kPortA, 1000, tracker::AnnounceEvent::kNone);
  EXPECT_TRUE(Has(a2, kPortB));

  tracker::ScrapeEntry s = Scrape();
  EXPECT_EQ(s.complete, 1);
  EXPECT_EQ(s.incomplete, 1);

  // A stops: it leaves the swarm.
  Announce(peer_a_, kPortA, 1000, tracker::AnnounceEvent::kStopped);
  s = Scrape();
  EXPECT_EQ(s.complete, 1);
  EXPECT_EQ(s.incomplete, 0);
  tracker::AnnounceResponse b2 = Announce(peer_b_, kPortB, 0, tracker::AnnounceEvent::kNone);
  EXPECT_FALSE(Has(b2, kPortA));
}

TEST_P(TrackerInteropTest, UnlistedInfoHashIsRefusedWithTheTrackersReason) {
  tracker::AnnounceRequest req;
  req.info_hash[0] = 1;  // not whitelisted
  req.peer_id = peer_a_;
  req.port = 41003;
  std::vector<tracker::TrackerEvent> events;
  std::optional<absl::StatusOr<tracker::AnnounceResponse>> result;
  client_->Announce(url(), req, [&](const tracker::TrackerEvent& e) { events.push_back(e); },
                    [&](absl::StatusOr<tracker::AnnounceResponse> r) { result = std::move(r); });
  Run([&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(events.empty());
  auto* f = std::get_if<tracker::TrackerFailureEvent>(&events.back());
  ASSERT_NE(f, nullptr) << tracker::TrackerEventName(events.back());
  if (GetParam()) {
    // opentracker answers a UDP announce for an unlisted hash with a bare
    // 8-byte header, which is reported as a truncated reply.
    EXPECT_NE(f->reason.find("truncated"), std::string::npos) << f->reason;
  } else {
    EXPECT_NE(f->reason.find("tracker: "), std::string::npos) << f->reason;
  }
}

TEST_P(TrackerInteropTest, AnnouncerFallsThroughDeadTierAndStops) {
  uint16_t dead = ::bt::testing::FreePort(SOCK_STREAM);
  std::string dead_url = absl::StrFormat("http://127.0.0.1:%d/announce", dead);
  std::vector<tracker::TrackerEvent> events;
  TrackerAnnouncer::Options opt;
  opt.peer_id = peer_a_;
  opt.port = 41004;
  TrackerAnnouncer announcer(
      loop_.get(), client_.get(), info_hash_, {{dead_url}, {url()}}, false, opt,
      [] { return TrackerAnnouncer::TransferStats{0, 0, 500}; },
      [&](const tracker::TrackerEvent& e) { events.push_back(e); });
  announcer.Start();
  auto has_success = [&] {
    for (const auto& e : events) {
      if (std::holds_alternative<tracker::TrackerSuccessEvent>(e)) return true;
    }
    return false;
  };
  Run(has_success);
  ASSERT_TRUE(has_success());
  EXPECT_EQ(Scrape().incomplete, 1);
  announcer.Stop();
  Run([&] { return announcer.stopped(); });
  EXPECT_TRUE(announcer.stopped());
  EXPECT_EQ(Scrape().incomplete, 0);
  // The dead tracker never heard "started", so it was not sent "stopped".
  int failures_for_dead = 0;
  for (const auto& e : events) {
    if (auto* f = std::get_if<tracker::TrackerFailureEvent>(&e)) {
      EXPECT_EQ(f->tracker, dead_url);
      EXPECT_EQ(f->event, tracker::AnnounceEvent::kStarted);
      ++failures_for_dead;
    }
  }
  EXPECT_EQ(failures_for_dead, 1);
}

INSTANTIATE_TEST_SUITE_P(HttpAndUdp, TrackerInteropTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Udp" : "Http"; });

}  // namespace
}  // namespace bt::client
