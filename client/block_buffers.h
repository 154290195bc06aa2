// BlockBuffers: a free list of block-sized buffers, shared by the threads
// that receive, write, read and send blocks. A 16 KiB block taken from the
// heap and given back on another thread cost a downloader a sixth of its
// CPU (the allocator's locks, and the page faults of a heap that grew and
// shrank with every batch); a recycled buffer is warm and costs neither.
//
//   std::string b = buffers.Copy(piece.data);   // event loop: a block in
//   ...                                         // worker: written, hashed
//   buffers.Recycle(std::move(b));
//
//   std::string out = buffers.Take(length);     // worker: a block to read
//   ...                                         // loop: sent
//   buffers.Recycle(std::move(out));
//
// Thread-safe. At most `max_kept` buffers wait for reuse; others are freed.
// Only buffers of about `buffer_size` capacity (a block's by default; the
// receive buffers use larger ones) are kept, so a stray large string never
// lingers.
#ifndef CLIENT_BLOCK_BUFFERS_H_
#define CLIENT_BLOCK_BUFFERS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "protocol/message.h"

namespace bt::client {

class BlockBuffers {
 public:
  explicit BlockBuffers(size_t max_kept,
                        size_t buffer_size = protocol::kBlockSize)
      : max_kept_(max_kept), buffer_size_(buffer_size) {}
  BlockBuffers(const BlockBuffers&) = delete;
  BlockBuffers& operator=(const BlockBuffers&) = delete;

  // Copy returns a buffer holding `data`.
  std::string Copy(std::string_view data);
  // Take returns a buffer of `size` bytes with unspecified contents (not
  // zeroed when it is a recycled one of that size).
  std::string Take(size_t size);
  // Recycle takes back a buffer whose contents are no longer needed.
  void Recycle(std::string&& buffer);
  // kept: buffers waiting for reuse.
  size_t kept() const;

 private:
  std::string Pop();

  const size_t max_kept_;
  const size_t buffer_size_;
  mutable absl::Mutex mu_;
  std::vector<std::string> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bt::client

#endif  // CLIENT_BLOCK_BUFFERS_H_
