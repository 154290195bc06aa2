// BlockBytes: a received block's bytes, either in a buffer of their own or
// as a view into the receive buffer they arrived in, which the view keeps
// alive. A block read from the socket in a large read is passed on to the
// disk as such a view, so its bytes are never copied out of the buffer the
// kernel wrote them to; one that straddled two reads has a copy of its own.
//
//   bt::client::BlockBytes own(std::string(16384, 'x'));
//   bt::client::BlockBytes view(receive_buffer, std::string_view(p, 16384));
//   Write(view.bytes());                      // while `view` lives
//   buffers.Recycle(std::move(own).TakeBuffer());
//
// Copyable and movable; copies of a view share the buffer it keeps alive.
// Thread-safe as a shared_ptr is: a view may go on any thread.
#ifndef CLIENT_SESSION_BLOCK_BYTES_H_
#define CLIENT_SESSION_BLOCK_BYTES_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.h"

namespace bt::client {

class BlockBytes {
 public:
  BlockBytes() = default;
  // A buffer of its own.
  BlockBytes(std::string own) : own_(std::move(own)) {}  // NOLINT: implicit
  // A view of `view`, which lies in memory `keeper` keeps alive.
  BlockBytes(std::shared_ptr<const void> keeper, std::string_view view)
      : keeper_(std::move(keeper)), view_(view) {}

  std::string_view view() const {
    return keeper_ ? view_ : std::string_view(own_);
  }
  ByteSpan bytes() const { return AsBytes(view()); }
  size_t size() const { return view().size(); }
  // is_view: the bytes lie in a receive buffer, not a buffer of their own.
  bool is_view() const { return keeper_ != nullptr; }

  // TakeBuffer gives up the bytes and returns the buffer of their own, for
  // reuse (empty for a view, whose receive buffer is released instead).
  std::string TakeBuffer() && {
    keeper_.reset();
    view_ = {};
    return std::move(own_);
  }

  // Share makes this a view, moving a buffer of its own to the heap if
  // need be, and returns its keeper: the bytes stay where view() says
  // while that lives, whatever becomes of this object.
  std::shared_ptr<const void> Share() {
    if (!keeper_) {
      auto own = std::make_shared<const std::string>(std::move(own_));
      view_ = *own;
      keeper_ = std::move(own);
    }
    return keeper_;
  }
  friend bool operator==(const BlockBytes& a, std::string_view b) {
    return a.view() == b;
  }

 private:
  std::string own_;
  std::shared_ptr<const void> keeper_;  // set: a view of view_
  std::string_view view_;
};

}  // namespace bt::client

#endif  // CLIENT_SESSION_BLOCK_BYTES_H_
