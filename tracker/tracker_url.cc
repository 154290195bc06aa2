#include "tracker/tracker_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "base/endpoint.h"

namespace bt::tracker {
namespace {

constexpr size_t kMaxUrlLength = 4096;

absl::Status BadUrl(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "invalid tracker URL \"%s\": %s",
      absl::CHexEscape(std::string(url.substr(0, 200))), why));
}

bool IsUnreserved(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

bool IsHostChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

uint16_t DefaultPort(TrackerUrl::Scheme s) {
  switch (s) {
    case TrackerUrl::Scheme::kHttp:
      return 80;
    case TrackerUrl::Scheme::kHttps:
      return 443;
    case TrackerUrl::Scheme::kUdp:
      return 0;
  }
  return 0;
}

const char* SchemeName(TrackerUrl::Scheme s) {
  switch (s) {
    case TrackerUrl::Scheme::kHttp:
      return "http";
    case TrackerUrl::Scheme::kHttps:
      return "https";
    case TrackerUrl::Scheme::kUdp:
      return "udp";
  }
  return "?";
}

}  // namespace

absl::StatusOr<TrackerUrl> TrackerUrl::Parse(std::string_view url) {
  if (url.size() > kMaxUrlLength) return BadUrl(url, "longer than 4096 bytes");
  for (char c : url) {
    if (static_cast<uint8_t>(c) <= 0x20 || c == 0x7f) {
      return BadUrl(url, "contains a space or control character");
    }
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return BadUrl(url, "missing \"://\"");
  std::string scheme = absl::AsciiStrToLower(std::string(url.substr(0, sep)));
  TrackerUrl out;
  if (scheme == "http") {
    out.scheme = Scheme::kHttp;
  } else if (scheme == "https") {
    out.scheme = Scheme::kHttps;
  } else if (scheme == "udp") {
    out.scheme = Scheme::kUdp;
  } else {
    return BadUrl(url, "scheme must be http, https or udp");
  }
  std::string_view rest = url.substr(sep + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos
                              ? std::string_view()
                              : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(url, "user info is not supported");
  }
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "missing ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadUrl(url, "junk after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
    if (!Endpoint::ParseAddress(host, 0).ok() ||
        host.find(':') == std::string_view::npos) {
      return BadUrl(url, "bad IPv6 address in brackets");
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return BadUrl(url, "empty host");
    for (char c : host) {
      if (!IsHostChar(c)) return BadUrl(url, "bad character in host");
    }
  }
  if (host.empty()) return BadUrl(url, "empty host");
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) {
      return BadUrl(url, "port must be 1-65535");
    }
    uint32_t port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return BadUrl(url, "port must be 1-65535");
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return BadUrl(url, "port must be 1-65535");
    out.port = static_cast<uint16_t>(port);
    out.explicit_port = true;
  } else {
    out.port = DefaultPort(out.scheme);
    if (out.port == 0) return BadUrl(url, "udp tracker URLs need a port");
  }
  out.host = absl::AsciiStrToLower(std::string(host));
  if (path.empty()) {
    out.path_query = "/";
  } else if (path[0] == '?') {
    out.path_query = absl::StrFormat("/%s", path);
  } else {
    out.path_query = std::string(path);
  }
  return out;
}

std::string TrackerUrl::HostHeader() const {
  std::string h = host.find(':') != std::string::npos
                      ? absl::StrFormat("[%s]", host)
                      : host;
  if (port != DefaultPort(scheme)) h += absl::StrFormat(":%d", port);
  return h;
}

std::string TrackerUrl::ToString() const {
  std::string h = host.find(':') != std::string::npos
                      ? absl::StrFormat("[%s]", host)
                      : host;
  if (port != DefaultPort(scheme)) h += absl::StrFormat(":%d", port);
  return absl::StrFormat("%s://%s%s", SchemeName(scheme), h, path_query);
}

std::string UrlEncode(ByteSpan bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (uint8_t b : bytes) {
    if (IsUnreserved(b)) {
      out.push_back(static_cast<char>(b));
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

void AppendQuery(std::string* url, std::string_view key,
                 std::string_view value) {
  if (url->find('?') == std::string::npos) {
    url->push_back('?');
  } else if (url->back() != '?' && url->back() != '&') {
    url->push_back('&');
  }
  url->append(key);
  url->push_back('=');
  url->append(value);
}

absl::StatusOr<std::string> ScrapeUrlFromAnnounce(
    std::string_view announce_url) {
  absl::StatusOr<TrackerUrl> parsed = TrackerUrl::Parse(announce_url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->is_udp()) return std::string(announce_url);
  // Work on the original text so everything but the one word is kept.
  std::string url(announce_url);
  size_t scheme_end = url.find("://") + 3;
  size_t path_start = url.find_first_of("/?#", scheme_end);
  size_t path_end = url.find_first_of("?#", scheme_end);
  if (path_end == std::string::npos) path_end = url.size();
  if (path_start == std::string::npos || url[path_start] != '/') {
    return absl::NotFoundError(absl::StrFormat(
        "tracker \"%s\" has no scrape URL: its path is empty",
        parsed->ToString()));
  }
  size_t last_slash = url.rfind('/', path_end - 1);
  std::string_view last(url.data() + last_slash + 1,
                        path_end - last_slash - 1);
  if (last_slash < path_start || last.substr(0, 8) != "announce") {
    return absl::NotFoundError(absl::StrFormat(
        "tracker \"%s\" has no scrape URL: its last path component does not "
        "start with \"announce\" (BEP 48)",
        parsed->ToString()));
  }
  url.replace(last_slash + 1, 8, "scrape");
  return url;
}

absl::StatusOr<std::string> ResolveRedirect(const TrackerUrl& base,
                                            std::string_view location) {
  std::string target;
  std::string lower = absl::AsciiStrToLower(std::string(location.substr(0, 8)));
  if (lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0) {
    target = std::string(location);
  } else if (size_t colon = location.find(':');
             colon != std::string_view::npos &&
             location.find_first_of("/?#") > colon) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "redirect to a non-HTTP URL \"%s\"",
        absl::CHexEscape(std::string(location.substr(0, 200)))));
  } else if (location.substr(0, 2) == "//") {
    target = absl::StrFormat("%s:%s",
                             base.scheme == TrackerUrl::Scheme::kHttps
                                 ? "https"
                                 : "http",
                             location);
  } else {
    TrackerUrl copy = base;
    if (!location.empty() && location[0] == '/') {
      copy.path_query = std::string(location);
    } else {
      std::string dir = copy.path_query.substr(0, copy.path_query.find('?'));
      dir = dir.substr(0, dir.rfind('/') + 1);
      copy.path_query = dir + std::string(location);
    }
    target = copy.ToString();
  }
  absl::StatusOr<TrackerUrl> parsed = TrackerUrl::Parse(target);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad redirect Location \"%s\": %s",
        absl::CHexEscape(std::string(location.substr(0, 200))),
        parsed.status().message()));
  }
  if (!parsed->is_http()) {
    return absl::InvalidArgumentError("redirect to a non-HTTP URL");
  }
  return target;
}

}  // namespace bt::tracker
