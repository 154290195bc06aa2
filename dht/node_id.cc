#include "dht/node_id.h"

#include <bit>

#include "base/endpoint.h"
#include "dht/crc32c.h"

namespace bt::dht {

NodeId Distance(const NodeId& a, const NodeId& b) {
  NodeId d;
  for (size_t i = 0; i < NodeId::kSize; ++i) d[i] = a[i] ^ b[i];
  return d;
}

int CommonPrefixBits(const NodeId& a, const NodeId& b) {
  for (size_t i = 0; i < NodeId::kSize; ++i) {
    uint8_t x = a[i] ^ b[i];
    if (x) return static_cast<int>(i * 8) + std::countl_zero(x);
  }
  return 160;
}

bool CloserTo(const NodeId& target, const NodeId& a, const NodeId& b) {
  for (size_t i = 0; i < NodeId::kSize; ++i) {
    uint8_t da = a[i] ^ target[i];
    uint8_t db = b[i] ^ target[i];
    if (da != db) return da < db;
  }
  return false;
}

uint32_t SecureNodeIdPrefix(ByteSpan ip, uint8_t r) {
  static constexpr uint8_t kV4Mask[] = {0x03, 0x0f, 0x3f, 0xff};
  static constexpr uint8_t kV6Mask[] = {0x01, 0x03, 0x07, 0x0f,
                                        0x1f, 0x3f, 0x7f, 0xff};
  uint8_t buf[8];
  size_t n;
  const uint8_t* mask;
  if (ip.size() == 4) {
    n = 4;
    mask = kV4Mask;
  } else if (ip.size() == 16) {
    n = 8;
    mask = kV6Mask;
  } else {
    return 0;
  }
  for (size_t i = 0; i < n; ++i) buf[i] = ip[i] & mask[i];
  buf[0] |= static_cast<uint8_t>((r & 7) << 5);
  return Crc32c(ByteSpan(buf, n));
}

NodeId SecureNodeId(ByteSpan ip, uint8_t rand, const NodeId& random) {
  if (ip.size() != 4 && ip.size() != 16) return random;
  uint32_t crc = SecureNodeIdPrefix(ip, rand & 7);
  NodeId id = random;
  id[0] = static_cast<uint8_t>(crc >> 24);
  id[1] = static_cast<uint8_t>(crc >> 16);
  id[2] = static_cast<uint8_t>(((crc >> 8) & 0xf8) | (random[2] & 0x07));
  id[19] = rand;
  return id;
}

bool IsBep42Exempt(ByteSpan ip) {
  Endpoint address;
  if (!Endpoint::FromBytes(ip, 0, &address)) return true;
  if (address.IsLoopback()) return true;
  if (address.is_v4()) {
    return ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
           (ip[0] == 192 && ip[1] == 168) || (ip[0] == 169 && ip[1] == 254);
  }
  return (ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80);
}

bool IsSecureNodeId(const NodeId& id, ByteSpan ip) {
  if (IsBep42Exempt(ip)) return true;
  uint32_t crc = SecureNodeIdPrefix(ip, id[19] & 7);
  return id[0] == static_cast<uint8_t>(crc >> 24) &&
         id[1] == static_cast<uint8_t>(crc >> 16) &&
         (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

}  // namespace bt::dht
