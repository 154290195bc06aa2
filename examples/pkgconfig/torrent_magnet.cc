// torrent_magnet: prints a .torrent file's magnet link and the hex of the
// 68-byte handshake a peer would open its swarm with. It shows btkit used
// without Bazel: after `tools/install.sh PREFIX`,
//
//   export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
//   g++ -std=c++20 torrent_magnet.cc $(pkg-config --cflags --libs btkit)
//   ./a.out a.torrent
//
// Exit status 1 (with the reason on stderr) if the file cannot be read or
// is not a valid torrent.
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "base/file_util.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"
#include "protocol/handshake.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: torrent_magnet FILE.torrent\n");
    return 2;
  }
  absl::StatusOr<std::string> bytes = bt::ReadFileToString(argv[1], 64 << 20);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<bt::metainfo::TorrentInfo> torrent =
      bt::metainfo::TorrentInfo::Parse(*bytes);
  if (!torrent.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[1],
                 torrent.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", bt::metainfo::BuildMagnet(
                          bt::metainfo::MagnetFromTorrent(*torrent))
                          .c_str());
  bt::protocol::Handshake hs;
  hs.reserved.Set(bt::protocol::ReservedBit::kExtension);
  hs.info_hash = torrent->WireInfoHash();
  std::string wire;
  bt::protocol::AppendHandshake(hs, &wire);
  std::printf("%s\n", absl::BytesToHexString(wire).c_str());
  return 0;
}
