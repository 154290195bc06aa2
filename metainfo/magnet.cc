#include "metainfo/magnet.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "metainfo/path_sanitizer.h"
#include "metainfo/torrent_info.h"

namespace bt::metainfo {

namespace {

// Small std::string_view helpers (Debian's Abseil has its own string_view).
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

// Split cuts `s` at every `a` or `b` (pass the same character twice for
// one separator). Two fixed characters, not a set searched with find(): a
// memchr call per character of a link was a fifth of the parse.
std::vector<std::string_view> Split(std::string_view s, char a, char b) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == a || s[i] == b) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// ParseDecimal reads 1-9 decimal digits.
bool ParseDecimal(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          bool plus_is_space) {
  // Written through a pointer into a buffer sized for the worst case: a
  // push_back per character was most of a parse.
  std::string out(s.size(), '\0');
  char* w = out.data();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "magnet: bad percent escape at character %d of \"%s\"", i,
            EscapeForMessage(s)));
      }
      *w++ = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      *w++ = c == '+' && plus_is_space ? ' ' : c;
    }
  }
  out.resize(w - out.data());
  return out;
}

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

// Strips a ".<digits>" suffix ("tr.1" -> "tr").
std::string_view BaseKey(std::string_view key) {
  size_t dot = key.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == key.size()) return key;
  for (char c : key.substr(dot + 1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return key;
  }
  return key.substr(0, dot);
}

absl::Status ParseXt(std::string_view value, MagnetLink* link) {
  std::string lower = Lower(std::string_view(value).substr(0, 9));
  if (lower == "urn:btih:") {
    std::string_view h = value.substr(9);
    absl::StatusOr<Sha1Hash> ih =
        h.size() == 32 ? Sha1Hash::FromBase32(h) : Sha1Hash::FromHex(h);
    if (!ih.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("magnet: xt urn:btih: %s", ih.status().message()));
    }
    if (link->info_hash_v1 && *link->info_hash_v1 != *ih) {
      return absl::InvalidArgumentError(
          "magnet: two different urn:btih: info-hashes");
    }
    link->info_hash_v1 = *ih;
  } else if (lower == "urn:btmh:") {
    std::string_view h = value.substr(9);
    // Multihash: 0x12 (sha2-256), 0x20 (32 bytes), digest.
    if (h.size() != 68 || (h.substr(0, 4) != "1220")) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "magnet: xt urn:btmh: expects \"1220\" and 64 hex digits, got "
          "\"%s\"",
          EscapeForMessage(h)));
    }
    absl::StatusOr<Sha256Hash> ih = Sha256Hash::FromHex(h.substr(4));
    if (!ih.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("magnet: xt urn:btmh: %s", ih.status().message()));
    }
    if (link->info_hash_v2 && *link->info_hash_v2 != *ih) {
      return absl::InvalidArgumentError(
          "magnet: two different urn:btmh: info-hashes");
    }
    link->info_hash_v2 = *ih;
  }
  // Other URNs (ed2k, sha1, ...) name other networks: ignored.
  return absl::OkStatus();
}

absl::Status ParsePeer(const std::string& value) {
  size_t colon = value.rfind(':');
  uint32_t port = 0;
  bool ok = colon != std::string::npos && colon > 0 &&
            ParseDecimal(std::string_view(value).substr(colon + 1), &port) &&
            port >= 1 && port <= 65535;
  if (ok && value[0] == '[') ok = value[colon - 1] == ']';
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "magnet: x.pe \"%s\" is not host:port", EscapeForMessage(value)));
  }
  return absl::OkStatus();
}

absl::Status ParseSelectOnly(std::string_view value, size_t max_entries,
                             std::vector<FileRange>* out) {
  for (std::string_view part : Split(value, ',', ',')) {
    if (out->size() >= max_entries) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("magnet: so has more than %d entries", max_entries));
    }
    uint32_t a = 0, b = 0;
    size_t dash = part.find('-');
    bool ok;
    if (dash == std::string_view::npos) {
      ok = ParseDecimal(part, &a);
      b = a;
    } else {
      ok = ParseDecimal(part.substr(0, dash), &a) &&
           ParseDecimal(part.substr(dash + 1), &b) && a <= b;
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "magnet: so entry \"%s\" is not an index or an ascending range",
          EscapeForMessage(part)));
    }
    out->push_back(FileRange{a, b});
  }
  return absl::OkStatus();
}

}  // namespace

