#include "metainfo/peer_id.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "base/random.h"

namespace bt::metainfo {

namespace {

struct Code {
  const char* code;
  const char* name;
};

// Two-letter codes of Azureus-style ids (BEP 20 and common practice).
constexpr Code kAzureusCodes[] = {
    {"7T", "aTorrent"},
    {"A2", "aria2"},
    {"AG", "Ares"},
    {"AR", "Arctic"},
    {"AT", "Artemis"},
    {"AV", "Avicora"},
    {"AX", "BitPump"},
    {"AZ", "Azureus"},
    {"BB", "BitBuddy"},
    {"BC", "BitComet"},
    {"BE", "BitTorrent SDK"},
    {"BF", "Bitflu"},
    {"BG", "BTG"},
    {"BI", "BiglyBT"},
    {"BK", "btkit"},
    {"BL", "BitBlinder"},
    {"BN", "Baidu Netdisk"},
    {"BP", "BitTorrent Pro"},
    {"BR", "BitRocket"},
    {"BS", "BTSlave"},
    {"BT", "BitTorrent"},
    {"BW", "BitWombat"},
    {"BX", "BittorrentX"},
    {"CD", "Enhanced CTorrent"},
    {"CT", "CTorrent"},
    {"DE", "Deluge"},
    {"DP", "Propagate Data Client"},
    {"EB", "EBit"},
    {"ES", "Electric Sheep"},
    {"FC", "FileCroc"},
    {"FD", "Free Download Manager"},
    {"FT", "FoxTorrent"},
    {"FW", "FrostWire"},
    {"FX", "Freebox BitTorrent"},
    {"GS", "GSTorrent"},
    {"HK", "Hekate"},
    {"HL", "Halite"},
    {"HM", "hMule"},
    {"HN", "Hydranode"},
    {"IL", "iLivid"},
    {"JS", "Justseed.it"},
    {"JT", "JavaTorrent"},
    {"KG", "KGet"},
    {"KT", "KTorrent"},
    {"LC", "LeechCraft"},
    {"LH", "LH-ABC"},
    {"LP", "Lphant"},
    {"LT", "libtorrent (Rasterbar)"},
    {"LW", "LimeWire"},
    {"Lr", "LibreTorrent"},
    {"MG", "MediaGet"},
    {"MO", "MonoTorrent"},
    {"MP", "MooPolice"},
    {"MR", "Miro"},
    {"MT", "MoonlightTorrent"},
    {"NX", "Net Transport"},
    {"OS", "OneSwarm"},
    {"OT", "OmegaTorrent"},
    {"PB", "Protocol::BitTorrent"},
    {"PD", "Pando"},
    {"PI", "PicoTorrent"},
    {"QD", "QQDownload"},
    {"QT", "Qt 4 Torrent example"},
    {"RT", "Retriever"},
    {"RZ", "RezTorrent"},
    {"S~", "Shareaza alpha/beta"},
    {"SB", "Swiftbit"},
    {"SD", "Thunder (XunLei)"},
    {"SM", "SoMud"},
    {"SP", "BitSpirit"},
    {"SS", "SwarmScope"},
    {"ST", "SymTorrent"},
    {"SZ", "Shareaza"},
    {"TB", "Torch"},
    {"TE", "terasaur Seed Bank"},
    {"TL", "Tribler"},
    {"TN", "TorrentDotNET"},
    {"TR", "Transmission"},
    {"TS", "Torrentstorm"},
    {"TT", "TuoTu"},
    {"UE", "uTorrent Embedded"},
    {"UL", "uLeecher!"},
    {"UM", "uTorrent Mac"},
    {"UT", "uTorrent"},
    {"UW", "uTorrent Web"},
    {"VG", "Vagaa"},
    {"WD", "WebTorrent Desktop"},
    {"WT", "BitLet"},
    {"WW", "WebTorrent"},
    {"WY", "FireTorrent"},
    {"XF", "Xfplay"},
    {"XL", "Xunlei"},
    {"XS", "XSwifter"},
    {"XT", "XanTorrent"},
    {"XX", "Xtorrent"},
    {"ZT", "ZipTorrent"},
    {"lt", "libTorrent (rTorrent)"},
    {"pX", "pHoeniX"},
    {"qB", "qBittorrent"},
    {"st", "sharktorrent"},
};

// First letters of Shadow-style ids.
constexpr Code kShadowCodes[] = {
    {"A", "ABC"},
    {"O", "Osprey Permaseed"},
    {"Q", "BTQueue"},
    {"R", "Tribler"},
    {"S", "Shadow"},
    {"T", "BitTornado"},
    {"U", "UPnP NAT Bit Torrent"},
};

constexpr std::string_view kShadowAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

// Digit value of an Azureus version character: 0-9, then A-Z as 10-35
// (libtorrent's convention); -1 for anything else.
int VersionDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

std::optional<ClientId> Azureus(const PeerId& id) {
  const char* p = reinterpret_cast<const char*>(id.data());
  if (p[0] != '-' || p[7] != '-') return std::nullopt;
  if (!absl::ascii_isalnum(p[1]) && p[1] != '~') return std::nullopt;
  if (!absl::ascii_isalnum(p[2]) && p[2] != '~') return std::nullopt;
  for (int i = 3; i < 7; ++i) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(p[i]))) {
      return std::nullopt;
    }
  }
  std::string code(p + 1, 2);
  ClientId c;
  c.name = absl::StrFormat("unknown (%s)", code);
  for (const Code& k : kAzureusCodes) {
    if (code == k.code) c.name = k.name;
  }
  int d[4];
  for (int i = 0; i < 4; ++i) d[i] = VersionDigit(p[3 + i]);
  if (code == "TR") {
    // Transmission: "-TR2940-" is 2.94, "-TR400B-" is 4.00 beta; from 3.00
    // on the digits are major, minor, patch ("-TR4050-" is 4.0.5).
    if (d[0] >= 3 && d[1] >= 0 && d[2] >= 0) {
      c.version = absl::StrFormat("%d.%d.%d", d[0], d[1], d[2]);
    } else if (d[0] >= 0 && d[1] >= 0 && d[2] >= 0) {
      c.version = absl::StrFormat("%d.%d%d", d[0], d[1], d[2]);
    }
    if (p[6] == 'Z' || p[6] == 'X') c.version += " (dev)";
    if (p[6] == 'B') c.version += " (beta)";
    return c;
  }
  if (d[0] < 0 || d[1] < 0 || d[2] < 0) {
    c.version = std::string(p + 3, 4);
    return c;
  }
  c.version = absl::StrFormat("%d.%d.%d", d[0], d[1], d[2]);
  // A fourth digit is a build number; a letter there is a build type
  // (uTorrent's "-UT355W-").
  if (d[3] > 0 && d[3] < 10) c.version += absl::StrFormat(".%d", d[3]);
  return c;
}

