// BlockRef: one 16 KiB block of a torrent's piece space, named by its piece
// and its index inside the piece. Requests, the picker and the verifier all
// speak in blocks.
//
//   bt::client::BlockRef b{/*piece=*/7, /*block=*/2};
//   uint32_t begin = b.begin();   // 32768: the request's byte offset
#ifndef CLIENT_SESSION_BLOCK_REF_H_
#define CLIENT_SESSION_BLOCK_REF_H_

#include <algorithm>
#include <cstdint>
#include <utility>

namespace bt::client {

// kBlockSize is the request size every client in the field uses (16 KiB).
inline constexpr uint32_t kBlockSize = 16 * 1024;

// BlockRef names one block: a piece and the block's index inside it.
struct BlockRef {
  uint32_t piece = 0;
  uint32_t block = 0;

  // begin is the block's byte offset inside its piece.
  uint32_t begin() const { return block * kBlockSize; }

  friend bool operator==(const BlockRef&, const BlockRef&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const BlockRef& b) {
    return H::combine(std::move(h), b.piece, b.block);
  }
};

// BlockLengthIn is the byte length of block `b` of a piece of `piece_size`
// bytes: kBlockSize, less for the piece's last block, 0 past its end.
inline uint32_t BlockLengthIn(BlockRef b, int64_t piece_size) {
  return static_cast<uint32_t>(
      std::clamp<int64_t>(piece_size - int64_t{b.begin()}, 0, kBlockSize));
}

}  // namespace bt::client

#endif  // CLIENT_SESSION_BLOCK_REF_H_
