// Multitracker: BEP 12 tier logic for one torrent, sans I/O. It decides
// which tracker to announce to, with which event, and when; the caller
// performs each announce (HTTP or UDP, see client/) and reports back.
//
//   bt::tracker::Multitracker mt(metainfo_tiers, is_private, random_u64);
//   mt.Start(now);
//   for each wake-up at mt.NextWakeup():
//     for (const auto& job : mt.TakeJobs(now)) {
//       ... announce job.event to job.url, filling in the transfer counters ...
//       on reply:   mt.OnSuccess(job.id, response, now);
//       on failure: mt.OnFailure(job.id, reason, now);
//     }
//   mt.SetCompleted(now);   // when the download finishes
//   mt.Stop(now);           // then run the "stopped" jobs until stopped()
//
// Rules (BEP 12 and BEP 3):
//   - Each tier is shuffled once. An announce tries tier 0 in order, then
//     tier 1, ...; the first tracker that answers is moved to the front of
//     its tier, and its interval (never below its min interval, nor below
//     options.min_announce_gap) decides the next announce, which starts
//     again at tier 0. When every tracker failed, the next round waits
//     retry_base * 2^k (capped at retry_max).
//   - Events per tracker: "started" on the first successful contact with
//     that tracker, "completed" once after SetCompleted (not sent if the
//     torrent was complete when the tracker first heard "started"),
//     "stopped" on Stop() to every tracker that has heard "started".
//   - One announce is in flight at a time; "stopped" jobs go out together.
//   - A private torrent refuses trackers that are not its own
//     (AddTracker fails).
#ifndef TRACKER_MULTITRACKER_H_
#define TRACKER_MULTITRACKER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "tracker/announce.h"

namespace bt::tracker {

struct MultitrackerOptions {
  // Used when a tracker gives no interval.
  Duration default_interval = std::chrono::minutes(30);
  // Ceiling for a tracker's interval and min interval.
  Duration max_interval = std::chrono::hours(4);
  // Floor for any re-announce (guards against "interval 0").
  Duration min_announce_gap = std::chrono::seconds(30);
  // After a round where every tracker failed: retry_base * 2^k, k the
  // number of failed rounds in a row minus one, at most retry_max.
  Duration retry_base = std::chrono::seconds(60);
  Duration retry_max = std::chrono::minutes(30);
};

class Multitracker {
 public:
  // Job is one announce to perform.
  struct Job {
    uint64_t id = 0;
    std::string url;
    AnnounceEvent event = AnnounceEvent::kNone;
    std::string tracker_id;  // the tracker's last "tracker id", to echo
  };

  // TrackerInfo describes one tracker for display and tests.
  struct TrackerInfo {
    std::string url;
    size_t tier = 0;
    bool started_sent = false;
    bool completed_sent = false;
    int failures = 0;          // in a row
    std::string last_error;
    std::optional<AnnounceResponse> last_response;
  };

  // `tiers` are the torrent's trackers (announce-list, or {{announce}});
  // empty URLs and duplicates are dropped, empty tiers removed. `random`
  // returns uniform 64-bit values (for the shuffle); it is called only
  // here.
  Multitracker(std::vector<std::vector<std::string>> tiers, bool is_private,
               const std::function<uint64_t()>& random,
               MultitrackerOptions options = {});

  // AddTracker appends `url` to tier `tier` (or a new last tier if `tier`
  // is past the end). kFailedPrecondition for a private torrent;
  // kAlreadyExists for a known URL.
  absl::Status AddTracker(std::string url, size_t tier);

  // Start begins announcing now. No-op once started.
  void Start(TimePoint now);
  // SetCompleted notes that the download finished; trackers that heard
  // "started" get "completed" on the next announce, which is made now.
  void SetCompleted(TimePoint now);
  // Stop ends regular announces and queues "stopped" to every tracker that
  // heard "started" (and to one whose "started" is in flight, if it
  // succeeds).
  void Stop(TimePoint now);
  // Reannounce asks for an announce as soon as the min interval allows.
  void Reannounce(TimePoint now);

  // TakeJobs returns the announces to start now (possibly none).
  std::vector<Job> TakeJobs(TimePoint now);
  // NextWakeup is when TakeJobs may next return something;
  // TimePoint::max() when nothing is scheduled (e.g. a job is in flight).
  TimePoint NextWakeup() const;

  // OnSuccess / OnFailure report the outcome of job `id` (unknown ids are
  // ignored). A response with failure_reason counts as a failure.
  void OnSuccess(uint64_t id, const AnnounceResponse& response, TimePoint now);
  void OnFailure(uint64_t id, std::string_view reason, TimePoint now);

  // stopped is true after Stop() once no job is left in flight or queued.
  bool stopped() const;
  bool is_private() const { return private_; }
  size_t tracker_count() const;
  // trackers lists every tracker, tier by tier in current order.
  std::vector<TrackerInfo> trackers() const;
  // last_success / interval of the most recent successful announce.
  std::optional<TimePoint> last_success() const { return last_success_; }

 private:
  struct Tracker {
    TrackerInfo info;
  };
  struct InFlight {
    std::string url;
    bool is_stop;
    AnnounceEvent event;
  };

  Tracker* Find(std::string_view url, size_t* tier, size_t* index);
  Job MakeJob(Tracker& t, AnnounceEvent event, bool is_stop);
  void AdvanceAfterFailure(TimePoint now);

  MultitrackerOptions options_;
  bool private_;
  std::vector<std::vector<Tracker>> tiers_;

  bool started_ = false;
  bool completed_ = false;
  bool stopping_ = false;
  uint64_t next_job_id_ = 1;
  absl::flat_hash_map<uint64_t, InFlight> inflight_;
  std::optional<uint64_t> main_job_;  // the regular announce in flight
  std::vector<Job> queued_stops_;

  // The announce round: position of the next tracker to try.
  bool round_active_ = false;
  size_t round_tier_ = 0;
  size_t round_index_ = 0;
  int failed_rounds_ = 0;
  TimePoint next_announce_ = TimePoint::max();
  std::optional<TimePoint> last_success_;
  Duration last_min_interval_ = Duration::zero();
};

}  // namespace bt::tracker

#endif  // TRACKER_MULTITRACKER_H_
