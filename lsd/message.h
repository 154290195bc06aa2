// Local Service Discovery (BEP 14) announces: the BT-SEARCH datagram a
// client multicasts to say which torrents it takes part in and on which
// port it listens, parsed strictly and built to the BEP's size advice.
//
//   BT-SEARCH * HTTP/1.1\r\n
//   Host: 239.192.152.143:6771\r\n
//   Port: 6881\r\n
//   Infohash: 0123456789abcdef0123456789abcdef01234567\r\n   (one or more)
//   cookie: 1f2e3d4c\r\n                                  (optional)
//   \r\n
//   \r\n
//
//   ASSIGN_OR_RETURN(bt::lsd::Announce a, bt::lsd::ParseAnnounce(datagram));
//   for (const bt::Sha1Hash& ih : a.info_hashes) Found(ih, a.port);
//   for (const std::string& d : bt::lsd::EncodeAnnounces(
//            bt::lsd::kHostV4, 6881, hashes, "1f2e3d4c")) {
//     Send(d);
//   }
//
// ParseAnnounce takes untrusted bytes and never reads past them; what it
// returns owns its memory.
#ifndef LSD_MESSAGE_H_
#define LSD_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/hash.h"

namespace bt::lsd {

// The BEP's multicast groups (org-local IPv4, site-local IPv6), their
// port, and the Host header values naming them.
inline constexpr std::string_view kGroupV4 = "239.192.152.143";
inline constexpr std::string_view kGroupV6 = "ff15::efc0:988f";
inline constexpr uint16_t kPort = 6771;
inline constexpr std::string_view kHostV4 = "239.192.152.143:6771";
inline constexpr std::string_view kHostV6 = "[ff15::efc0:988f]:6771";

// kMaxDatagramBytes: EncodeAnnounces keeps each datagram within the BEP's
// 1400 bytes (no fragmentation).
inline constexpr size_t kMaxDatagramBytes = 1400;
// Parser limits: a longer datagram, more header lines or Infohash headers,
// or a longer header line or cookie is refused.
inline constexpr size_t kMaxAnnounceBytes = 2048;
inline constexpr size_t kMaxHeaders = 48;
inline constexpr size_t kMaxInfoHashes = 32;
inline constexpr size_t kMaxCookieBytes = 64;

// Announce: one parsed BT-SEARCH datagram.
struct Announce {
  std::string host;                   // the Host header as sent ("" if absent)
  uint16_t port = 0;                  // 1..65535
  std::vector<Sha1Hash> info_hashes;  // 1..kMaxInfoHashes, in order, may repeat
  std::string cookie;                 // "" if absent
  bool operator==(const Announce&) const = default;
};

// ParseAnnounce parses one datagram. The request line must be exactly
// "BT-SEARCH * HTTP/1.1"; lines end in CRLF; header names are matched
// without regard to case and unknown headers are skipped (as the BEP
// asks); an empty line ends the headers, after which only CRLFs may
// follow. Errors, with the line or byte offset at fault:
// kResourceExhausted for a datagram over kMaxAnnounceBytes or more than
// kMaxHeaders header lines or kMaxInfoHashes Infohash headers;
// kInvalidArgument for anything malformed — another request line, a line
// without a colon or with control characters, no empty line, a missing,
// repeated or out-of-range Port (1..65535, decimal), an Infohash that is
// not 40 hex digits, no Infohash, a repeated Host or cookie, or a cookie
// over kMaxCookieBytes.
absl::StatusOr<Announce> ParseAnnounce(std::string_view datagram);

// EncodeAnnounce builds one datagram announcing `info_hashes` (not empty)
// on `port`, with `host` (kHostV4 or kHostV6) and `cookie` (omitted when
// empty). The caller keeps it within kMaxDatagramBytes (see
// EncodeAnnounces).
std::string EncodeAnnounce(std::string_view host, uint16_t port,
                           absl::Span<const Sha1Hash> info_hashes,
                           std::string_view cookie);

// EncodeAnnounces announces every hash of `info_hashes`, as many per
// datagram as fit in kMaxDatagramBytes, in order; none for none.
std::vector<std::string> EncodeAnnounces(std::string_view host, uint16_t port,
                                         absl::Span<const Sha1Hash> info_hashes,
                                         std::string_view cookie);

}  // namespace bt::lsd

#endif  // LSD_MESSAGE_H_
