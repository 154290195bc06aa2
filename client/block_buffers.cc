#include "client/block_buffers.h"

#include <utility>

namespace bt::client {

std::string BlockBuffers::Pop() {
  absl::MutexLock l(&mu_);
  if (free_.empty()) return std::string();
  std::string b = std::move(free_.back());
  free_.pop_back();
  return b;
}

std::string BlockBuffers::Copy(std::string_view data) {
  std::string b = Pop();
  b.assign(data);
  return b;
}

std::string BlockBuffers::Take(size_t size) {
  std::string b = Pop();
  b.resize(size);  // zero fill only past the recycled buffer's size
  return b;
}

void BlockBuffers::Recycle(std::string&& buffer) {
  if (buffer.capacity() < buffer_size_ ||
      buffer.capacity() > 2 * buffer_size_) {
    return;
  }
  std::string b = std::move(buffer);
  absl::MutexLock l(&mu_);
  if (free_.size() < max_kept_) free_.push_back(std::move(b));
}

size_t BlockBuffers::kept() const {
  absl::MutexLock l(&mu_);
  return free_.size();
}

}  // namespace bt::client
