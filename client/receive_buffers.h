// ReceiveBuffers: the buffers a thread's peer connections read into. Blocks
// that arrive wholly inside a large read are passed to the disk as views
// into its buffer (BlockBytes), so their bytes are copied only once, by the
// kernel; the buffer is reused once the last of them is written.
//
//   bt::client::ReceiveBuffers buffers;
//   std::shared_ptr<std::string> buf = buffers.Next();
//   size_t n = read(fd, buf->data(), ReceiveBuffers::kSize);
//   session.Receive(absl::MakeSpan(buf->data(), n), now,
//                   buffers.KeepViews(n) ? buf : nullptr);
//
// Memory is bounded whatever peers send: views are kept only of reads
// that filled half a buffer, and only while at most kMaxLent buffers are
// held by blocks (a peer that pads each read with junk around one block
// could otherwise pin 256 KiB per 16 KiB block); past that, blocks are
// copied out as before.
//
// Not thread-safe (one per thread that reads), but a buffer may be
// released on any thread.
#ifndef CLIENT_RECEIVE_BUFFERS_H_
#define CLIENT_RECEIVE_BUFFERS_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "client/block_buffers.h"

namespace bt::client {

class ReceiveBuffers {
 public:
  static constexpr size_t kSize = 256 * 1024;
  // At most this many released buffers wait for reuse (8 MiB).
  static constexpr size_t kMaxKept = 32;
  // At most this many buffers are held by blocks' views (8 MiB): the disk
  // queue's 4 MiB, and a piece held for hashing beside the next one.
  static constexpr size_t kMaxLent = 32;

  ReceiveBuffers();
  ReceiveBuffers(const ReceiveBuffers&) = delete;
  ReceiveBuffers& operator=(const ReceiveBuffers&) = delete;

  // Next returns a buffer of kSize bytes to read into: the last one again
  // when nothing kept a view of it, else a released or new one.
  const std::shared_ptr<std::string>& Next();

  // KeepViews says whether blocks in a read of `n` bytes into the buffer
  // Next returned should be kept as views of it: when the read filled at
  // least half of it and fewer than kMaxLent other buffers are held.
  bool KeepViews(size_t n) const;

  // kept: released buffers waiting for reuse; lent: buffers other than
  // the one to read into next, still held by blocks.
  size_t kept() const;
  size_t lent() const;

 private:
  struct Released {
    BlockBuffers buffers{kMaxKept, kSize};
    std::atomic<size_t> alive{0};  // handed out, not yet released
  };
  // Shared with the buffers' deleters, which may outlive this object.
  std::shared_ptr<Released> released_;
  std::shared_ptr<std::string> current_;
};

}  // namespace bt::client

#endif  // CLIENT_RECEIVE_BUFFERS_H_
