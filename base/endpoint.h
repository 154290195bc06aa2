// Endpoint: an IPv4 or IPv6 address plus a port, as a plain value (no
// sockets). Used for peers, trackers and DHT nodes across every layer; the
// conversion to and from sockaddr lives in client/, which owns the sockets.
//
//   ASSIGN_OR_RETURN(bt::Endpoint ep, bt::Endpoint::Parse("[::1]:6881"));
//   bt::Endpoint peer = bt::Endpoint::V4({127, 0, 0, 1}, 6881);
//   std::string text = peer.ToString();   // "127.0.0.1:6881"
//   if (peer.IsLoopback()) ...             // 127/8 or ::1
#ifndef BASE_ENDPOINT_H_
#define BASE_ENDPOINT_H_

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/bytes.h"

namespace bt {

class Endpoint {
 public:
  // The default Endpoint is 0.0.0.0:0.
  Endpoint() = default;

  // V4 / V6 build an endpoint from network-order address bytes. Inline,
  // with FromBytes, because compact peer lists build thousands at a time.
  static Endpoint V4(const std::array<uint8_t, 4>& address, uint16_t port) {
    Endpoint e;
    std::memcpy(e.address_.data(), address.data(), 4);
    e.port_ = port;
    return e;
  }
  static Endpoint V6(const std::array<uint8_t, 16>& address, uint16_t port) {
    Endpoint e;
    e.v6_ = true;
    e.address_ = address;
    e.port_ = port;
    return e;
  }

  // FromBytes builds an endpoint from 4 or 16 address bytes; false for any
  // other length.
  // It writes `*out` in place, field by field: building a temporary and
  // copying it costs a store-forwarding stall per endpoint.
  static bool FromBytes(ByteSpan address, uint16_t port, Endpoint* out) {
    if (address.size() != 4 && address.size() != 16) return false;
    // Read before `*out` is written: `address` may be out's own bytes.
    // Two fixed sizes: a copy of variable length compiles to `rep movsb`,
    // whose start-up cost dwarfs four or sixteen bytes.
    std::array<uint8_t, 16> bytes{};
    const bool v6 = address.size() == 16;
    if (v6) {
      std::memcpy(bytes.data(), address.data(), 16);
    } else {
      std::memcpy(bytes.data(), address.data(), 4);
    }
    out->v6_ = v6;
    out->address_ = bytes;
    out->port_ = port;
    return true;
  }

  // Parse reads "a.b.c.d:port" or "[ipv6]:port", strictly: dotted-quad
  // decimal without leading zeros, brackets around IPv6, a decimal port of
  // 0-65535 and nothing else (no host names, no zone ids, no whitespace).
  // Errors are kInvalidArgument naming the text.
  static absl::StatusOr<Endpoint> Parse(std::string_view text);

  // ParseAddress reads a bare address ("1.2.3.4" or "::1", without brackets)
  // with the same strictness as Parse and pairs it with `port`.
  static absl::StatusOr<Endpoint> ParseAddress(std::string_view address,
                                               uint16_t port);

  bool is_v4() const { return !v6_; }
  bool is_v6() const { return v6_; }
  // address_bytes views the 4 or 16 address bytes (network order); valid
  // while this Endpoint is alive and unchanged.
  ByteSpan address_bytes() const {
    return ByteSpan(address_.data(), v6_ ? 16 : 4);
  }
  uint16_t port() const { return port_; }
  void set_port(uint16_t port) { port_ = port; }

  // IsLoopback is true for 127.0.0.0/8 and ::1 (not for IPv4-mapped IPv6
  // addresses, which this type keeps apart from IPv4 ones).
  bool IsLoopback() const;
  // IsUnspecified is true for 0.0.0.0 and :: (any port).
  bool IsUnspecified() const;

  // AddressString formats the address alone: "1.2.3.4" or "::1" (RFC 5952).
  std::string AddressString() const;
  // ToString formats "1.2.3.4:6881" or "[::1]:6881"; Parse reads it back.
  std::string ToString() const;

  // Ordering: all IPv4 before all IPv6, then by address bytes, then port.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend std::strong_ordering operator<=>(const Endpoint&,
                                          const Endpoint&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.v6_, e.address_, e.port_);
  }

 private:
  bool v6_ = false;
  std::array<uint8_t, 16> address_{};  // IPv4 uses the first 4; rest zero
  uint16_t port_ = 0;
};

}  // namespace bt

#endif  // BASE_ENDPOINT_H_
