#include "protocol/message_parser.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/bytes.h"
#include "base/status_macros.h"

namespace bt::protocol {
namespace {

// Fixed payload sizes (after the id byte); -1 for variable-size messages.
int FixedPayloadSize(uint8_t id) {
  switch (static_cast<MessageId>(id)) {
    case MessageId::kChoke:
    case MessageId::kUnchoke:
    case MessageId::kInterested:
    case MessageId::kNotInterested:
    case MessageId::kHaveAll:
    case MessageId::kHaveNone:
      return 0;
    case MessageId::kHave:
    case MessageId::kSuggest:
    case MessageId::kAllowedFast:
      return 4;
    case MessageId::kRequest:
    case MessageId::kCancel:
    case MessageId::kReject:
      return 12;
    case MessageId::kPort:
      return 2;
    case MessageId::kHashRequest:
    case MessageId::kHashReject:
      return static_cast<int>(kHashRequestPayloadSize);
    default:
      return -1;
  }
}

bool IsKnown(uint8_t id) { return MessageIdName(id) != "unknown"; }

bool IsFast(uint8_t id) {
  return id == static_cast<uint8_t>(MessageId::kSuggest) ||
         id == static_cast<uint8_t>(MessageId::kHaveAll) ||
         id == static_cast<uint8_t>(MessageId::kHaveNone) ||
         id == static_cast<uint8_t>(MessageId::kReject) ||
         id == static_cast<uint8_t>(MessageId::kAllowedFast);
}

uint32_t BitfieldBytes(uint32_t num_pieces) {
  return static_cast<uint32_t>((uint64_t{num_pieces} + 7) / 8);
}

}  // namespace

MessageParser::MessageParser(const ParserOptions& options)
    : options_(options), handshake_pending_(options.expect_handshake) {}

absl::Status MessageParser::Error(uint8_t id, std::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s message (id %d) at stream offset %d: %s",
                      MessageIdName(id), id, stream_offset_, what));
}

absl::Status MessageParser::Fail(absl::Status s) {
  error_ = s;
  input_ = {};
  return s;
}

absl::Status MessageParser::CheckLength(uint8_t id, uint32_t length) const {
  if (!IsKnown(id)) {
    if (!options_.allow_unknown_messages) {
      return Error(id, "unknown message id");
    }
    return absl::OkStatus();
  }
  if (IsFast(id) && !options_.fast_extension) {
    return Error(id,
                 "Fast extension message, but the Fast extension was "
                 "not negotiated");
  }
  const uint32_t payload = length - 1;
  int fixed = FixedPayloadSize(id);
  if (fixed >= 0) {
    if (payload != static_cast<uint32_t>(fixed)) {
      return Error(id, absl::StrFormat("length prefix is %d, expected %d",
                                       length, fixed + 1));
    }
    return absl::OkStatus();
  }
  switch (static_cast<MessageId>(id)) {
    case MessageId::kBitfield:
      if (options_.num_pieces &&
          payload != BitfieldBytes(*options_.num_pieces)) {
        return Error(
            id, absl::StrFormat("%d bytes, expected %d for %d pieces", payload,
                                BitfieldBytes(*options_.num_pieces),
                                *options_.num_pieces));
      }
      break;
    case MessageId::kPiece:
      if (payload <= 8) {
        return Error(
            id, absl::StrFormat("length prefix is %d: no block after index and "
                                "begin",
                                length));
      }
      if (payload - 8 > options_.max_block_length) {
        return Error(id,
                     absl::StrFormat("block of %d bytes exceeds the "
                                     "maximum block length %d",
                                     payload - 8, options_.max_block_length));
      }
      break;
    case MessageId::kExtended:
      if (payload < 1) {
        return Error(id, "no extended message id");
      }
      break;
    case MessageId::kHashes:
      if (payload < kHashRequestPayloadSize + 32 ||
          (payload - kHashRequestPayloadSize) % 32 != 0) {
        return Error(
            id, absl::StrFormat("payload of %d bytes is not 48 bytes of range "
                                "followed by one or more 32-byte hashes",
                                payload));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status MessageParser::CheckPrefix(const char* p, size_t avail,
                                        size_t* total) const {
  *total = 0;
  if (handshake_pending_) {
    RETURN_IF_ERROR(CheckHandshakePrefix(
        std::string_view(p, std::min(avail, kHandshakePrefix.size()))));
    *total = kHandshakeLength;
    return absl::OkStatus();
  }
  if (avail < kLengthPrefixSize) return absl::OkStatus();
  ByteReader r(std::string_view(p, std::min<size_t>(avail, 5)));
  uint32_t length;
  r.ReadU32(&length);
  if (length > options_.max_message_length) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "message at stream offset %d: length prefix %d exceeds the maximum "
        "message length %d",
        stream_offset_, length, options_.max_message_length));
  }
  *total = kLengthPrefixSize + size_t{length};
  uint8_t id;
  if (length > 0 && r.ReadU8(&id)) {
    RETURN_IF_ERROR(CheckLength(id, length));
  }
  return absl::OkStatus();
}

