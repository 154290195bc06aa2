// Runs the `bt` binary: `bt info` prints torrents and magnets and exits 1
// with the parser's message for malformed torrents; `bt create` output
// reads back with `bt info`.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client {
namespace {

using bencode::Value;
using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;

struct BtResult {
  int status;
  std::string output;  // stdout and stderr
};

BtResult Bt(const std::string& args) {
  std::string cmd = "client/cli/bt " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  BtResult r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.output.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Tmp(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

std::string WriteTorrent(const std::string& name, const Value& v) {
  std::string path = Tmp(name);
  std::ofstream(path, std::ios::binary) << bencode::Encode(v);
  return path;
}

Value Sample() {
  return MakeTorrent("album",
                     {{{"a.bin"}, Pattern(40000, 1), ""},
                      {{"dir", "b.bin"}, Pattern(70000, 2), ""}},
                     32768, Version::kHybrid);
}

TEST(InfoCommandTest, PrintsATorrent) {
  std::string path = WriteTorrent("ok.torrent", Sample());
  BtResult r = Bt("info " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("version:       hybrid"), std::string::npos);
  EXPECT_NE(r.output.find("album/dir/b.bin"), std::string::npos);
  EXPECT_NE(r.output.find("pieces:        5"), std::string::npos);
  BtResult j = Bt("info " + path + " --json");
  EXPECT_EQ(j.status, 0) << j.output;
  EXPECT_NE(j.output.find("\"num_pieces\": 5"), std::string::npos) << j.output;
}

TEST(InfoCommandTest, MalformedTorrentsExitNonZeroWithTheMessage) {
  struct Case {
    const char* name;
    void (*edit)(Value::Dict& info);
    const char* message;
  } cases[] = {
      {"piece_length", [](Value::Dict& info) { info["piece length"] = 0; },
       "piece length 0 is out of range"},
      {"wrong_type", [](Value::Dict& info) { info["name"] = 1; }, "name"},
  };
  for (const Case& c : cases) {
    Value v = Sample();
    c.edit(v.dict()["info"].dict());
    std::string path = WriteTorrent(std::string(c.name) + ".torrent", v);
    BtResult r = Bt("info " + path);
    EXPECT_EQ(r.status, 1) << c.name << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos)
        << c.name << ": " << r.output;
  }
  std::ofstream(Tmp("truncated.torrent")) << "d4:infod4:name";
  BtResult r = Bt("info " + Tmp("truncated.torrent"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bt info:"), std::string::npos);
}

TEST(InfoCommandTest, UnsafeNamesAreRepairedWithWarningsOrRefusedWhenStrict) {
  Value v = MakeTorrent("album",
                        {{{"a.bin"}, Pattern(40000, 1), ""},
                         {{"dir", "b.bin"}, Pattern(70000, 2), ""}},
                        32768, Version::kV1);
  v.dict()["info"].dict()["files"].list()[0].dict()["path"] =
      Value::List{"..", "x"};
  std::string path = WriteTorrent("traversal.torrent", v);
  BtResult r = Bt("info " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("album/x\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("warning:       file \"album/../x\": component "
                          "\"..\": '..' dropped"),
            std::string::npos)
      << r.output;
  BtResult j = Bt("info " + path + " --json");
  EXPECT_EQ(j.status, 0) << j.output;
  EXPECT_NE(j.output.find("\"warnings\": [{\"where\": \"file "
                          "\\\"album/../x\\\"\""),
            std::string::npos)
      << j.output;
  BtResult strict = Bt("info " + path + " --strict");
  EXPECT_EQ(strict.status, 1) << strict.output;
  EXPECT_NE(strict.output.find("'..' would leave the download directory"),
            std::string::npos)
      << strict.output;
  // A clean torrent has no warnings.
  BtResult clean = Bt("info " + WriteTorrent("clean.torrent", Sample()) +
                      " --json");
  EXPECT_NE(clean.output.find("\"warnings\": []"), std::string::npos)
      << clean.output;
}

TEST(InfoCommandTest, Magnets) {
  BtResult r =
      Bt("info 'magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&"
         "dn=x&tr=http%3A%2F%2Ft' --json");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"trackers\": [\"http://t\"]"), std::string::npos)
      << r.output;
  BtResult bad = Bt("info 'magnet:?xt=urn:btih:1234'");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("urn:btih"), std::string::npos) << bad.output;
}

TEST(CreateCommandTest, CreatesWhatInfoReads) {
  std::string dir = Tmp("data");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/sub").c_str()), 0);
  std::ofstream(dir + "/sub/f.bin", std::ios::binary) << Pattern(100000, 3);
  std::ofstream(dir + "/g.txt") << "hello";
  std::string out = Tmp("made.torrent");
  BtResult c =
      Bt("create " + dir + " -o " + out +
         " --v2 --piece-size 32768 --tracker http://a/ann,http://b/ann"
         " --tracker udp://c:1 --web-seed http://ws/ --private --threads 2");
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_NE(c.output.find("100.0%"), std::string::npos) << c.output;
  BtResult i = Bt("info " + out);
  EXPECT_EQ(i.status, 0) << i.output;
  EXPECT_NE(i.output.find("version:       v2"), std::string::npos) << i.output;
  EXPECT_NE(i.output.find("private:       yes"), std::string::npos);
  EXPECT_NE(i.output.find("tier 0: http://b/ann"), std::string::npos);
  EXPECT_NE(i.output.find("tier 1: udp://c:1"), std::string::npos);
  EXPECT_NE(i.output.find("data/sub/f.bin"), std::string::npos);
  EXPECT_EQ(Bt("create " + dir).status, 2);  // no -o
  EXPECT_EQ(Bt("create " + dir + "/missing -o " + out).status, 1);
  EXPECT_EQ(
      Bt("create " + dir + " -o " + out + " --v2 --piece-size 1000").status, 1);
}

}  // namespace
}  // namespace bt::client
