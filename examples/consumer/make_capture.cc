// make_capture: writes a small, fixed peer-wire conversation in wire_dump's
// capture format (see wire_dump.cc), made with btkit's message builders:
// both handshakes, an extension handshake, bitfield / have all, interest,
// unchoke, requests, a piece, a reject, have, allowed fast, a cancel, a
// keep-alive and a port. Each direction is cut into small, odd-sized chunks
// that interleave, so a dumper must reassemble messages across chunks.
//
//   make_capture > conversation.cap && wire_dump conversation.cap
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/hash.h"
#include "protocol/handshake.h"
#include "protocol/message.h"

namespace {

namespace proto = bt::protocol;

// Filled makes a fixed-size byte value whose bytes are all `b`.
template <typename T>
T Filled(uint8_t b) {
  std::array<uint8_t, T::kSize> bytes;
  bytes.fill(b);
  return T(bytes);
}

// AppendChunk appends one capture record: direction, big-endian length,
// bytes.
void AppendChunk(char direction, std::string_view bytes, std::string* out) {
  out->push_back(direction);
  uint32_t n = bytes.size();
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out->append(bytes);
}

}  // namespace

int main() {
  proto::Handshake a;  // the initiator, '>'
  a.reserved.Set(proto::ReservedBit::kFast).Set(proto::ReservedBit::kExtension);
  a.info_hash = Filled<bt::Sha1Hash>(0xab);
  a.peer_id = Filled<bt::PeerId>('A');
  proto::Handshake b = a;  // the responder, '<'
  b.reserved.Set(proto::ReservedBit::kDht);
  b.peer_id = Filled<bt::PeerId>('B');

  std::string out_a, out_b;
  proto::AppendHandshake(a, &out_a);
  proto::AppendExtended(0, "d1:md11:ut_metadatai3eee", &out_a);
  proto::AppendMessage(proto::Interested{}, &out_a);
  proto::AppendRequest(0, 0, 16, &out_a);
  proto::AppendRequest(1, 0, 16, &out_a);
  proto::AppendRequest(2, 0, 16, &out_a);
  proto::AppendHave(0, &out_a);
  proto::AppendCancel(1, 0, 16, &out_a);
  proto::AppendKeepAlive(&out_a);

  proto::AppendHandshake(b, &out_b);
  proto::AppendBitfield(std::string_view("\xe0", 1), &out_b);
  proto::AppendMessage(proto::Port{6881}, &out_b);
  proto::AppendMessage(proto::AllowedFast{2}, &out_b);
  proto::AppendMessage(proto::Unchoke{}, &out_b);
  proto::AppendPiece(0, 0, "sixteen bytes!!!", &out_b);
  proto::AppendReject(2, 0, 16, &out_b);
  proto::AppendMessage(proto::Choke{}, &out_b);

  std::string capture;
  size_t pos_a = 0, pos_b = 0;
  for (size_t round = 0; pos_a < out_a.size() || pos_b < out_b.size();
       ++round) {
    size_t n_a = 7 + round % 5, n_b = 13 + round % 3;
    if (pos_a < out_a.size()) {
      std::string_view chunk = std::string_view(out_a).substr(pos_a, n_a);
      AppendChunk('>', chunk, &capture);
      pos_a += chunk.size();
    }
    if (pos_b < out_b.size()) {
      std::string_view chunk = std::string_view(out_b).substr(pos_b, n_b);
      AppendChunk('<', chunk, &capture);
      pos_b += chunk.size();
    }
  }
  return std::fwrite(capture.data(), 1, capture.size(), stdout) ==
                 capture.size()
             ? 0
             : 1;
}