absl::Status MessageParser::CheckPieceIndex(uint8_t id, uint32_t piece) const {
  if (options_.num_pieces && piece >= *options_.num_pieces) {
    return Error(id, absl::StrFormat("piece index %d out of range (%d pieces)",
                                     piece, *options_.num_pieces));
  }
  return absl::OkStatus();
}

absl::StatusOr<Message> MessageParser::ParseBody(
    uint8_t id, std::string_view payload) const {
  ByteReader r(payload);
  auto read_range = [&](HashRange* range) -> absl::Status {
    ByteSpan root;
    r.ReadBytes(32, &root);
    range->pieces_root = Sha256Hash::FromBytes(root);
    r.ReadU32(&range->base_layer);
    r.ReadU32(&range->index);
    r.ReadU32(&range->length);
    r.ReadU32(&range->proof_layers);
    if (range->length < 2 || (range->length & (range->length - 1)) != 0) {
      return Error(id,
                   absl::StrFormat("hash count %d is not a power of two >= 2",
                                   range->length));
    }
    if (range->index % range->length != 0) {
      return Error(
          id, absl::StrFormat("index %d is not a multiple of the hash count %d",
                              range->index, range->length));
    }
    return absl::OkStatus();
  };
  auto read_block_ref = [&](uint32_t* piece, uint32_t* begin,
                            uint32_t* length) -> absl::Status {
    r.ReadU32(piece);
    r.ReadU32(begin);
    r.ReadU32(length);
    RETURN_IF_ERROR(CheckPieceIndex(id, *piece));
    if (*length == 0 || *length > options_.max_block_length) {
      return Error(id, absl::StrFormat("block length %d not in 1..%d", *length,
                                       options_.max_block_length));
    }
    if (uint64_t{*begin} + *length > uint64_t{UINT32_MAX} + 1) {
      return Error(
          id, absl::StrFormat("block %d+%d runs past 4 GiB", *begin, *length));
    }
    return absl::OkStatus();
  };
  // Lengths were checked by CheckLength, so fixed reads cannot fail.
  switch (static_cast<MessageId>(id)) {
    case MessageId::kChoke:
      return Choke{};
    case MessageId::kUnchoke:
      return Unchoke{};
    case MessageId::kInterested:
      return Interested{};
    case MessageId::kNotInterested:
      return NotInterested{};
    case MessageId::kHaveAll:
      return HaveAll{};
    case MessageId::kHaveNone:
      return HaveNone{};
    case MessageId::kHave: {
      Have m;
      r.ReadU32(&m.piece);
      RETURN_IF_ERROR(CheckPieceIndex(id, m.piece));
      return m;
    }
    case MessageId::kSuggest: {
      Suggest m;
      r.ReadU32(&m.piece);
      RETURN_IF_ERROR(CheckPieceIndex(id, m.piece));
      return m;
    }
    case MessageId::kAllowedFast: {
      AllowedFast m;
      r.ReadU32(&m.piece);
      RETURN_IF_ERROR(CheckPieceIndex(id, m.piece));
      return m;
    }
    case MessageId::kBitfield: {
      if (options_.num_pieces && *options_.num_pieces % 8 != 0 &&
          !payload.empty()) {
        uint8_t spare =
            static_cast<uint8_t>(0xFF >> (*options_.num_pieces % 8));
        if (static_cast<uint8_t>(payload.back()) & spare) {
          return Error(id, "spare bits after the last piece are not zero");
        }
      }
      return Bitfield{payload};
    }
    case MessageId::kRequest: {
      Request m;
      RETURN_IF_ERROR(read_block_ref(&m.piece, &m.begin, &m.length));
      return m;
    }
    case MessageId::kCancel: {
      Cancel m;
      RETURN_IF_ERROR(read_block_ref(&m.piece, &m.begin, &m.length));
      return m;
    }
    case MessageId::kReject: {
      Reject m;
      RETURN_IF_ERROR(read_block_ref(&m.piece, &m.begin, &m.length));
      return m;
    }
    case MessageId::kPiece: {
      Piece m;
      r.ReadU32(&m.piece);
      r.ReadU32(&m.begin);
      RETURN_IF_ERROR(CheckPieceIndex(id, m.piece));
      m.data = payload.substr(8);
      if (uint64_t{m.begin} + m.data.size() > uint64_t{UINT32_MAX} + 1) {
        return Error(id, absl::StrFormat("block %d+%d runs past 4 GiB", m.begin,
                                         m.data.size()));
      }
      return m;
    }
    case MessageId::kPort: {
      Port m;
      r.ReadU16(&m.port);
      return m;
    }
    case MessageId::kExtended: {
      Extended m;
      r.ReadU8(&m.id);
      m.payload = payload.substr(1);
      return m;
    }
    case MessageId::kHashRequest: {
      HashRequest m;
      RETURN_IF_ERROR(read_range(&m.range));
      return m;
    }
    case MessageId::kHashReject: {
      HashReject m;
      RETURN_IF_ERROR(read_range(&m.range));
      return m;
    }
    case MessageId::kHashes: {
      Hashes m;
      RETURN_IF_ERROR(read_range(&m.range));
      m.hashes = payload.substr(kHashRequestPayloadSize);
      if (m.hashes.size() / 32 < m.range.length) {
        return Error(id, absl::StrFormat("%d hashes, fewer than the %d "
                                         "requested base-layer hashes",
                                         m.hashes.size() / 32, m.range.length));
      }
      return m;
    }
  }
  return UnknownMessage{id, payload};
}

