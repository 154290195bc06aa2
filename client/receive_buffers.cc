#include "client/receive_buffers.h"

#include <utility>

namespace bt::client {

ReceiveBuffers::ReceiveBuffers() : released_(std::make_shared<Released>()) {}

const std::shared_ptr<std::string>& ReceiveBuffers::Next() {
  // Only this object hands out references, on this thread, so a count of
  // one cannot grow meanwhile.
  if (current_ && current_.use_count() == 1) return current_;
  ++released_->alive;
  current_ = std::shared_ptr<std::string>(
      new std::string(released_->buffers.Take(kSize)),
      [released = released_](std::string* buffer) {
        --released->alive;
        released->buffers.Recycle(std::move(*buffer));
        delete buffer;
      });
  return current_;
}

bool ReceiveBuffers::KeepViews(size_t n) const {
  return n >= kSize / 2 && lent() < kMaxLent;
}

size_t ReceiveBuffers::lent() const {
  return released_->alive.load() - (current_ ? 1 : 0);
}

size_t ReceiveBuffers::kept() const { return released_->buffers.kept(); }

}  // namespace bt::client
