// Runs `bt check` on data and torrents made by metainfo's creator.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::Pattern;
using testing::TempDir;
using testing::WriteFileOrDie;

struct BtRun {
  int status;
  std::string out;
};

BtRun RunBt(const std::string& args) {
  std::string cmd = "client/cli/bt " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  BtRun r{-1, ""};
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class CheckCommandTest
    : public ::testing::TestWithParam<metainfo::TorrentVersion> {};

TEST_P(CheckCommandTest, ExitStatusFollowsTheResult) {
  TempDir dir;
  std::string root = dir.path() + "/data/album";
  WriteFileOrDie(root + "/one.bin", Pattern(300000, 1));
  WriteFileOrDie(root + "/sub/two.bin", Pattern(70001, 2));
  WriteFileOrDie(root + "/three.bin", Pattern(5, 3));
  metainfo::CreateOptions o;
  o.version = GetParam();
  o.piece_length = 32768;
  o.threads = 2;
  auto torrent = metainfo::CreateTorrent(root, o);
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  std::string tpath = dir.path() + "/album.torrent";
  WriteFileOrDie(tpath, *torrent);

  BtRun ok = RunBt("check " + tpath + " " + dir.path() + "/data --quiet");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find(" 0 fail"), std::string::npos) << ok.out;

  std::string two = Pattern(70001, 2);
  two[40000] ^= 1;
  WriteFileOrDie(root + "/sub/two.bin", two);
  BtRun bad = RunBt("check " + tpath + " " + dir.path() + "/data --threads 3");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find(" 1 fail"), std::string::npos) << bad.out;

  BtRun missing = RunBt("check " + tpath + " " + dir.path() + "/nowhere");
  EXPECT_EQ(missing.status, 1) << missing.out;

  EXPECT_EQ(RunBt("check " + dir.path() + "/none.torrent " + dir.path()).status,
            2);
  EXPECT_EQ(RunBt("check " + tpath).status, 2);
}

INSTANTIATE_TEST_SUITE_P(Versions, CheckCommandTest,
                         ::testing::Values(metainfo::TorrentVersion::kV1,
                                           metainfo::TorrentVersion::kV2,
                                           metainfo::TorrentVersion::kHybrid));

}  // namespace
}  // namespace bt::storage
