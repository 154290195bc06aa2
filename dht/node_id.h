// Node id helpers: XOR distance in the 160-bit DHT space (BEP 5) and node ids
// bound to the external IP address (BEP 42, "DHT Security extension").
//
//   bt::NodeId id = bt::dht::SecureNodeId(my_ip_bytes, rng() & 0xff, random);
//   if (!bt::dht::IsSecureNodeId(their_id, their_ip_bytes)) ...
//   int bucket = bt::dht::CommonPrefixBits(my_id, their_id);
//
// IP addresses are passed as their network-order bytes: 4 for IPv4, 16 for
// IPv6.
#ifndef DHT_NODE_ID_H_
#define DHT_NODE_ID_H_

#include <cstdint>

#include "base/bytes.h"
#include "base/hash.h"

namespace bt::dht {

// Distance returns a XOR b, the BEP 5 distance metric.
NodeId Distance(const NodeId& a, const NodeId& b);

// CommonPrefixBits returns how many leading bits `a` and `b` share (160 if
// equal).
int CommonPrefixBits(const NodeId& a, const NodeId& b);

// CloserTo is true if `a` is strictly closer to `target` than `b` is.
bool CloserTo(const NodeId& target, const NodeId& a, const NodeId& b);

// SecureNodeIdPrefix returns the CRC32C of the masked address with `r` (0..7)
// mixed in: the top 21 bits of a BEP 42 id. `ip` must be 4 or 16 bytes (only
// the first 8 bytes of IPv6 count); returns 0 for other sizes.
uint32_t SecureNodeIdPrefix(ByteSpan ip, uint8_t r);

// SecureNodeId builds a BEP 42 id for `ip`: the first 21 bits from
// SecureNodeIdPrefix(ip, rand & 7), the last byte `rand`, the remaining bits
// from `random`. For a size other than 4 or 16, returns `random` unchanged.
NodeId SecureNodeId(ByteSpan ip, uint8_t rand, const NodeId& random);

// IsSecureNodeId is true if `id` is valid for `ip` under BEP 42 (its first
// 21 bits match the prefix computed with r = id[19] & 7), or if `ip` is a
// local address exempt from the check (IsBep42Exempt).
bool IsSecureNodeId(const NodeId& id, ByteSpan ip);

// IsBep42Exempt is true for addresses BEP 42 exempts from id verification:
// 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8; and for IPv6 ::1,
// fc00::/7 and fe80::/10. Also true for sizes other than 4 or 16.
bool IsBep42Exempt(ByteSpan ip);

}  // namespace bt::dht

#endif  // DHT_NODE_ID_H_
