// Feeds arbitrary datagrams to the uTP packet parser; whatever parses must
// survive a re-encode and re-parse with every field unchanged, and the
// demultiplexing test must agree with the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "protocol/utp/packet.h"

namespace utp = bt::protocol::utp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool looks = utp::LooksLikeUtp(in);
  absl::StatusOr<utp::Packet> p = utp::ParsePacket(in);
  if (!p.ok()) return 0;
  if (!looks) __builtin_trap();  // a parsable packet must pass the demux test
  // The views point into the input, in order, and fit in it.
  if (p->payload.size() > in.size()) __builtin_trap();
  if (p->selective_ack.size() > 255) {
    __builtin_trap();
  }
  for (size_t i = 0; i < p->selective_ack.size() * 8 + 8; ++i) {
    (void)utp::SelectiveAckHas(p->selective_ack, i);
  }
  (void)utp::PacketTypeName(p->header.type);

  // Unknown extensions are dropped, so the encoding may be shorter than the
  // input, but it must mean the same thing.
  std::string again = utp::EncodePacket(*p);
  if (again.size() != utp::EncodedSize(*p) || again.size() > in.size()) {
    __builtin_trap();
  }
  absl::StatusOr<utp::Packet> q = utp::ParsePacket(again);
  if (!q.ok()) __builtin_trap();
  if (q->header.type != p->header.type ||
      q->header.connection_id != p->header.connection_id ||
      q->header.timestamp_us != p->header.timestamp_us ||
      q->header.timestamp_difference_us != p->header.timestamp_difference_us ||
      q->header.window_size != p->header.window_size ||
      q->header.seq_nr != p->header.seq_nr ||
      q->header.ack_nr != p->header.ack_nr ||
      q->selective_ack != p->selective_ack || q->payload != p->payload) {
    __builtin_trap();
  }
  if (!(*q == *p)) __builtin_trap();
  // A canonical encoding is a fixed point.
  if (utp::EncodePacket(*q) != again) __builtin_trap();
  return 0;
}
