#include "tracker/multitracker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bt::tracker {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// NoShuffle makes Fisher-Yates keep the order: 2519 = lcm(1..10) - 1, so
// 2519 % (i + 1) == i for every tier of up to 10 trackers.
uint64_t NoShuffle() { return 2519; }

AnnounceResponse Ok(int64_t interval, std::optional<int64_t> min_interval = {}) {
  AnnounceResponse r;
  r.interval = interval;
  r.min_interval = min_interval;
  return r;
}

class MultitrackerTest : public ::testing::Test {
 protected:
  TimePoint t0 = TimePoint() + seconds(100000);

  static Multitracker::Job One(std::vector<Multitracker::Job> jobs) {
    EXPECT_EQ(jobs.size(), 1u);
    return jobs.empty() ? Multitracker::Job() : jobs[0];
  }
  static std::vector<std::string> Order(const Multitracker& mt) {
    std::vector<std::string> out;
    for (const auto& t : mt.trackers()) out.push_back(t.url);
    return out;
  }
};

// Deterministic "random" source for the shuffle: j = value % (i + 1).
uint64_t ShuffleToFront() { return 0; }

TEST_F(MultitrackerTest, ShufflesWithinTiersOnly) {
  Multitracker mt({{"a", "b", "c"}, {"x"}}, false, ShuffleToFront);
  // With j = 0 always: i=2 swaps [2]<->[0] => c b a; i=1 swaps [1]<->[0] => b c a.
  EXPECT_EQ(Order(mt), (std::vector<std::string>{"b", "c", "a", "x"}));
  Multitracker keep({{"a", "b", "c"}, {"x"}}, false, NoShuffle);
  EXPECT_EQ(Order(keep), (std::vector<std::string>{"a", "b", "c", "x"}));
}

TEST_F(MultitrackerTest, DropsDuplicatesAndEmptyTiers) {
  Multitracker mt({{"a", "a", ""}, {}, {"a", "b"}}, false, NoShuffle);
  EXPECT_EQ(Order(mt), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(mt.trackers()[1].tier, 1u);
}

TEST_F(MultitrackerTest, NothingBeforeStart) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  EXPECT_TRUE(mt.TakeJobs(t0).empty());
  EXPECT_EQ(mt.NextWakeup(), TimePoint::max());
}

TEST_F(MultitrackerTest, StartedThenRegularAnnouncesOnInterval) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  EXPECT_EQ(mt.NextWakeup(), t0);
  Multitracker::Job j = One(mt.TakeJobs(t0));
  EXPECT_EQ(j.url, "a");
  EXPECT_EQ(j.event, AnnounceEvent::kStarted);
  EXPECT_TRUE(mt.TakeJobs(t0).empty());  // one in flight at a time
  EXPECT_EQ(mt.NextWakeup(), TimePoint::max());
  AnnounceResponse r = Ok(1800, 60);
  r.tracker_id = "tid";
  mt.OnSuccess(j.id, r, t0 + seconds(1));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(1801));
  EXPECT_TRUE(mt.TakeJobs(t0 + seconds(1800)).empty());
  j = One(mt.TakeJobs(t0 + seconds(1801)));
  EXPECT_EQ(j.event, AnnounceEvent::kNone);
  EXPECT_EQ(j.tracker_id, "tid");  // echoed back
  mt.OnSuccess(j.id, Ok(10), t0 + seconds(1802));
  // An interval below the floor (30 s) is raised to it.
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(1832));
  // The tracker id survives a reply without one.
  j = One(mt.TakeJobs(t0 + seconds(1832)));
  EXPECT_EQ(j.tracker_id, "tid");
}

TEST_F(MultitrackerTest, MinIntervalWinsOverIntervalAndHugeValuesAreCapped) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  Multitracker::Job j = One(mt.TakeJobs(t0));
  mt.OnSuccess(j.id, Ok(100, 600), t0);
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(600));
  j = One(mt.TakeJobs(t0 + seconds(600)));
  mt.OnSuccess(j.id, Ok(int64_t{1} << 60), t0 + seconds(600));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(600) + std::chrono::hours(4));
}

