#include "client/dht_announce_queue.h"

#include <memory>
#include <utility>

namespace bt::client {

DhtAnnounceQueue::DhtAnnounceQueue(size_t max_running, Start start)
    : max_running_(max_running), start_(std::move(start)) {}

void DhtAnnounceQueue::Add(const Sha1Hash& info_hash) {
  if (!queued_.insert(info_hash).second) return;
  waiting_.push_back(info_hash);
  StartWaiting();
}

void DhtAnnounceQueue::StartWaiting() {
  if (starting_) return;  // a `done` inside start_: the loop below goes on
  starting_ = true;
  while (running_ < max_running_ && !waiting_.empty()) {
    const Sha1Hash info_hash = waiting_.front();
    waiting_.pop_front();
    ++running_;
    auto called = std::make_shared<bool>(false);
    auto done = [this, token = liveness_.token(), info_hash, called] {
      if (*called || !token.alive()) return;
      *called = true;
      Finished(info_hash);
    };
    if (!start_(info_hash, done) && !*called) {
      *called = true;
      --running_;
      queued_.erase(info_hash);
    }
  }
  starting_ = false;
}

void DhtAnnounceQueue::Finished(const Sha1Hash& info_hash) {
  --running_;
  queued_.erase(info_hash);
  StartWaiting();
}

}  // namespace bt::client
