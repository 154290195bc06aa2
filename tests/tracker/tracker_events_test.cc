#include "tracker/tracker_events.h"

#include "gtest/gtest.h"

namespace bt::tracker {
namespace {

TEST(TrackerEventsTest, NamesFollowTheSeed) {
  EXPECT_STREQ(TrackerEventName(TrackerConnectEvent{}), "tracker_connect");
  EXPECT_STREQ(TrackerEventName(TrackerDisconnectEvent{}), "tracker_disconnect");
  EXPECT_STREQ(TrackerEventName(TrackerSuccessEvent{}), "tracker_success");
  EXPECT_STREQ(TrackerEventName(TrackerFailureEvent{}), "tracker_failure");
  EXPECT_STREQ(TrackerEventName(TrackerReadEvent{}), "tracker_read");
  EXPECT_STREQ(TrackerEventName(TrackerWriteEvent{}), "tracker_write");
}

TEST(TrackerEventsTest, SuccessCarriesTheSeedsFields) {
  AnnounceResponse r;
  r.complete = 4;
  r.incomplete = 5;
  r.interval = 1800;
  r.min_interval = 60;
  r.warning_message = "hi";
  r.peers = {TrackerPeer{Endpoint::V4({1, 2, 3, 4}, 5), {}},
             TrackerPeer{Endpoint::V4({6, 7, 8, 9}, 10), PeerId()}};
  TrackerSuccessEvent s = MakeSuccessEvent("udp://t:1", AnnounceEvent::kStarted, r);
  EXPECT_EQ(s.tracker, "udp://t:1");
  EXPECT_EQ(s.event, AnnounceEvent::kStarted);
  EXPECT_EQ(s.complete, 4);
  EXPECT_EQ(s.incomplete, 5);
  EXPECT_EQ(s.min_interval, 60);
  EXPECT_EQ(s.interval, 1800);
  EXPECT_EQ(s.warning_message, "hi");
  ASSERT_EQ(s.peers.size(), 2u);
  EXPECT_EQ(s.peers[1].ToString(), "6.7.8.9:10");
  EXPECT_STREQ(AnnounceEventName(AnnounceEvent::kNone), "");
  EXPECT_STREQ(AnnounceEventName(AnnounceEvent::kCompleted), "completed");
}

}  // namespace
}  // namespace bt::tracker
