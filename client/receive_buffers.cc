#include "client/receive_buffers.h"

#include <utility>

namespace bt::client {

ReceiveBuffers::ReceiveBuffers() : released_(std::make_shared<Released>()) {}

const std::shared_ptr<char[]>& ReceiveBuffers::Next() {
  // Only this object hands out references, on this thread, so a count of
  // one cannot grow meanwhile.
  if (current_ && current_.use_count() == 1) return current_;
  std::unique_ptr<char[]> buffer;
  {
    absl::MutexLock l(&released_->mu);
    ++released_->alive;
    if (!released_->buffers.empty()) {
      buffer = std::move(released_->buffers.back());
      released_->buffers.pop_back();
    }
  }
  if (!buffer) buffer.reset(new char[kSize]);  // no zero fill
  current_ = std::shared_ptr<char[]>(
      buffer.release(), [released = released_](char* p) {
        std::unique_ptr<char[]> b(p);
        absl::MutexLock l(&released->mu);
        --released->alive;
        if (released->buffers.size() < kMaxKept) {
          released->buffers.push_back(std::move(b));
        }
      });
  return current_;
}

bool ReceiveBuffers::KeepViews(size_t n) const {
  return n >= kSize / 2 && lent() < kMaxLent;
}

size_t ReceiveBuffers::lent() const {
  absl::MutexLock l(&released_->mu);
  return released_->alive - (current_ ? 1 : 0);
}

size_t ReceiveBuffers::kept() const {
  absl::MutexLock l(&released_->mu);
  return released_->buffers.size();
}

}  // namespace bt::client
