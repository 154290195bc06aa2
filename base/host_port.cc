#include "base/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace bt {

std::string HostPort::ToString() const {
  return host.find(':') == std::string::npos
             ? absl::StrFormat("%s:%d", host, port)
             : absl::StrFormat("[%s]:%d", host, port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  HostPort out;
  uint32_t port = 0;
  if (colon != std::string_view::npos && colon > 0) {
    out.host = std::string(text.substr(0, colon));
    if (out.host.size() >= 2 && out.host.front() == '[' &&
        out.host.back() == ']') {
      out.host = out.host.substr(1, out.host.size() - 2);
    }
    if (!out.host.empty() &&
        absl::SimpleAtoi(std::string(text.substr(colon + 1)), &port) &&
        port > 0 && port <= 65535) {
      out.port = static_cast<uint16_t>(port);
      return out;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("'%s' is not HOST:PORT with a port of 1 to 65535", text));
}

absl::StatusOr<std::vector<HostPort>> ParseHostPortList(std::string_view text) {
  std::vector<HostPort> out;
  if (text.empty()) return out;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    absl::StatusOr<HostPort> hp =
        ParseHostPort(std::string_view(entry.data(), entry.size()));
    if (!hp.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "entry %d: %s", out.size() + 1, hp.status().message()));
    }
    out.push_back(*std::move(hp));
  }
  return out;
}

}  // namespace bt
