// Tracker URLs: parsing announce URLs (http, https, udp), the BEP 48
// announce-to-scrape rule, redirect resolution, and the percent-encoding of
// binary query values (info_hash, peer_id).
//
//   ASSIGN_OR_RETURN(bt::tracker::TrackerUrl url,
//                    bt::tracker::TrackerUrl::Parse("udp://t.example:6969/a?k=1"));
//   url.host;        // "t.example"
//   url.path_query;  // "/a?k=1" (sent as BEP 41 URL data for udp)
//   ASSIGN_OR_RETURN(std::string scrape,
//                    bt::tracker::ScrapeUrlFromAnnounce("http://t/x/announce.php"));
//   // "http://t/x/scrape.php"
#ifndef TRACKER_TRACKER_URL_H_
#define TRACKER_TRACKER_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/bytes.h"

namespace bt::tracker {

struct TrackerUrl {
  enum class Scheme { kHttp, kHttps, kUdp };

  // Parse accepts "scheme://host[:port][/path][?query]" with scheme http,
  // https or udp (any case), host a DNS name, dotted IPv4 or [IPv6], and a
  // port 1-65535 (required for udp; http defaults to 80, https to 443). A
  // "#fragment" is dropped. Errors (kInvalidArgument, naming the URL): other
  // schemes, user info, empty or malformed host, bad port, spaces or control
  // characters, URLs longer than 4096 bytes.
  static absl::StatusOr<TrackerUrl> Parse(std::string_view url);

  Scheme scheme = Scheme::kHttp;
  std::string host;        // without brackets for IPv6
  uint16_t port = 0;
  bool explicit_port = false;
  std::string path_query;  // starts with '/', at least "/"

  bool is_http() const { return scheme != Scheme::kUdp; }
  bool is_udp() const { return scheme == Scheme::kUdp; }
  // HostHeader is the HTTP Host header value: host, [v6], and ":port" when
  // the port is not the scheme's default.
  std::string HostHeader() const;
  // ToString rebuilds the URL in normal form (lower-case scheme).
  std::string ToString() const;
};

// UrlEncode percent-encodes every byte outside RFC 3986's unreserved set
// (A-Z a-z 0-9 - . _ ~) as %XX with upper-case hex.
std::string UrlEncode(ByteSpan bytes);
inline std::string UrlEncode(std::string_view s) { return UrlEncode(AsBytes(s)); }

// AppendQuery appends "key=value" to `url` with '?' or '&' as needed;
// `value` must already be encoded.
void AppendQuery(std::string* url, std::string_view key, std::string_view value);

// ScrapeUrlFromAnnounce applies BEP 48: the last path component of the
// announce URL must start with "announce"; that word is replaced by
// "scrape" and the rest (including the query) is kept. kNotFound when the
// tracker has no scrape convention by this rule; kInvalidArgument for a URL
// that does not parse. UDP URLs are returned unchanged (BEP 15 scrapes
// through the same address).
absl::StatusOr<std::string> ScrapeUrlFromAnnounce(std::string_view announce_url);

// ResolveRedirect turns an HTTP Location header into an absolute URL
// against `base`: absolute http(s) URLs are taken as they are, "//host/..."
// keeps the scheme, "/path" keeps scheme and authority, anything else is
// resolved against the base path's directory. kInvalidArgument when the
// result does not parse or is not http(s).
absl::StatusOr<std::string> ResolveRedirect(const TrackerUrl& base,
                                            std::string_view location);

}  // namespace bt::tracker

#endif  // TRACKER_TRACKER_URL_H_