absl::StatusOr<Message> MessageParser::ParseMessage(
    std::string_view bytes) const {
  if (handshake_pending_) return ParseHandshake(bytes);
  if (bytes.size() == kLengthPrefixSize) return KeepAlive{};
  uint8_t id = static_cast<uint8_t>(bytes[kLengthPrefixSize]);
  return ParseBody(id, bytes.substr(kLengthPrefixSize + 1));
}

void MessageParser::Feed(std::string_view data) {
  if (!error_.ok() || data.empty()) return;
  if (!input_.empty()) {
    // The previous input was not drained: keep its rest in our own buffer.
    buf_.erase(0, buf_pos_);
    buf_pos_ = 0;
    buf_.append(input_);
  }
  input_ = data;
}

absl::StatusOr<std::optional<Message>> MessageParser::Next() {
  if (!error_.ok()) return error_;
  if (buf_pos_ > 0) {
    // Drop the message returned last time (its views expire now).
    buf_.erase(0, buf_pos_);
    buf_pos_ = 0;
  }
  size_t total = 0;
  // 1. Complete a message that straddles Feed calls, copying only its own
  //    bytes out of input_.
  if (!buf_.empty()) {
    while (true) {
      if (absl::Status s = CheckPrefix(buf_.data(), buf_.size(), &total);
          !s.ok()) {
        return Fail(s);
      }
      if (total && buf_.size() >= total) break;
      if (input_.empty()) return std::nullopt;
      // Stop at the end of the protocol string and at the id byte, so those
      // are checked before the rest of the message is copied.
      size_t want;
      if (handshake_pending_) {
        want = buf_.size() < kHandshakePrefix.size() ? kHandshakePrefix.size()
                                                     : kHandshakeLength;
      } else if (!total) {
        want = kLengthPrefixSize;
      } else {
        want = buf_.size() <= kLengthPrefixSize ? kLengthPrefixSize + 1 : total;
      }
      size_t take = std::min(want - buf_.size(), input_.size());
      buf_.append(input_.data(), take);
      input_.remove_prefix(take);
    }
    absl::StatusOr<Message> m =
        ParseMessage(std::string_view(buf_).substr(0, total));
    if (!m.ok()) return Fail(m.status());
    buf_pos_ = total;
    stream_offset_ += total;
    handshake_pending_ = false;
    return *std::move(m);
  }
  // 2. A whole message in the caller's bytes: parse it in place.
  if (absl::Status s = CheckPrefix(input_.data(), input_.size(), &total);
      !s.ok()) {
    return Fail(s);
  }
  if (total && input_.size() >= total) {
    absl::StatusOr<Message> m = ParseMessage(input_.substr(0, total));
    if (!m.ok()) return Fail(m.status());
    input_.remove_prefix(total);
    stream_offset_ += total;
    handshake_pending_ = false;
    return *std::move(m);
  }
  // 3. A partial message ends the input: keep a copy of it.
  buf_.assign(input_);
  input_ = {};
  return std::nullopt;
}

}  // namespace bt::protocol
