// ServeQueue: the block requests a peer has queued with us, bounded, and
// those taken out to be read from disk and not yet sent. It applies the
// Fast extension's rules (BEP 6): a cancelled or choked-away request is
// answered with a reject, except for pieces in the peer's allowed-fast set
// and for requests already being read, which complete.
//
//   bt::client::ServeQueue queue(/*max_queued=*/500);
//   if (!queue.Push(request)) Reject(request);        // queue full
//   while (auto r = queue.Pop()) StartRead(*r);       // read, then
//   if (queue.FinishRead(*r)) SendPiece(*r, data);    // still wanted
#ifndef CLIENT_SESSION_SERVE_QUEUE_H_
#define CLIENT_SESSION_SERVE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "protocol/message.h"

namespace bt::client {

class ServeQueue {
 public:
  explicit ServeQueue(size_t max_queued) : max_queued_(max_queued) {}

  // Push queues a request; false if the queue is full (the caller rejects
  // it). A duplicate is queued again: it is served twice, within the bound.
  bool Push(const protocol::Request& r);
  // Pop takes the oldest queued request out to be read; it then counts in
  // reading_bytes() until FinishRead.
  std::optional<protocol::Request> Pop();
  // FinishRead ends a read; false if the request is no longer known (the
  // session was reset), so its data must not be sent.
  bool FinishRead(const protocol::Request& r);
  // Cancel removes a queued request; true if it was queued (not yet being
  // read), so that under the Fast extension it is answered with a reject.
  bool Cancel(const protocol::Request& r);
  // RemoveIf removes the queued requests (not those being read) for which
  // `drop` is true and returns them.
  std::vector<protocol::Request> RemoveIf(
      const std::function<bool(const protocol::Request&)>& drop);

  size_t queued() const { return queued_.size(); }
  size_t reading() const { return reading_.size(); }
  // reading_bytes is the data still to come from reads in progress.
  size_t reading_bytes() const { return reading_bytes_; }
  bool empty() const { return queued_.empty(); }

 private:
  size_t max_queued_;
  std::deque<protocol::Request> queued_;
  std::vector<protocol::Request> reading_;
  size_t reading_bytes_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_SERVE_QUEUE_H_