TEST_F(MultitrackerTest, FallsThroughTiersAndPromotesWithinTier) {
  Multitracker mt({{"t1", "t2", "t3"}, {"backup"}}, false, NoShuffle);
  mt.Start(t0);
  Multitracker::Job j = One(mt.TakeJobs(t0));
  EXPECT_EQ(j.url, "t1");
  mt.OnFailure(j.id, "connection refused", t0);
  EXPECT_EQ(mt.NextWakeup(), t0);  // next tracker at once
  j = One(mt.TakeJobs(t0));
  EXPECT_EQ(j.url, "t2");
  EXPECT_EQ(j.event, AnnounceEvent::kStarted);
  mt.OnSuccess(j.id, Ok(1800), t0);
  // BEP 12's example: t2 answered, so the tier is now t2, t1, t3.
  EXPECT_EQ(Order(mt), (std::vector<std::string>{"t2", "t1", "t3", "backup"}));
  EXPECT_EQ(mt.trackers()[1].failures, 1);
  EXPECT_EQ(mt.trackers()[1].last_error, "connection refused");

  // Next round: t2 and t1 fail, t3 answers => t3, t2, t1.
  TimePoint t = t0 + seconds(1800);
  j = One(mt.TakeJobs(t));
  EXPECT_EQ(j.url, "t2");
  mt.OnFailure(j.id, "x", t);
  j = One(mt.TakeJobs(t));
  EXPECT_EQ(j.url, "t1");
  mt.OnFailure(j.id, "x", t);
  j = One(mt.TakeJobs(t));
  EXPECT_EQ(j.url, "t3");
  mt.OnSuccess(j.id, Ok(1800), t);
  EXPECT_EQ(Order(mt), (std::vector<std::string>{"t3", "t2", "t1", "backup"}));

  // A round where the whole first tier fails reaches the backup tier.
  t += seconds(1800);
  for (const char* want : {"t3", "t2", "t1"}) {
    j = One(mt.TakeJobs(t));
    EXPECT_EQ(j.url, want);
    mt.OnFailure(j.id, "down", t);
  }
  j = One(mt.TakeJobs(t));
  EXPECT_EQ(j.url, "backup");
  EXPECT_EQ(j.event, AnnounceEvent::kStarted);  // first contact with it
  mt.OnSuccess(j.id, Ok(900), t);
  // The next announce starts again at tier 0.
  j = One(mt.TakeJobs(t + seconds(900)));
  EXPECT_EQ(j.url, "t3");
}

TEST_F(MultitrackerTest, AllFailingBacksOffExponentially) {
  MultitrackerOptions opt;
  opt.retry_base = seconds(60);
  opt.retry_max = seconds(300);
  Multitracker mt({{"a"}, {"b"}}, false, NoShuffle, opt);
  mt.Start(t0);
  TimePoint t = t0;
  for (int64_t wait : {60, 120, 240, 300, 300}) {
    mt.OnFailure(One(mt.TakeJobs(t)).id, "x", t);
    mt.OnFailure(One(mt.TakeJobs(t)).id, "x", t);
    EXPECT_EQ(mt.NextWakeup(), t + seconds(wait));
    t += seconds(wait);
  }
  // A success resets the back-off.
  mt.OnSuccess(One(mt.TakeJobs(t)).id, Ok(1000), t);
  EXPECT_EQ(mt.NextWakeup(), t + seconds(1000));
}

TEST_F(MultitrackerTest, FailureReasonCountsAsFailure) {
  Multitracker mt({{"a", "b"}}, false, NoShuffle);
  mt.Start(t0);
  AnnounceResponse refused;
  refused.failure_reason = "unregistered torrent";
  mt.OnSuccess(One(mt.TakeJobs(t0)).id, refused, t0);
  EXPECT_EQ(mt.trackers()[0].last_error, "tracker: unregistered torrent");
  EXPECT_FALSE(mt.trackers()[0].started_sent);
  EXPECT_EQ(One(mt.TakeJobs(t0)).url, "b");
}

TEST_F(MultitrackerTest, CompletedGoesOnceToTrackersThatHeardStarted) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnSuccess(One(mt.TakeJobs(t0)).id, Ok(1800), t0);
  mt.SetCompleted(t0 + seconds(5));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(5));  // at once, not after 1800 s
  Multitracker::Job j = One(mt.TakeJobs(t0 + seconds(5)));
  EXPECT_EQ(j.event, AnnounceEvent::kCompleted);
  mt.OnSuccess(j.id, Ok(1800), t0 + seconds(6));
  j = One(mt.TakeJobs(t0 + seconds(1806)));
  EXPECT_EQ(j.event, AnnounceEvent::kNone);
}

TEST_F(MultitrackerTest, CompletedDuringInFlightAnnounceIsSentRightAfter) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnSuccess(One(mt.TakeJobs(t0)).id, Ok(1800), t0);
  Multitracker::Job j = One(mt.TakeJobs(t0 + seconds(1800)));
  mt.SetCompleted(t0 + seconds(1800));
  mt.OnSuccess(j.id, Ok(1800), t0 + seconds(1801));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(1801));
  EXPECT_EQ(One(mt.TakeJobs(t0 + seconds(1801))).event, AnnounceEvent::kCompleted);
}

