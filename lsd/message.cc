#include "lsd/message.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace bt::lsd {
namespace {

constexpr std::string_view kRequestLine = "BT-SEARCH * HTTP/1.1";
constexpr std::string_view kCrlf = "\r\n";

// Line is one CRLF-terminated line and the byte offset where it starts.
struct Line {
  std::string_view text;
  size_t offset;
};

// LineReader walks CRLF-terminated lines; it advances only past whole ones.
class LineReader {
 public:
  explicit LineReader(std::string_view data) : data_(data) {}
  // Next returns the next line, or nullopt when no CRLF is left.
  std::optional<Line> Next() {
    const size_t end = data_.find(kCrlf, pos_);
    if (end == std::string_view::npos) return std::nullopt;
    Line line{data_.substr(pos_, end - pos_), pos_};
    pos_ = end + kCrlf.size();
    return line;
  }
  size_t pos() const { return pos_; }
  std::string_view rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

absl::Status Malformed(const Line& line, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("LSD announce: %s at byte %u", what, line.offset));
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return true;
    if (c == 0x7f) return true;
  }
  return false;
}

// Trim drops the spaces and tabs around a header value.
std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

absl::StatusOr<uint16_t> ParsePort(const Line& line, std::string_view value) {
  uint32_t port = 0;
  for (char c : value.substr(0, 6)) {
    port = absl::ascii_isdigit(static_cast<unsigned char>(c))
               ? port * 10 + static_cast<uint32_t>(c - '0')
               : 0x10000;
  }
  if (value.empty() || value.size() > 5 || port == 0 || port > 65535) {
    return Malformed(
        line,
        absl::StrFormat("Port '%s' is not a port number (1..65535)", value));
  }
  return static_cast<uint16_t>(port);
}

// Header applies one "Name: value" line to `a`; `seen_*` catch repeats.
struct Seen {
  bool host = false, port = false, cookie = false;
};

absl::Status Header(const Line& line, Announce& a, Seen& seen) {
  const size_t colon = line.text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Malformed(line, "header line without a name and a colon");
  }
  if (HasControl(line.text)) {
    return Malformed(line, "control character in a header line");
  }
  const std::string name = Lower(line.text.substr(0, colon));
  const std::string_view value = Trim(line.text.substr(colon + 1));
  if (name == "infohash") {
    if (a.info_hashes.size() == kMaxInfoHashes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "LSD announce: more than %u Infohash headers at byte %u",
          kMaxInfoHashes, line.offset));
    }
    absl::StatusOr<Sha1Hash> ih = Sha1Hash::FromHex(value);
    if (value.size() != 2 * Sha1Hash::kSize || !ih.ok()) {
      return Malformed(line, "Infohash is not 40 hex digits");
    }
    a.info_hashes.push_back(*ih);
  } else if (name == "port") {
    if (seen.port) return Malformed(line, "Port repeated");
    seen.port = true;
    ASSIGN_OR_RETURN(a.port, ParsePort(line, value));
  } else if (name == "host") {
    if (seen.host) return Malformed(line, "Host repeated");
    seen.host = true;
    a.host = std::string(value);
  } else if (name == "cookie") {
    if (seen.cookie) return Malformed(line, "cookie repeated");
    if (value.size() > kMaxCookieBytes) {
      return Malformed(line, absl::StrFormat("cookie longer than %u bytes",
                                             kMaxCookieBytes));
    }
    seen.cookie = true;
    a.cookie = std::string(value);
  }
  // Other headers are skipped, as the BEP asks.
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Announce> ParseAnnounce(std::string_view datagram) {
  if (datagram.size() > kMaxAnnounceBytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("LSD announce: %u bytes, more than %u", datagram.size(),
                        kMaxAnnounceBytes));
  }
  LineReader lines(datagram);
  std::optional<Line> request = lines.Next();
  if (!request || request->text != kRequestLine) {
    return absl::InvalidArgumentError(
        "LSD announce: line 1 is not 'BT-SEARCH * HTTP/1.1'");
  }
  Announce a;
  Seen seen;
  size_t headers = 0;
  for (;;) {
    std::optional<Line> line = lines.Next();
    if (!line) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "LSD announce: no empty line ends the headers (from byte %u)",
          lines.pos()));
    }
    if (line->text.empty()) break;
    if (++headers > kMaxHeaders) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("LSD announce: more than %u header lines at byte %u",
                          kMaxHeaders, line->offset));
    }
    RETURN_IF_ERROR(Header(*line, a, seen));
  }
  // The BEP's layout ends with a second empty line; tolerate any number.
  for (std::string_view rest = lines.rest(); !rest.empty();
       rest.remove_prefix(kCrlf.size())) {
    if (rest.substr(0, kCrlf.size()) != kCrlf) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "LSD announce: unexpected bytes after the headers at byte %u",
          datagram.size() - rest.size()));
    }
  }
  if (!seen.port) {
    return absl::InvalidArgumentError("LSD announce: no Port header");
  }
  if (a.info_hashes.empty()) {
    return absl::InvalidArgumentError("LSD announce: no Infohash header");
  }
  return a;
}

std::string EncodeAnnounce(std::string_view host, uint16_t port,
                           absl::Span<const Sha1Hash> info_hashes,
                           std::string_view cookie) {
  std::string out(kRequestLine);
  out.append(kCrlf).append("Host: ").append(host).append(kCrlf);
  out.append("Port: ").append(std::to_string(port)).append(kCrlf);
  for (const Sha1Hash& ih : info_hashes) {
    out.append("Infohash: ").append(ih.ToHex()).append(kCrlf);
  }
  if (!cookie.empty()) out.append("cookie: ").append(cookie).append(kCrlf);
  out.append(kCrlf).append(kCrlf);
  return out;
}

std::vector<std::string> EncodeAnnounces(std::string_view host, uint16_t port,
                                         absl::Span<const Sha1Hash> info_hashes,
                                         std::string_view cookie) {
  // Every Infohash line has the same length: fit as many as the fixed
  // part leaves room for.
  const size_t fixed = EncodeAnnounce(host, port, {}, cookie).size();
  const size_t per_hash =
      std::string_view("Infohash: \r\n").size() + 2 * Sha1Hash::kSize;
  const size_t room =
      fixed < kMaxDatagramBytes ? (kMaxDatagramBytes - fixed) / per_hash : 0;
  const size_t batch = std::max<size_t>(1, std::min(room, kMaxInfoHashes));
  std::vector<std::string> out;
  for (size_t i = 0; i < info_hashes.size(); i += batch) {
    out.push_back(
        EncodeAnnounce(host, port, info_hashes.subspan(i, batch), cookie));
  }
  return out;
}

}  // namespace bt::lsd
