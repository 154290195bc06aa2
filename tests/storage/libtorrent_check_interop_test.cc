// Hash-checks data against v1, v2 and hybrid torrents made by libtorrent
// (python3-libtorrent through /usr/bin/python3): an independent maker of
// piece hashes, merkle roots and piece layers.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "storage/hash_checker.h"
#include "tests/storage/storage_test_util.h"
#include "tests/testing/files.h"

namespace bt::storage {
namespace {

using testing::Pattern;
using ::bt::testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;

constexpr char kMaker[] = R"(
import libtorrent as lt, os, sys
path, out, mode, plen = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
fs = lt.file_storage()
lt.add_files(fs, path)
flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only,
         'hybrid': 0}[mode]
ct = lt.create_torrent(fs, plen, flags=flags)
lt.set_piece_hashes(ct, os.path.dirname(path))
open(out, 'wb').write(lt.bencode(ct.generate()))
)";

bool HaveLibtorrent() {
  return access("/usr/bin/python3", X_OK) == 0 &&
         std::system("/usr/bin/python3 -c 'import libtorrent' 2>/dev/null") == 0;
}

class LibtorrentCheckTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LibtorrentCheckTest, ChecksLibtorrentTorrents) {
  if (!HaveLibtorrent()) GTEST_SKIP() << "python3-libtorrent is not installed";
  TempDir dir;
  std::string root = dir.path() + "/data/album";
  std::string two = Pattern(70001, 2);
  WriteFileOrDie(root + "/one.bin", Pattern(300000, 1));
  WriteFileOrDie(root + "/sub/two.bin", two);
  WriteFileOrDie(root + "/three.bin", Pattern(5, 3));
  WriteFileOrDie(dir.path() + "/maker.py", kMaker);
  std::string tpath = dir.path() + "/t.torrent";
  std::string cmd = "/usr/bin/python3 " + dir.path() + "/maker.py " + root +
                    " " + tpath + " " + GetParam() + " 32768";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto t = metainfo::TorrentInfo::Parse(ReadFileOrDie(tpath));
  ASSERT_TRUE(t.ok()) << t.status();

  CheckOptions o;
  o.threads = 2;
  auto r = CheckDirectory(*t, dir.path() + "/data", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->have.All()) << r->failed << " failed";

  two[50000] ^= 0x10;
  WriteFileOrDie(root + "/sub/two.bin", two);
  r = CheckDirectory(*t, dir.path() + "/data", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(r->passed, t->num_pieces() - 1);
}

INSTANTIATE_TEST_SUITE_P(Versions, LibtorrentCheckTest,
                         ::testing::Values("v1", "v2", "hybrid"));

}  // namespace
}  // namespace bt::storage
