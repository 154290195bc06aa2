// Helpers for storage tests: torrents built from in-memory content (v1,
// v1 with BEP 47 pad files, v2, hybrid), temporary directories, and whole
// files written to disk (tests/testing/files.h reads them back).
#ifndef TESTS_STORAGE_STORAGE_TEST_UTIL_H_
#define TESTS_STORAGE_STORAGE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::storage::testing {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;

enum class Kind { kV1, kV1Padded, kV2, kHybrid };

// Torrent is a parsed torrent with its content.
struct Torrent {
  metainfo::TorrentInfo info;
  std::string bytes;        // the .torrent file
  std::string piece_space;  // the content as laid out in pieces (pads zero)
};

// MakeTestTorrent builds a multi-file torrent named `name`. kV1Padded is a
// v1 torrent listing BEP 47 pad files that align every file to a piece.
Torrent MakeTestTorrent(const std::string& name,
                        const std::vector<MemFile>& files,
                        int64_t piece_length, Kind kind);

// TempDir is a fresh directory under TEST_TMPDIR, removed with its
// contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// WriteFileOrDie creates directories as needed and writes `data`.
void WriteFileOrDie(const std::string& path, const std::string& data);
bool FileExists(const std::string& path);

}  // namespace bt::storage::testing

#endif  // TESTS_STORAGE_STORAGE_TEST_UTIL_H_
