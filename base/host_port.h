// HostPort: a host name or address and a port, as a user or a .torrent
// gives it ("router.example:6881", "[::1]:6881"), before any name lookup.
// Endpoint (endpoint.h) is the resolved form.
//
//   ASSIGN_OR_RETURN(bt::HostPort router,
//                    bt::ParseHostPort("router.bittorrent.com:6881"));
//   ASSIGN_OR_RETURN(std::vector<bt::HostPort> routers,
//                    bt::ParseHostPortList("a.example:1,[::1]:2"));
#ifndef BASE_HOST_PORT_H_
#define BASE_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bt {

// HostPort is a host name or address (IPv6 without brackets) and a port.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  // ToString formats "host:port", or "[v6]:port"; ParseHostPort reads it
  // back.
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// ParseHostPort reads "HOST:PORT" or "[IPV6]:PORT" with a non-empty host and
// a port of 1..65535; errors are kInvalidArgument and quote the text.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

// ParseHostPortList reads comma-separated HostPorts ("" is the empty list).
// Errors are kInvalidArgument naming the entry's position (from 1) and
// ParseHostPort's message.
absl::StatusOr<std::vector<HostPort>> ParseHostPortList(std::string_view text);

}  // namespace bt

#endif  // BASE_HOST_PORT_H_
