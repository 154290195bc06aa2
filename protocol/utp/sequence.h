// Sequence and acknowledgement numbers of uTP (BEP 29) are 16 bits and wrap
// around; timestamps are 32-bit microseconds and wrap too. These helpers
// compare them the way the protocol means: `a` is before `b` when going
// forward from `a` reaches `b` in less than half the number space.
//
//   if (bt::protocol::utp::SeqLess(packet.ack_nr, last_acked)) return;  // old
//   uint16_t gap = bt::protocol::utp::SeqDistance(ack_nr, seq_nr);
#ifndef PROTOCOL_UTP_SEQUENCE_H_
#define PROTOCOL_UTP_SEQUENCE_H_

#include <cstdint>

namespace bt::protocol::utp {

// SeqDistance is how many steps forward `from` must go to reach `to`,
// modulo 2^16.
constexpr uint16_t SeqDistance(uint16_t from, uint16_t to) {
  return static_cast<uint16_t>(to - from);
}

// SeqLess is true when `a` comes strictly before `b` in wrap-around order.
constexpr bool SeqLess(uint16_t a, uint16_t b) {
  return a != b && SeqDistance(a, b) < 0x8000;
}

// SeqLessOrEqual is SeqLess or equality.
constexpr bool SeqLessOrEqual(uint16_t a, uint16_t b) {
  return a == b || SeqLess(a, b);
}

// TimestampLess is SeqLess for 32-bit microsecond timestamps.
constexpr bool TimestampLess(uint32_t a, uint32_t b) {
  return a != b && static_cast<uint32_t>(b - a) < 0x80000000u;
}

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_SEQUENCE_H_
