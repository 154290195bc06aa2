#include "base/endpoint.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace bt {
namespace {

absl::Status BadEndpoint(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrFormat("invalid endpoint \"%s\": %s", absl::CHexEscape(std::string(text)), why));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ParseDecimal reads 1..max_digits decimal digits without a leading zero
// (a lone "0" is fine) whose value is at most `max`.
bool ParseDecimal(std::string_view s, size_t max_digits, uint32_t max,
                  uint32_t* out) {
  if (s.empty() || s.size() > max_digits) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint32_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool ParseV4(std::string_view s, std::array<uint8_t, 4>* out) {
  for (int i = 0; i < 4; ++i) {
    size_t dot = s.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return false;
    std::string_view part = s.substr(0, dot);
    uint32_t v;
    if (!ParseDecimal(part, 3, 255, &v)) return false;
    (*out)[i] = static_cast<uint8_t>(v);
    s = i < 3 ? s.substr(dot + 1) : std::string_view();
  }
  return true;
}

bool ParseV6(std::string_view s, std::array<uint8_t, 16>* out) {
  // inet_pton accepts exactly the RFC 4291 text forms (including an
  // embedded dotted quad); reject anything with characters it would not
  // expect before handing it a NUL-terminated copy.
  if (s.empty() || s.size() > 45) return false;
  for (char c : s) {
    if (!(IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
          c == ':' || c == '.')) {
      return false;
    }
  }
  std::string copy(s);
  return inet_pton(AF_INET6, copy.c_str(), out->data()) == 1;
}

}  // namespace

absl::StatusOr<Endpoint> Endpoint::ParseAddress(std::string_view address,
                                                uint16_t port) {
  std::array<uint8_t, 4> v4;
  if (ParseV4(address, &v4)) return V4(v4, port);
  std::array<uint8_t, 16> v6;
  if (ParseV6(address, &v6)) return V6(v6, port);
  return absl::InvalidArgumentError(absl::StrFormat(
      "invalid IP address \"%s\": expected a.b.c.d or an IPv6 address",
      absl::CHexEscape(std::string(address))));
}

absl::StatusOr<Endpoint> Endpoint::Parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool bracketed = !text.empty() && text[0] == '[';
  if (bracketed) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return BadEndpoint(text, "missing ']' after IPv6 address");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest[0] != ':') {
      return BadEndpoint(text, "expected ':port' after ']'");
    }
    port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return BadEndpoint(text, "missing ':port'");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  uint32_t port;
  if (!ParseDecimal(port_text, 5, 65535, &port)) {
    return BadEndpoint(text, "port must be a decimal number 0-65535");
  }
  if (bracketed) {
    std::array<uint8_t, 16> v6;
    if (!ParseV6(host, &v6)) return BadEndpoint(text, "bad IPv6 address");
    return V6(v6, static_cast<uint16_t>(port));
  }
  std::array<uint8_t, 4> v4;
  if (!ParseV4(host, &v4)) {
    return BadEndpoint(text, host.find(':') != std::string_view::npos
                                 ? "IPv6 addresses need brackets: [addr]:port"
                                 : "bad IPv4 address (expected a.b.c.d)");
  }
  return V4(v4, static_cast<uint16_t>(port));
}

bool Endpoint::IsLoopback() const {
  if (!v6_) return address_[0] == 127;
  for (size_t i = 0; i < 15; ++i) {
    if (address_[i] != 0) return false;
  }
  return address_[15] == 1;
}

bool Endpoint::IsUnspecified() const {
  for (uint8_t b : address_) {
    if (b != 0) return false;  // IPv4 leaves bytes 4..15 zero
  }
  return true;
}

std::string Endpoint::AddressString() const {
  if (!v6_) {
    return absl::StrFormat("%d.%d.%d.%d", address_[0], address_[1],
                           address_[2], address_[3]);
  }
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, address_.data(), buf, sizeof(buf)) == nullptr) {
    return "?";  // cannot happen for a 16-byte address
  }
  return buf;
}

std::string Endpoint::ToString() const {
  if (!v6_) return absl::StrFormat("%s:%d", AddressString(), port_);
  return absl::StrFormat("[%s]:%d", AddressString(), port_);
}

}  // namespace bt