std::optional<ClientId> Shadow(const PeerId& id) {
  const char* p = reinterpret_cast<const char*>(id.data());
  const char* name = nullptr;
  for (const Code& k : kShadowCodes) {
    if (p[0] == k.code[0]) name = k.name;
  }
  if (!name) return std::nullopt;
  // Up to five version characters, then "---" (or "--" after five).
  std::string version;
  int i = 1;
  for (; i < 6 && p[i] != '-'; ++i) {
    size_t v = kShadowAlphabet.find(p[i]);
    if (v == std::string_view::npos || v >= 62) return std::nullopt;
    if (!version.empty()) version += '.';
    version += absl::StrFormat("%d", v);
  }
  if (version.empty() || i == 1) return std::nullopt;
  if (std::memcmp(p + i, "--", 2) != 0) return std::nullopt;
  return ClientId{name, version};
}

// Parses "N-N-N-" version groups starting at `i`; false on anything else.
bool DashedVersion(const char* p, int i, int end, std::string* version) {
  int groups = 0;
  while (i < end && groups < 3) {
    int start = i;
    while (i < end && absl::ascii_isdigit(static_cast<unsigned char>(p[i]))) {
      ++i;
    }
    if (i == start || i >= end || p[i] != '-') return false;
    if (!version->empty()) *version += '.';
    *version += std::string(p + start, i - start);
    ++groups;
    ++i;
  }
  return groups == 3;
}

std::optional<ClientId> Mainline(const PeerId& id) {
  const char* p = reinterpret_cast<const char*>(id.data());
  std::string version;
  // aria2: "A2-1-36-0-".
  if (std::memcmp(p, "A2-", 3) == 0 && DashedVersion(p, 3, 20, &version)) {
    return ClientId{"aria2", version};
  }
  // Mainline: "M4-4-0--", "M4-10-5-".
  if ((p[0] == 'M' || p[0] == 'Q') && DashedVersion(p, 1, 8, &version)) {
    return ClientId{p[0] == 'M' ? "BitTorrent (Mainline)" : "Queen Bee",
                    version};
  }
  return std::nullopt;
}

}  // namespace

PeerId GeneratePeerId(std::string_view prefix) {
  PeerId id;
  size_t n = std::min(prefix.size(), PeerId::size());
  std::memcpy(id.data(), prefix.data(), n);
  RandomBytes(id.mutable_span().subspan(n));
  return id;
}

std::optional<ClientId> IdentifyClient(const PeerId& id) {
  if (auto c = Azureus(id)) return c;
  if (auto c = Mainline(id)) return c;
  if (auto c = Shadow(id)) return c;
  return std::nullopt;
}

std::string DescribeClient(const PeerId& id) {
  if (auto c = IdentifyClient(id)) {
    return c->version.empty() ? c->name : c->name + " " + c->version;
  }
  std::string printable;
  for (size_t i = 0; i < PeerId::size() && i < 8; ++i) {
    unsigned char ch = id[i];
    if (ch < 0x20 || ch >= 0x7f) break;
    printable.push_back(static_cast<char>(ch));
  }
  return printable.empty() ? "unknown" : "unknown (" + printable + ")";
}

}  // namespace bt::metainfo
