// MessageParser: a streaming, zero-copy peer-wire parser. Feed it the bytes
// of one connection in any fragmentation (even one byte at a time) and take
// whole, validated messages out.
//
//   bt::protocol::ParserOptions options;
//   options.expect_handshake = true;
//   options.num_pieces = torrent.num_pieces();
//   bt::protocol::MessageParser parser(options);
//   ...
//   ssize_t n = read(fd, buf, sizeof buf);
//   parser.Feed(std::string_view(buf, n));
//   while (true) {
//     ASSIGN_OR_RETURN(std::optional<bt::protocol::Message> m, parser.Next());
//     if (!m) break;             // all of `buf` consumed: it may be reused
//     Handle(*m);                // views in *m die at the next Feed/Next
//   }
//
// Buffer ownership. The parser never copies a message that lies wholly in
// the bytes given to Feed: Next returns views (Piece::data, Bitfield::bits,
// Extended::payload, ...) straight into them. Only a message that straddles
// two Feed calls is assembled in the parser's own buffer, which then holds
// at most one message (max_message_length + 4 bytes); only if Feed is
// called before the previous input was drained does it also keep a copy of
// that input's unread rest. Hence:
//  - bytes passed to Feed must stay valid and unchanged until Next returns
//    nullopt or an error; by then the parser has consumed them or copied
//    the unfinished tail;
//  - views in a returned message are valid until the next call to Feed or
//    Next on this parser (and, when they point into fed bytes, while those
//    bytes are alive). Copy what must live longer.
//
// Validation, each violation an error naming the rule, the message and its
// stream offset: the handshake's protocol string (checked byte by byte as
// it arrives); the length prefix against max_message_length
// (kResourceExhausted, reported as soon as the 4 length bytes arrive,
// before buffering anything); the exact length of every fixed-size message
// (reported as soon as the id byte arrives); block lengths of request,
// cancel, reject and piece against max_block_length; the bitfield's size
// against num_pieces and its spare bits; piece indices against num_pieces;
// BEP 52 hash ranges (length a power of two >= 2, index a multiple of it,
// whole 32-byte hashes); Fast-extension messages when fast_extension is
// off; unknown message ids unless allow_unknown_messages. All are
// kInvalidArgument except the length limit. After an error the parser stays
// failed: Next keeps returning the same error.
#ifndef PROTOCOL_MESSAGE_PARSER_H_
#define PROTOCOL_MESSAGE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/message.h"

namespace bt::protocol {

struct ParserOptions {
  // The stream starts with a 68-byte handshake, returned as Handshake.
  bool expect_handshake = false;
  // Largest accepted length prefix (the 4 prefix bytes not counted). The
  // default holds a 16 KiB block, a 16 KiB metadata piece with its
  // dictionary, and the bitfield of a torrent with 8 million pieces.
  uint32_t max_message_length = 1 << 20;
  // Largest block in request, cancel, reject and piece messages.
  uint32_t max_block_length = kBlockSize;
  // Number of pieces, when known (it is not before a magnet link's
  // metadata arrives): checks bitfield size and piece indices.
  std::optional<uint32_t> num_pieces;
  // Whether BEP 6 messages (suggest, have all/none, reject, allowed fast)
  // are allowed, i.e. both handshakes set ReservedBit::kFast.
  bool fast_extension = true;
  // Whether ids this library does not know are passed on as
  // UnknownMessage (true) or are an error (false).
  bool allow_unknown_messages = true;
};

class MessageParser {
 public:
  explicit MessageParser(const ParserOptions& options = {});

  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // set_num_pieces sets the piece count once it is known (e.g. after
  // metadata download); later messages are checked against it.
  void set_num_pieces(uint32_t n) { options_.num_pieces = n; }
  // set_max_message_length changes the largest accepted length prefix
  // (e.g. lowered once the piece count bounds the bitfield).
  void set_max_message_length(uint32_t n) { options_.max_message_length = n; }
  // set_fast_extension records the negotiated Fast-extension state.
  void set_fast_extension(bool on) { options_.fast_extension = on; }
  const ParserOptions& options() const { return options_; }

  // Feed hands over the next bytes of the stream (see the lifetime rules
  // above). Bytes from an earlier Feed that Next has not consumed yet are
  // copied into the parser first, so Feed may be called at any time.
  void Feed(std::string_view data);

  // Next returns the next complete message, nullopt when every fed byte has
  // been consumed (a partial message is kept for the next Feed), or the
  // error that broke the stream.
  absl::StatusOr<std::optional<Message>> Next();

  // stream_offset is the number of stream bytes consumed by returned
  // messages (the offset of the next message's first byte).
  uint64_t stream_offset() const { return stream_offset_; }
  // buffered_bytes is the size of a partial message held in the parser.
  size_t buffered_bytes() const { return buf_.size() - buf_pos_; }
  // handshake_pending is true until the handshake has been returned (only
  // with expect_handshake).
  bool handshake_pending() const { return handshake_pending_; }

 private:
  // CheckPrefix validates the first `avail` bytes of a message at `p` and
  // sets `*total` to the whole message's size once it is known (else 0).
  absl::Status CheckPrefix(const char* p, size_t avail, size_t* total) const;
  absl::Status CheckLength(uint8_t id, uint32_t length) const;
  absl::StatusOr<Message> ParseMessage(std::string_view bytes) const;
  absl::StatusOr<Message> ParseBody(uint8_t id, std::string_view payload) const;
  absl::Status CheckPieceIndex(uint8_t id, uint32_t piece) const;
  absl::Status Error(uint8_t id, std::string_view what) const;
  absl::Status Fail(absl::Status s);

  ParserOptions options_;
  bool handshake_pending_;
  std::string_view input_;  // fed bytes not consumed yet
  std::string buf_;         // bytes of a message that straddles Feed calls
  size_t buf_pos_ = 0;      // bytes of buf_ already returned as a message
  uint64_t stream_offset_ = 0;
  absl::Status error_;
};

}  // namespace bt::protocol

#endif  // PROTOCOL_MESSAGE_PARSER_H_