TEST_F(MultitrackerTest, SeedingFromTheStartSendsNoCompleted) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.SetCompleted(t0);
  mt.Start(t0);
  Multitracker::Job j = One(mt.TakeJobs(t0));
  EXPECT_EQ(j.event, AnnounceEvent::kStarted);
  mt.OnSuccess(j.id, Ok(60), t0);
  EXPECT_EQ(One(mt.TakeJobs(t0 + seconds(60))).event, AnnounceEvent::kNone);
}

TEST_F(MultitrackerTest, StopGoesToEveryTrackerThatHeardStarted) {
  Multitracker mt({{"a", "b"}, {"c"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnSuccess(One(mt.TakeJobs(t0)).id, Ok(60), t0);  // a started
  TimePoint t = t0 + seconds(60);
  mt.OnFailure(One(mt.TakeJobs(t)).id, "x", t);  // a fails this time
  Multitracker::Job j = One(mt.TakeJobs(t));
  EXPECT_EQ(j.url, "b");
  mt.OnSuccess(j.id, Ok(60), t);  // b started
  mt.Stop(t + seconds(1));
  EXPECT_FALSE(mt.stopped());
  EXPECT_EQ(mt.NextWakeup(), TimePoint::min());
  std::vector<Multitracker::Job> stops = mt.TakeJobs(t + seconds(1));
  ASSERT_EQ(stops.size(), 2u);
  std::vector<std::string> urls;
  for (const auto& s : stops) {
    EXPECT_EQ(s.event, AnnounceEvent::kStopped);
    urls.push_back(s.url);
  }
  std::sort(urls.begin(), urls.end());
  EXPECT_EQ(urls, (std::vector<std::string>{"a", "b"}));  // never c
  EXPECT_TRUE(mt.TakeJobs(t + seconds(500)).empty());  // no more regular ones
  mt.OnSuccess(stops[0].id, Ok(60), t + seconds(2));
  EXPECT_FALSE(mt.stopped());
  mt.OnFailure(stops[1].id, "timeout", t + seconds(3));  // not retried
  EXPECT_TRUE(mt.stopped());
  EXPECT_TRUE(mt.TakeJobs(t + seconds(10)).empty());
}

TEST_F(MultitrackerTest, StopWhileStartedInFlight) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  Multitracker::Job j = One(mt.TakeJobs(t0));
  mt.Stop(t0);
  EXPECT_TRUE(mt.TakeJobs(t0).empty());
  EXPECT_FALSE(mt.stopped());
  mt.OnSuccess(j.id, Ok(60), t0);  // the tracker now knows us: tell it
  Multitracker::Job s = One(mt.TakeJobs(t0));
  EXPECT_EQ(s.event, AnnounceEvent::kStopped);
  mt.OnSuccess(s.id, Ok(60), t0);
  EXPECT_TRUE(mt.stopped());
}

TEST_F(MultitrackerTest, StopBeforeAnyContactIsImmediatelyDone) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnFailure(One(mt.TakeJobs(t0)).id, "x", t0);
  mt.Stop(t0);
  EXPECT_TRUE(mt.TakeJobs(t0).empty());
  EXPECT_TRUE(mt.stopped());
}

TEST_F(MultitrackerTest, PrivateTorrentsRefuseForeignTrackers) {
  Multitracker priv({{"a"}}, true, NoShuffle);
  EXPECT_EQ(priv.AddTracker("http://other/announce", 0).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(priv.tracker_count(), 1u);
  Multitracker pub({{"a"}}, false, NoShuffle);
  EXPECT_TRUE(pub.AddTracker("b", 0).ok());
  EXPECT_TRUE(pub.AddTracker("c", 7).ok());
  EXPECT_EQ(pub.AddTracker("a", 1).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Order(pub), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(pub.trackers()[2].tier, 1u);
}

TEST_F(MultitrackerTest, ReannounceHonoursMinInterval) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnSuccess(One(mt.TakeJobs(t0)).id, Ok(1800, 120), t0);
  mt.Reannounce(t0 + seconds(10));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(120));
  mt.Reannounce(t0 + seconds(500));
  EXPECT_EQ(mt.NextWakeup(), t0 + seconds(120));  // already earlier
}

TEST_F(MultitrackerTest, UnknownJobIdsAreIgnored) {
  Multitracker mt({{"a"}}, false, NoShuffle);
  mt.Start(t0);
  mt.OnSuccess(999, Ok(1), t0);
  mt.OnFailure(998, "x", t0);
  EXPECT_EQ(One(mt.TakeJobs(t0)).url, "a");
}

TEST_F(MultitrackerTest, NoTrackersNeverWakes) {
  Multitracker mt({}, false, NoShuffle);
  mt.Start(t0);
  EXPECT_TRUE(mt.TakeJobs(t0).empty());
  EXPECT_EQ(mt.NextWakeup(), TimePoint::max());
}

}  // namespace
}  // namespace bt::tracker
