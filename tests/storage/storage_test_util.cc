#include "tests/storage/storage_test_util.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bencode/encoder.h"
#include "gtest/gtest.h"

namespace bt::storage::testing {

namespace fs = std::filesystem;
using metainfo::testing::MakeTorrent;
using metainfo::testing::PieceSpace;
using metainfo::testing::Version;

Torrent MakeTestTorrent(const std::string& name,
                        const std::vector<MemFile>& files,
                        int64_t piece_length, Kind kind) {
  Version v = kind == Kind::kV1   ? Version::kV1
              : kind == Kind::kV2 ? Version::kV2
                                  : Version::kHybrid;
  bencode::Value t = MakeTorrent(name, files, piece_length, v);
  if (kind == Kind::kV1Padded) {
    // A hybrid torrent stripped of its v2 keys is a v1 torrent with pads.
    bencode::Value::Dict& info = t.dict()["info"].dict();
    info.erase("meta version");
    info.erase("file tree");
    t.dict().erase("piece layers");
  }
  Torrent out;
  out.bytes = bencode::Encode(t);
  auto parsed = metainfo::TorrentInfo::Parse(out.bytes);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (parsed.ok()) out.info = *std::move(parsed);
  out.piece_space = PieceSpace(files, piece_length, v);
  return out;
}

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ = std::string(base ? base : "/tmp") + "/storage.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions a test may have taken away before removing.
  for (auto it = fs::recursive_directory_iterator(path_, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) chmod(it->path().c_str(), 0755);
  }
  fs::remove_all(path_, ec);
}

void WriteFileOrDie(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), data.size());
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace bt::storage::testing
