// libtorrent's torrent creation, for comparison with `bt create`:
//   libtorrent_create PATH PIECE_LENGTH THREADS OUT.torrent [v1|v2|hybrid]
// Hashes with libtorrent's disk subsystem using THREADS disk and hashing
// threads, then writes the torrent.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "libtorrent/bencode.hpp"
#include "libtorrent/create_torrent.hpp"
#include "libtorrent/settings_pack.hpp"

namespace lt = libtorrent;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: libtorrent_create PATH PIECE_LENGTH THREADS OUT "
                 "[v1|v2|hybrid]\n");
    return 2;
  }
  std::string path = argv[1];
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  int piece = std::atoi(argv[2]);
  int threads = std::atoi(argv[3]);
  std::string mode = argc > 5 ? argv[5] : "v1";
  lt::create_flags_t flags = {};
  if (mode == "v1") flags = lt::create_torrent::v1_only;
  if (mode == "v2") flags = lt::create_torrent::v2_only;
  lt::file_storage fs;
  lt::add_files(fs, path);
  lt::create_torrent t(fs, piece, flags);
  lt::settings_pack settings;
  settings.set_int(lt::settings_pack::aio_threads, threads);
  settings.set_int(lt::settings_pack::hashing_threads, threads);
  lt::error_code ec;
  std::string parent = path.substr(0, path.find_last_of('/'));
  if (path.find('/') == std::string::npos) parent = ".";
  lt::set_piece_hashes(
      t, parent, settings, [](lt::piece_index_t) {}, ec);
  if (ec) {
    std::fprintf(stderr, "libtorrent_create: %s\n", ec.message().c_str());
    return 1;
  }
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), t.generate());
  std::ofstream(argv[4], std::ios::binary).write(buf.data(), buf.size());
  return 0;
}
