// Magnet URIs (BEP 9, BEP 53, v2 "btmh" from BEP 52): parsing and building.
//
//   ASSIGN_OR_RETURN(bt::metainfo::MagnetLink m,
//                    bt::metainfo::ParseMagnet("magnet:?xt=urn:btih:..."));
//   bt::Sha1Hash swarm = m.WireInfoHash();
//   std::string uri = bt::metainfo::BuildMagnet(m);
//
// Understood parameters: `xt` (urn:btih: as 40 hex or 32 base32 characters;
// urn:btmh: as the hex multihash "1220" + 64 hex digits of a SHA-256; other
// URNs are ignored), `dn`, `tr` (repeated, order kept), `ws`, `x.pe`
// (host:port), `so` (BEP 53 select-only: "0,2,4-6"). Keys may carry a
// numeric suffix ("tr.1"). Unknown parameters are ignored. Values are
// percent-decoded; in `dn` a '+' also means a space (HTML form encoding, as
// in the field), elsewhere it is kept.
#ifndef METAINFO_MAGNET_H_
#define METAINFO_MAGNET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hash.h"

namespace bt::metainfo {

class TorrentInfo;

// MagnetLimits bounds what an untrusted magnet URI may make us hold.
struct MagnetLimits {
  size_t max_uri_bytes = 64 * 1024;
  size_t max_list_entries = 1000;  // per list: tr, ws, x.pe, so ranges
};

// FileRange is an inclusive range of file indices (BEP 53 "so").
struct FileRange {
  uint32_t first = 0;
  uint32_t last = 0;
  friend bool operator==(const FileRange&, const FileRange&) = default;
};

// MagnetLink is a parsed magnet URI. At least one info-hash is set.
struct MagnetLink {
  std::optional<Sha1Hash> info_hash_v1;    // urn:btih:
  std::optional<Sha256Hash> info_hash_v2;  // urn:btmh:
  std::string display_name;                // dn
  std::vector<std::string> trackers;       // tr
  std::vector<std::string> web_seeds;      // ws
  std::vector<std::string> peers;          // x.pe, "host:port" as given
  std::vector<FileRange> select_only;      // so

  // WireInfoHash is the v1 hash, else the v2 hash truncated to 20 bytes.
  Sha1Hash WireInfoHash() const;
  // SelectsFile is true if `so` is absent or lists `index`.
  bool SelectsFile(uint32_t index) const;
  friend bool operator==(const MagnetLink&, const MagnetLink&) = default;
};

// ParseMagnet parses a magnet URI. Errors: kInvalidArgument (not a magnet
// URI, bad percent escape, bad hash encoding, conflicting hashes, no
// BitTorrent hash, malformed x.pe or so), kResourceExhausted (limits).
absl::StatusOr<MagnetLink> ParseMagnet(std::string_view uri,
                                       const MagnetLimits& limits = {});

// BuildMagnet renders `link` (hashes first, then dn, tr, ws, x.pe, so),
// percent-encoding every byte outside RFC 3986's unreserved set.
std::string BuildMagnet(const MagnetLink& link);

// MagnetFromTorrent makes the magnet link of a torrent: its hashes, name,
// trackers of every tier and web seeds.
MagnetLink MagnetFromTorrent(const TorrentInfo& torrent);

}  // namespace bt::metainfo

#endif  // METAINFO_MAGNET_H_
