#include "client/tracker_announcer.h"

#include "base/random.h"

namespace bt::client {

TrackerAnnouncer::TrackerAnnouncer(EventLoop* loop, TrackerClient* trackers,
                                   Sha1Hash info_hash,
                                   std::vector<std::vector<std::string>> tiers,
                                   bool is_private, Options options,
                                   std::function<TransferStats()> stats,
                                   TrackerClient::EventSink sink)
    : loop_(loop),
      trackers_(trackers),
      info_hash_(info_hash),
      options_(std::move(options)),
      key_(options_.key.value_or(RandomU32())),
      stats_(std::move(stats)),
      sink_(std::move(sink)),
      multitracker_(std::move(tiers), is_private, [] { return RandomU64(); },
                    options_.multitracker) {}

TrackerAnnouncer::~TrackerAnnouncer() {
  if (timer_ != 0) loop_->CancelTimer(timer_);
  for (uint64_t id : requests_) trackers_->Cancel(id);
}

absl::Status TrackerAnnouncer::AddTracker(std::string url, size_t tier) {
  absl::Status s = multitracker_.AddTracker(std::move(url), tier);
  if (s.ok()) Pump();
  return s;
}

void TrackerAnnouncer::Start() {
  multitracker_.Start(EventLoop::Now());
  Pump();
}

void TrackerAnnouncer::SetCompleted() {
  multitracker_.SetCompleted(EventLoop::Now());
  Pump();
}

void TrackerAnnouncer::Stop() {
  multitracker_.Stop(EventLoop::Now());
  Pump();
}

void TrackerAnnouncer::Reannounce() {
  multitracker_.Reannounce(EventLoop::Now());
  Pump();
}

void TrackerAnnouncer::Pump() {
  EventLoop::TimePoint now = EventLoop::Now();
  for (tracker::Multitracker::Job& job : multitracker_.TakeJobs(now)) {
    TransferStats s = stats_ ? stats_() : TransferStats{};
    tracker::AnnounceRequest req;
    req.info_hash = info_hash_;
    req.peer_id = options_.peer_id;
    req.port = options_.port;
    req.uploaded = s.uploaded;
    req.downloaded = s.downloaded;
    req.left = s.left;
    req.event = job.event;
    req.numwant = job.event == tracker::AnnounceEvent::kStopped
                      ? std::optional<int32_t>(0)
                      : options_.numwant;
    req.key = key_;
    req.tracker_id = job.tracker_id;
    const uint64_t job_id = job.id;
    Liveness::Token token = liveness_.token();
    // The id is recorded before the callback can run (never synchronously).
    uint64_t rid = 0;
    auto rid_holder = std::make_shared<uint64_t>(0);
    rid = trackers_->Announce(
        job.url, req, sink_,
        [this, token, job_id, rid_holder](
            absl::StatusOr<tracker::AnnounceResponse> r) {
          if (!token.alive()) return;
          requests_.erase(*rid_holder);
          EventLoop::TimePoint t = EventLoop::Now();
          if (r.ok()) {
            multitracker_.OnSuccess(job_id, *r, t);
          } else {
            multitracker_.OnFailure(job_id, std::string(r.status().message()), t);
          }
          Pump();
        });
    *rid_holder = rid;
    requests_.insert(rid);
  }
  if (timer_ != 0) {
    loop_->CancelTimer(timer_);
    timer_ = 0;
  }
  EventLoop::TimePoint next = multitracker_.NextWakeup();
  if (next == EventLoop::TimePoint::max()) return;
  Liveness::Token token = liveness_.token();
  timer_ = loop_->AddTimerAt(std::max(next, now), [this, token] {
    if (!token.alive()) return;
    timer_ = 0;
    Pump();
  });
}

}  // namespace bt::client