Sha1Hash MagnetLink::WireInfoHash() const {
  if (info_hash_v1) return *info_hash_v1;
  return Sha1Hash::FromBytes(info_hash_v2->span());
}

bool MagnetLink::SelectsFile(uint32_t index) const {
  if (select_only.empty()) return true;
  for (const FileRange& r : select_only) {
    if (index >= r.first && index <= r.last) return true;
  }
  return false;
}

absl::StatusOr<MagnetLink> ParseMagnet(std::string_view uri,
                                       const MagnetLimits& limits) {
  if (uri.size() > limits.max_uri_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("magnet: URI of %d bytes exceeds the limit of %d",
                        uri.size(), limits.max_uri_bytes));
  }
  if (uri.size() < 8 || Lower(uri.substr(0, 8)) != "magnet:?") {
    return absl::InvalidArgumentError(
        "magnet: URI does not start with "
        "\"magnet:?\"");
  }
  MagnetLink link;
  std::string_view query = uri.substr(8);
  size_t fragment = query.find('#');
  if (fragment != std::string_view::npos) query = query.substr(0, fragment);
  auto push = [&](std::vector<std::string>* list, std::string v,
                  std::string_view key) -> absl::Status {
    if (list->size() >= limits.max_list_entries) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("magnet: more than %d '%s' parameters",
                          limits.max_list_entries, key));
    }
    if (!v.empty()) list->push_back(std::move(v));
    return absl::OkStatus();
  };
  for (std::string_view param : Split(query, '&', ';')) {
    if (param.empty()) continue;
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;  // valueless: ignored
    std::string_view key = BaseKey(param.substr(0, eq));
    std::string_view raw = param.substr(eq + 1);
    ASSIGN_OR_RETURN(std::string value,
                     PercentDecode(raw, /*plus_is_space=*/key == "dn"));
    if (key == "xt") {
      RETURN_IF_ERROR(ParseXt(value, &link));
    } else if (key == "dn") {
      link.display_name = std::move(value);
    } else if (key == "tr") {
      RETURN_IF_ERROR(push(&link.trackers, std::move(value), key));
    } else if (key == "ws") {
      RETURN_IF_ERROR(push(&link.web_seeds, std::move(value), key));
    } else if (key == "x.pe") {
      RETURN_IF_ERROR(ParsePeer(value));
      RETURN_IF_ERROR(push(&link.peers, std::move(value), key));
    } else if (key == "so") {
      RETURN_IF_ERROR(
          ParseSelectOnly(value, limits.max_list_entries, &link.select_only));
    }
  }
  if (!link.info_hash_v1 && !link.info_hash_v2) {
    return absl::InvalidArgumentError(
        "magnet: no xt=urn:btih: or xt=urn:btmh: info-hash");
  }
  return link;
}

std::string BuildMagnet(const MagnetLink& link) {
  std::string out = "magnet:?";
  auto add = [&](std::string_view key, std::string_view value) {
    if (out.size() > 8) out += '&';
    out += key;
    out += '=';
    out += value;
  };
  if (link.info_hash_v1) add("xt", "urn:btih:" + link.info_hash_v1->ToHex());
  if (link.info_hash_v2) {
    add("xt", "urn:btmh:1220" + link.info_hash_v2->ToHex());
  }
  if (!link.display_name.empty()) add("dn", PercentEncode(link.display_name));
  for (const std::string& t : link.trackers) add("tr", PercentEncode(t));
  for (const std::string& w : link.web_seeds) add("ws", PercentEncode(w));
  for (const std::string& p : link.peers) add("x.pe", PercentEncode(p));
  if (!link.select_only.empty()) {
    std::string so;
    for (const FileRange& r : link.select_only) {
      if (!so.empty()) so += ',';
      so += r.first == r.last ? absl::StrFormat("%d", r.first)
                              : absl::StrFormat("%d-%d", r.first, r.last);
    }
    add("so", so);
  }
  return out;
}

MagnetLink MagnetFromTorrent(const TorrentInfo& torrent) {
  MagnetLink link;
  link.info_hash_v1 = torrent.info_hash_v1();
  link.info_hash_v2 = torrent.info_hash_v2();
  link.display_name = torrent.name();
  for (const auto& tier : torrent.trackers()) {
    for (const std::string& t : tier) link.trackers.push_back(t);
  }
  link.web_seeds = torrent.web_seeds();
  return link;
}

}  // namespace bt::metainfo
