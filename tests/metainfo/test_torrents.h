// Builders of .torrent files from in-memory content, for tests. They compute
// real v1 piece hashes and v2 merkle roots and piece layers, and return
// bencode::Value trees a test can mutate before encoding.
//
//   auto t = bt::metainfo::testing::MakeTorrent(
//       "album", {{{"a.txt"}, "hello"}}, 16384, Version::kHybrid);
//   t.dict()["info"].dict()["piece length"] = 0;  // break it
//   std::string bytes = bt::bencode::Encode(t);
#ifndef TESTS_METAINFO_TEST_TORRENTS_H_
#define TESTS_METAINFO_TEST_TORRENTS_H_

#include <string>
#include <vector>

#include "bencode/encoder.h"

namespace bt::metainfo::testing {

struct MemFile {
  std::vector<std::string> path;  // relative to the torrent's directory
  std::string data;
  std::string attr;  // BEP 47 letters other than 'p'
};

enum class Version { kV1, kV2, kHybrid };

// MakeTorrent builds a torrent of `files`. With one file whose path is
// {name} and `single` true, a single-file torrent. Hybrid torrents get pad
// files (".pad/N") after each file but the last.
bencode::Value MakeTorrent(const std::string& name,
                           const std::vector<MemFile>& files,
                           int64_t piece_length, Version version,
                           bool single = false);

// PieceSpace returns the concatenated content with pad zeros, as the piece
// space of `version` lays it out.
std::string PieceSpace(const std::vector<MemFile>& files, int64_t piece_length,
                       Version version);

// Pattern returns `n` deterministic pseudo-random bytes.
std::string Pattern(size_t n, uint32_t seed);

}  // namespace bt::metainfo::testing

#endif  // TESTS_METAINFO_TEST_TORRENTS_H_
