// torrent_inspect: describes a .torrent file or a magnet URI, built on
// btkit's metainfo layer alone.
//
//   torrent_inspect album.torrent
//   torrent_inspect 'magnet:?xt=urn:btih:...&dn=album&tr=udp://t.example:6969'
//
// For a torrent: name, version (v1, v2, hybrid), info-hashes, pieces,
// files (pad files marked "p"), trackers by tier, web seeds. For a magnet:
// its info-hashes, name, trackers, web seeds, peers and selected files.
// One "key: value" per line. Exit status 1 if the input does not parse
// (the parser's message says what and where).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/file_util.h"
#include "base/hash.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"

namespace {

namespace meta = bt::metainfo;

constexpr size_t kMaxTorrentSize = size_t{64} << 20;

void Line(std::string_view key, std::string_view value) {
  std::printf("%.*s: %.*s\n", static_cast<int>(key.size()), key.data(),
              static_cast<int>(value.size()), value.data());
}

void PrintTorrent(const meta::TorrentInfo& t) {
  Line("name", t.name());
  Line("version", meta::TorrentVersionName(t.version()));
  if (t.info_hash_v1()) Line("info-hash v1", t.info_hash_v1()->ToHex());
  if (t.info_hash_v2()) Line("info-hash v2", t.info_hash_v2()->ToHex());
  Line("piece length", std::to_string(t.piece_length()));
  Line("pieces", std::to_string(t.num_pieces()));
  Line("size", std::to_string(t.content_size()));
  if (t.is_private()) Line("private", "yes");
  for (const meta::FileEntry& f : t.files()) {
    std::string attrs = f.AttributeString();
    Line("file", std::to_string(f.size) + " " + f.PathString() +
                     (attrs.empty() ? "" : " [" + attrs + "]"));
  }
  for (size_t tier = 0; tier < t.trackers().size(); ++tier) {
    for (const std::string& url : t.trackers()[tier]) {
      Line("tracker", "tier " + std::to_string(tier) + " " + url);
    }
  }
  for (const std::string& url : t.web_seeds()) Line("web seed", url);
  if (!t.comment().empty()) Line("comment", t.comment());
  if (!t.created_by().empty()) Line("created by", t.created_by());
}

void PrintMagnet(const meta::MagnetLink& m) {
  if (m.info_hash_v1) Line("info-hash v1", m.info_hash_v1->ToHex());
  if (m.info_hash_v2) Line("info-hash v2", m.info_hash_v2->ToHex());
  if (!m.display_name.empty()) Line("name", m.display_name);
  for (const std::string& url : m.trackers) Line("tracker", url);
  for (const std::string& url : m.web_seeds) Line("web seed", url);
  for (const std::string& peer : m.peers) Line("peer", peer);
  for (const meta::FileRange& r : m.select_only) {
    Line("select files", r.first == r.last ? std::to_string(r.first)
                                           : std::to_string(r.first) + "-" +
                                                 std::to_string(r.last));
  }
}

int Fail(std::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "torrent_inspect: %.*s: %s\n",
               static_cast<int>(what.size()), what.data(),
               s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: torrent_inspect FILE.torrent|MAGNET_URI\n");
    return 2;
  }
  std::string_view arg = argv[1];
  if (arg.starts_with("magnet:")) {
    absl::StatusOr<meta::MagnetLink> m = meta::ParseMagnet(arg);
    if (!m.ok()) return Fail("magnet", m.status());
    PrintMagnet(*m);
    return 0;
  }
  absl::StatusOr<std::string> bytes =
      bt::ReadFileToString(argv[1], kMaxTorrentSize);
  if (!bytes.ok()) return Fail(arg, bytes.status());
  absl::StatusOr<meta::TorrentInfo> t = meta::TorrentInfo::Parse(*bytes);
  if (!t.ok()) return Fail(arg, t.status());
  PrintTorrent(*t);
  return 0;
}
