#include "client/session/serve_queue.h"

#include <algorithm>

namespace bt::client {

bool ServeQueue::Push(const protocol::Request& r) {
  if (queued_.size() >= max_queued_) return false;
  queued_.push_back(r);
  return true;
}

std::optional<protocol::Request> ServeQueue::Pop() {
  if (queued_.empty()) return std::nullopt;
  protocol::Request r = queued_.front();
  queued_.pop_front();
  reading_.push_back(r);
  reading_bytes_ += r.length;
  return r;
}

bool ServeQueue::FinishRead(const protocol::Request& r) {
  auto it = std::find(reading_.begin(), reading_.end(), r);
  if (it == reading_.end()) return false;
  reading_.erase(it);
  reading_bytes_ -= r.length;
  return true;
}

bool ServeQueue::Cancel(const protocol::Request& r) {
  auto it = std::find(queued_.begin(), queued_.end(), r);
  if (it == queued_.end()) return false;
  queued_.erase(it);
  return true;
}

std::vector<protocol::Request> ServeQueue::RemoveIf(
    const std::function<bool(const protocol::Request&)>& drop) {
  std::vector<protocol::Request> removed;
  std::deque<protocol::Request> keep;
  for (const protocol::Request& r : queued_) {
    if (drop(r)) {
      removed.push_back(r);
    } else {
      keep.push_back(r);
    }
  }
  queued_ = std::move(keep);
  return removed;
}

}  // namespace bt::client
