#include "client/session/request_tracker.h"

#include <algorithm>

namespace bt::client {

std::deque<RequestTracker::Sent>::iterator RequestTracker::Find(
    std::deque<Sent>& list, BlockRef block) {
  return std::find_if(list.begin(), list.end(),
                      [&](const Sent& s) { return s.block == block; });
}

void RequestTracker::Add(BlockRef block, uint32_t length, absl::Time now) {
  in_flight_.push_back(Sent{block, length, now});
}

RequestTracker::Match RequestTracker::MatchBlock(BlockRef block,
                                                 size_t length) {
  for (std::deque<Sent>* list : {&in_flight_, &given_up_}) {
    auto it = Find(*list, block);
    if (it == list->end()) continue;
    if (it->length != length) return Match::kWrongLength;
    list->erase(it);
    return list == &in_flight_ ? Match::kInFlight : Match::kGivenUp;
  }
  return Match::kUnknown;
}

RequestTracker::Match RequestTracker::MatchReject(BlockRef block,
                                                  uint32_t length) {
  for (std::deque<Sent>* list : {&in_flight_, &given_up_}) {
    auto it = Find(*list, block);
    if (it == list->end() || it->length != length) continue;
    list->erase(it);
    return list == &in_flight_ ? Match::kInFlight : Match::kGivenUp;
  }
  return Match::kUnknown;
}

bool RequestTracker::GiveUp(BlockRef block) {
  auto it = Find(in_flight_, block);
  if (it == in_flight_.end()) return false;
  given_up_.push_back(*it);
  in_flight_.erase(it);
  while (given_up_.size() > given_up_memory_) given_up_.pop_front();
  return true;
}

std::vector<BlockRef> RequestTracker::GiveUpAll() {
  std::vector<BlockRef> out;
  out.reserve(in_flight_.size());
  for (const Sent& s : in_flight_) {
    out.push_back(s.block);
    given_up_.push_back(s);
  }
  in_flight_.clear();
  while (given_up_.size() > given_up_memory_) given_up_.pop_front();
  return out;
}

absl::Time RequestTracker::oldest_sent() const {
  return in_flight_.empty() ? absl::InfiniteFuture() : in_flight_.front().at;
}

std::vector<BlockRef> RequestTracker::InFlight() const {
  std::vector<BlockRef> out;
  out.reserve(in_flight_.size());
  for (const Sent& s : in_flight_) out.push_back(s.block);
  return out;
}

}  // namespace bt::client
