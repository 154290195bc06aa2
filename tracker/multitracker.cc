#include "tracker/multitracker.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"

namespace bt::tracker {

Multitracker::Multitracker(std::vector<std::vector<std::string>> tiers,
                           bool is_private,
                           const std::function<uint64_t()>& random,
                           MultitrackerOptions options)
    : options_(options), private_(is_private) {
  absl::flat_hash_set<std::string> seen;
  for (std::vector<std::string>& tier : tiers) {
    std::vector<Tracker> out;
    for (std::string& url : tier) {
      if (url.empty() || !seen.insert(url).second) continue;
      Tracker t;
      t.info.url = std::move(url);
      out.push_back(std::move(t));
    }
    if (out.empty()) continue;
    // Fisher-Yates shuffle (BEP 12: "shuffled when first read").
    for (size_t i = out.size() - 1; i > 0; --i) {
      size_t j = static_cast<size_t>(random() % (i + 1));
      std::swap(out[i], out[j]);
    }
    tiers_.push_back(std::move(out));
  }
  for (size_t i = 0; i < tiers_.size(); ++i) {
    for (Tracker& t : tiers_[i]) t.info.tier = i;
  }
}

absl::Status Multitracker::AddTracker(std::string url, size_t tier) {
  if (private_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "private torrent: refusing tracker \"%s\" that is not in its "
        "metainfo",
        url));
  }
  size_t ti, ix;
  if (Find(url, &ti, &ix) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrFormat("tracker \"%s\" is already known", url));
  }
  if (tier >= tiers_.size()) {
    tier = tiers_.size();
    tiers_.emplace_back();
  }
  Tracker t;
  t.info.url = std::move(url);
  t.info.tier = tier;
  tiers_[tier].push_back(std::move(t));
  return absl::OkStatus();
}

Multitracker::Tracker* Multitracker::Find(std::string_view url, size_t* tier,
                                          size_t* index) {
  for (size_t i = 0; i < tiers_.size(); ++i) {
    for (size_t j = 0; j < tiers_[i].size(); ++j) {
      if (tiers_[i][j].info.url == url) {
        *tier = i;
        *index = j;
        return &tiers_[i][j];
      }
    }
  }
  return nullptr;
}

size_t Multitracker::tracker_count() const {
  size_t n = 0;
  for (const auto& tier : tiers_) n += tier.size();
  return n;
}

std::vector<Multitracker::TrackerInfo> Multitracker::trackers() const {
  std::vector<TrackerInfo> out;
  for (const auto& tier : tiers_) {
    for (const Tracker& t : tier) out.push_back(t.info);
  }
  return out;
}

void Multitracker::Start(TimePoint now) {
  if (started_ || stopping_) return;
  started_ = true;
  next_announce_ = now;
}

void Multitracker::SetCompleted(TimePoint now) {
  if (completed_) return;
  completed_ = true;
  if (started_ && !stopping_) next_announce_ = std::min(next_announce_, now);
}

void Multitracker::Reannounce(TimePoint now) {
  if (!started_ || stopping_) return;
  TimePoint earliest = now;
  if (last_success_) {
    earliest = std::max(earliest, *last_success_ + last_min_interval_);
  }
  next_announce_ = std::min(next_announce_, earliest);
}

void Multitracker::Stop(TimePoint now) {
  if (stopping_) return;
  stopping_ = true;
  round_active_ = false;
  next_announce_ = TimePoint::max();
  for (auto& tier : tiers_) {
    for (Tracker& t : tier) {
      if (t.info.started_sent) {
        queued_stops_.push_back(MakeJob(t, AnnounceEvent::kStopped, true));
      }
    }
  }
}

Multitracker::Job Multitracker::MakeJob(Tracker& t, AnnounceEvent event,
                                        bool is_stop) {
  Job job;
  job.id = next_job_id_++;
  job.url = t.info.url;
  job.event = event;
  if (t.info.last_response && t.info.last_response->tracker_id) {
    job.tracker_id = *t.info.last_response->tracker_id;
  }
  inflight_[job.id] = InFlight{t.info.url, is_stop, event};
  return job;
}

std::vector<Multitracker::Job> Multitracker::TakeJobs(TimePoint now) {
  std::vector<Job> jobs = std::move(queued_stops_);
  queued_stops_.clear();
  if (!started_ || stopping_ || main_job_ || now < next_announce_ ||
      tiers_.empty()) {
    return jobs;
  }
  if (!round_active_) {
    round_active_ = true;
    round_tier_ = 0;
    round_index_ = 0;
  }
  Tracker& t = tiers_[round_tier_][round_index_];
  AnnounceEvent event = AnnounceEvent::kNone;
  if (!t.info.started_sent) {
    event = AnnounceEvent::kStarted;
  } else if (completed_ && !t.info.completed_sent) {
    event = AnnounceEvent::kCompleted;
  }
  Job job = MakeJob(t, event, false);
  main_job_ = job.id;
  next_announce_ = TimePoint::max();
  jobs.push_back(std::move(job));
  return jobs;
}

