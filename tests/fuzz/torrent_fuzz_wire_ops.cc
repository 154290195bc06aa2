// The torrent fuzz harness's peer-wire operations: handshakes, what a peer
// has, block requests and the blocks themselves, rightly or not.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/message.h"
#include "tests/fuzz/torrent_fuzz_harness.h"

namespace bt::client::torrent_fuzz {

// WireOp performs a peer-wire operation; false if `op` is not one.
bool Harness::WireOp(uint8_t op, Slot& s, Reader& in) {
  switch (op) {
    case kOpHandshake:
      SendHandshake(s, in.Byte());
      return true;
    case kOpBitfield:
      SendBitfield(s, in);
      return true;
    case kOpHave:
      SendMessage(s, protocol::Have{in.Byte() % (NumPieces() + 2)});
      return true;
    case kOpHaveAllNone:
      if (in.Byte() & 1) {
        SendMessage(s, protocol::HaveAll{});
      } else {
        SendMessage(s, protocol::HaveNone{});
      }
      return true;
    case kOpRequest:
    case kOpCancel:
      SendRequestOrCancel(op, s, in);
      return true;
    case kOpPiece:
      SendPiece(s, in.Byte());
      return true;
    case kOpServeAll:
      ServeAll(s);
      return true;
    case kOpReject:
      SendReject(s, in.Byte());
      return true;
    case kOpAllowedFast:
      SendMessage(s, protocol::AllowedFast{in.Byte() % (NumPieces() + 1)});
      return true;
    case kOpSmall:
      Small(s, in.Byte());
      return true;
    case kOpSeederScript:
      SendSeederOpening(s, in.Byte());
      return true;
    default:
      return false;
  }
}

// SendHandshake: bits 0-4 as HandshakeBytes(); bit 5 the extension
// handshake too (bits 6-7 its flags); bit 6 in two deliveries.
void Harness::SendHandshake(Slot& s, uint8_t flags) {
  std::string bytes = HandshakeBytes(s, flags);
  if (flags & 0x20) bytes += ExtHandshakeBytes(flags >> 6);
  if (flags & 0x40) {
    Send(s, bytes.substr(0, 30));
    Send(s, bytes.substr(30));
  } else {
    Send(s, bytes);
  }
}

// SendBitfield: every piece, the input's bits (spare bits cleared unless
// bit 2), too long, or empty.
void Harness::SendBitfield(Slot& s, Reader& in) {
  const uint8_t a = in.Byte();
  const size_t n = (NumPieces() + 7) / 8;
  std::string bits;
  switch (a & 3) {
    case 0:
      bits = AllPiecesBitfield();
      break;
    case 1:
      bits = in.Bytes(n);
      bits.resize(n, '\0');
      if (!(a & 4) && NumPieces() % 8) {
        bits[n - 1] &= static_cast<char>(0xff << (8 - NumPieces() % 8));
      }
      break;
    case 2:
      bits = std::string(n + 1 + (a >> 2), '\xff');
      break;
    case 3:
      break;
  }
  SendMessage(s, protocol::Bitfield{bits});
}

// SendRequestOrCancel reads a piece (one past the end allowed) and a byte
// choosing the block, an odd offset and the length (bit 5: the block's
// true length); a cancel may instead (bit 6) name a block we sent.
void Harness::SendRequestOrCancel(uint8_t op, Slot& s, Reader& in) {
  const uint32_t piece = in.Byte() % (NumPieces() + 1);
  const uint8_t c = in.Byte();
  const uint32_t begin = (c & 3) * protocol::kBlockSize + (c & 4 ? 1 : 0);
  static constexpr uint32_t kLengths[] = {protocol::kBlockSize, 1, 0,
                                          protocol::kBlockSize + 1};
  uint32_t length = kLengths[(c >> 3) & 3];
  if (c & 0x20) {
    length = static_cast<uint32_t>(
        std::clamp<int64_t>(PieceSize(piece) - begin, 1, protocol::kBlockSize));
  }
  if (op == kOpRequest) {
    SendMessage(s, protocol::Request{piece, begin, length});
  } else if ((c & 0x40) && !s.served.empty()) {
    const protocol::Request& r = s.served[c % s.served.size()];
    SendMessage(s, protocol::Cancel{r.piece, r.begin, r.length});
  } else {
    SendMessage(s, protocol::Cancel{piece, begin, length});
  }
}

// SendPiece answers one of our requests (or sends a block unasked): bits
// 0-2 which, bits 5-7 how: right, corrupt, short or at an odd offset.
void Harness::SendPiece(Slot& s, uint8_t arg) {
  protocol::Request r{arg % (NumPieces() + 1), 0, protocol::kBlockSize};
  if (!s.requests.empty()) r = TakeAt(s.requests, arg & 7);
  std::string data = BlockBytes(r.piece, r.begin, r.length);
  switch (arg >> 5) {
    case 0:
    case 1:
    case 2:
    case 3:
      break;  // right
    case 4:
    case 5:
      if (!data.empty()) data[data.size() / 2] ^= 0x20;  // corrupt
      break;
    case 6:
      data.pop_back();  // short
      break;
    case 7:
      r.begin += 1;  // odd offset
      break;
  }
  SendMessage(s, protocol::Piece{r.piece, r.begin, data});
}

void Harness::SendReject(Slot& s, uint8_t arg) {
  protocol::Request r{arg % (NumPieces() + 1), 0, protocol::kBlockSize};
  if (!s.requests.empty()) r = TakeAt(s.requests, arg);
  SendMessage(s, protocol::Reject{r.piece, r.begin, r.length});
}

// ServeAll answers every block request seen, rightly: one delivery per
// block, so a busy disk pauses reading between.
void Harness::ServeAll(Slot& s) {
  std::vector<protocol::Request> requests;
  requests.swap(s.requests);
  for (const protocol::Request& r : requests) {
    std::string bytes;
    protocol::AppendPiece(r.piece, r.begin,
                          BlockBytes(r.piece, r.begin, r.length), &bytes);
    Send(s, bytes);
  }
}

// SendSeederOpening sends the usual opening of a seed: handshake (bits
// 2-3 as HandshakeBytes()), extensions (bits 4-7), have all (or, bit 2, a
// bitfield without fast), unchoke (unless bit 1). An outgoing connection
// connects first unless bit 0.
void Harness::SendSeederOpening(Slot& s, uint8_t flags) {
  std::string bytes;
  if (s.incoming || (flags & 1)) bytes += HandshakeBytes(s, flags & 0x0c);
  if (!s.incoming && !(flags & 1)) {
    s.peer->CompleteConnect();
    bytes += HandshakeBytes(s, flags & 0x0c);
  }
  bytes += ExtHandshakeBytes(flags >> 4);
  if (flags & 0x04) {
    protocol::AppendMessage(protocol::Bitfield{AllPiecesBitfield()}, &bytes);
  } else {
    protocol::AppendMessage(protocol::HaveAll{}, &bytes);
  }
  if (!(flags & 2)) protocol::AppendMessage(protocol::Unchoke{}, &bytes);
  Send(s, bytes);
}

// Small sends one of the short messages (bits 0-3), some with a parameter
// (bits 4-7).
void Harness::Small(Slot& s, uint8_t arg) {
  const uint8_t param = arg >> 4;
  switch (arg & 15) {
    case 0:
      return SendMessage(s, protocol::Choke{});
    case 1:
      return SendMessage(s, protocol::Unchoke{});
    case 2:
      return SendMessage(s, protocol::Interested{});
    case 3:
      return SendMessage(s, protocol::NotInterested{});
    case 4:
      return SendMessage(s, protocol::KeepAlive{});
    case 5:
      return SendMessage(s, protocol::Port{param});
    case 6:
      return SendMessage(s, protocol::Suggest{param});
    case 7:
      return SendMessage(
          s, protocol::UnknownMessage{static_cast<uint8_t>(30 + param), "xyz"});
    case 8: {
      // An extended message with an id we never announced.
      std::string out;
      protocol::AppendExtended(static_cast<uint8_t>(5 + param), "d1:ai1ee",
                               &out);
      return Send(s, out);
    }
    case 9: {
      // A ut_metadata message of an unknown type (ignored, BEP 9).
      std::string out;
      protocol::AppendExtended(s.our_ut_metadata, "d8:msg_typei7e5:piecei0ee",
                               &out);
      return Send(s, out);
    }
    case 10:
      // Every piece, then none.
      SendMessage(s, protocol::HaveAll{});
      return SendMessage(s, protocol::HaveNone{});
    case 11:
      SendMessage(s, protocol::Unchoke{});
      return SendMessage(s, protocol::Interested{});
    default: {
      // A request for a piece we have, rightly sized.
      const uint32_t piece = param % NumPieces();
      return SendMessage(
          s, protocol::Request{piece, 0,
                               static_cast<uint32_t>(std::min<int64_t>(
                                   PieceSize(piece), protocol::kBlockSize))});
    }
  }
}

}  // namespace bt::client::torrent_fuzz