TimePoint Multitracker::NextWakeup() const {
  if (!queued_stops_.empty()) return TimePoint::min();
  if (!started_ || stopping_ || main_job_ || tiers_.empty()) {
    return TimePoint::max();
  }
  return next_announce_;
}

void Multitracker::AdvanceAfterFailure(TimePoint now) {
  ++round_index_;
  if (round_index_ >= tiers_[round_tier_].size()) {
    round_index_ = 0;
    ++round_tier_;
  }
  if (round_tier_ < tiers_.size()) {
    next_announce_ = now;  // fall through to the next tracker at once
    return;
  }
  // Every tracker failed this round.
  round_active_ = false;
  ++failed_rounds_;
  Duration wait = options_.retry_base;
  for (int i = 1; i < failed_rounds_ && wait < options_.retry_max; ++i) wait *= 2;
  next_announce_ = now + std::min(wait, options_.retry_max);
}

void Multitracker::OnFailure(uint64_t id, std::string_view reason,
                             TimePoint now) {
  auto it = inflight_.find(id);
  if (it == inflight_.end()) return;
  InFlight job = std::move(it->second);
  inflight_.erase(it);
  size_t ti, ix;
  Tracker* t = Find(job.url, &ti, &ix);
  if (t != nullptr) {
    ++t->info.failures;
    t->info.last_error = std::string(reason);
  }
  if (job.is_stop) return;
  main_job_.reset();
  if (stopping_) return;
  if (!round_active_ || round_tier_ >= tiers_.size()) {
    next_announce_ = now;
    return;
  }
  AdvanceAfterFailure(now);
}

void Multitracker::OnSuccess(uint64_t id, const AnnounceResponse& response,
                             TimePoint now) {
  if (response.failure_reason) {
    OnFailure(id, absl::StrFormat("tracker: %s", *response.failure_reason), now);
    return;
  }
  auto it = inflight_.find(id);
  if (it == inflight_.end()) return;
  InFlight job = std::move(it->second);
  inflight_.erase(it);
  size_t ti, ix;
  Tracker* t = Find(job.url, &ti, &ix);
  if (t == nullptr) return;
  t->info.failures = 0;
  t->info.last_error.clear();
  std::optional<std::string> old_id =
      t->info.last_response ? t->info.last_response->tracker_id : std::nullopt;
  t->info.last_response = response;
  if (!response.tracker_id) t->info.last_response->tracker_id = old_id;
  t->info.last_response->peers.clear();  // keep the summary small
  if (job.event == AnnounceEvent::kStarted) {
    t->info.started_sent = true;
    if (completed_) t->info.completed_sent = true;  // left=0 said it
  } else if (job.event == AnnounceEvent::kCompleted) {
    t->info.completed_sent = true;
  }
  if (job.is_stop) {
    t->info.started_sent = false;
    return;
  }
  main_job_.reset();
  if (stopping_) {
    if (t->info.started_sent) {
      queued_stops_.push_back(MakeJob(*t, AnnounceEvent::kStopped, true));
    }
    return;
  }
  // BEP 12: a tracker that answers moves to the front of its tier.
  bool pending_completed = completed_ && !t->info.completed_sent;
  if (ix != 0) {
    Tracker moved = std::move(tiers_[ti][ix]);
    tiers_[ti].erase(tiers_[ti].begin() + static_cast<ptrdiff_t>(ix));
    tiers_[ti].insert(tiers_[ti].begin(), std::move(moved));
  }
  round_active_ = false;
  failed_rounds_ = 0;
  last_success_ = now;
  // Clamp before converting: a tracker's seconds must not overflow.
  const int64_t max_s =
      std::chrono::duration_cast<std::chrono::seconds>(options_.max_interval)
          .count();
  Duration interval =
      response.interval && *response.interval > 0
          ? Duration(std::chrono::seconds(std::min(*response.interval, max_s)))
          : options_.default_interval;
  Duration min_interval =
      response.min_interval
          ? Duration(std::chrono::seconds(std::min(*response.min_interval, max_s)))
          : Duration::zero();
  last_min_interval_ = std::max(min_interval, options_.min_announce_gap);
  interval = std::max(interval, last_min_interval_);
  next_announce_ = pending_completed ? now : now + interval;
}

bool Multitracker::stopped() const {
  return stopping_ && inflight_.empty() && queued_stops_.empty();
}

}  // namespace bt::tracker
