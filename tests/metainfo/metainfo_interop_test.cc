// Interop with the torrent tools in the field. Torrents made by libtorrent
// (v1, v2, hybrid), mktorrent and transmission-create read in btkit with
// the info-hashes, file list and piece count libtorrent reports; torrents
// btkit creates (v1, v2, hybrid) load in libtorrent with the same
// info-hashes and pass libtorrent's hash check of the source data. Data
// sets: a single file, many files (some empty), nested directories with
// empty files and non-ASCII names. The external side runs in
// interop_helper.py under /usr/bin/python3 (python3-libtorrent).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/testing/files.h"

namespace bt::metainfo {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kHelper[] = "tests/metainfo/interop_helper.py";

struct Record {
  std::string path, tool, v1, v2, status;
  uint32_t num_pieces = 0;
  int64_t piece_length = 0;
  std::vector<std::pair<std::string, int64_t>> files;
};

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string part;
  while (std::getline(ss, part, '\t')) out.push_back(part);
  return out;
}

// Runs the helper; returns its exit status and fills `records`/`skipped`.
int RunHelper(const std::string& args, std::vector<Record>* records,
              std::vector<std::string>* skipped, std::string* raw) {
  std::string cmd = std::string(kPython) + " " + kHelper + " " + args;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    raw->append(buf.data(), n);
  int st = pclose(p);
  std::stringstream lines(*raw);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f = SplitTabs(line);
    if (f.size() >= 7 && f[0] == "T") {
      Record r;
      r.path = f[1];
      r.tool = f[2];
      r.v1 = f[3];
      r.v2 = f[4];
      r.num_pieces = static_cast<uint32_t>(std::stoul(f[5]));
      r.piece_length = std::stoll(f[6]);
      if (f.size() > 7) r.status = f[7];
      records->push_back(std::move(r));
    } else if (f.size() == 3 && f[0] == "F" && !records->empty()) {
      records->back().files.emplace_back(f[1], std::stoll(f[2]));
    } else if (f.size() >= 2 && f[0] == "S") {
      skipped->push_back(f[1]);
    }
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Compares btkit's reading of a torrent with libtorrent's.
void ExpectSameAsLibtorrent(const Record& r, const TorrentInfo& t) {
  SCOPED_TRACE(r.path);
  EXPECT_EQ(t.info_hash_v1() ? t.info_hash_v1()->ToHex() : "-", r.v1);
  EXPECT_EQ(t.info_hash_v2() ? t.info_hash_v2()->ToHex() : "-", r.v2);
  EXPECT_EQ(t.num_pieces(), r.num_pieces);
  EXPECT_EQ(t.piece_length(), r.piece_length);
  std::vector<std::pair<std::string, int64_t>> ours;
  for (const FileEntry& f : t.files()) {
    if (!f.pad()) ours.emplace_back(f.PathString(), f.size);
  }
  EXPECT_EQ(ours, r.files);
}

class MetainfoInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kPython) ||
        std::system(
            (std::string(kPython) + " -c 'import libtorrent' >/dev/null 2>&1")
                .c_str()) != 0) {
      GTEST_SKIP() << "needs /usr/bin/python3 with python3-libtorrent";
    }
    work_ = fs::path(std::getenv("TEST_TMPDIR")) / "interop";
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  fs::path work_;
};

TEST_F(MetainfoInteropTest, BtkitReadsWhatOtherToolsCreate) {
  std::vector<Record> records;
  std::vector<std::string> skipped;
  std::string raw;
  ASSERT_EQ(RunHelper("setup " + work_.string(), &records, &skipped, &raw), 0)
      << raw;
  for (const std::string& tool : skipped) {
    std::printf("note: %s not installed, its torrents not tested\n",
                tool.c_str());
  }
  std::map<std::string, int> per_tool;
  for (const Record& r : records) {
    absl::StatusOr<TorrentInfo> t = TorrentInfo::Parse(ReadFileOrDie(r.path));
    ASSERT_TRUE(t.ok()) << r.path << ": " << t.status();
    ExpectSameAsLibtorrent(r, *t);
    ++per_tool[r.tool];
  }
  // 3 data sets for each tool and libtorrent version.
  EXPECT_EQ(per_tool["libtorrent-v1"], 3);
  EXPECT_EQ(per_tool["libtorrent-v2"], 3);
  EXPECT_EQ(per_tool["libtorrent-hybrid"], 3);
  if (skipped.empty()) {
    EXPECT_EQ(per_tool["mktorrent"], 3);
    EXPECT_EQ(per_tool["transmission-create"], 3);
  }
  for (const auto& [tool, n] : per_tool) {
    std::printf("read %d torrents made by %s\n", n, tool.c_str());
  }
}

TEST_F(MetainfoInteropTest, LibtorrentLoadsAndVerifiesWhatBtkitCreates) {
  // The helper's setup makes the data sets (their torrents are not used).
  std::vector<Record> unused;
  std::vector<std::string> skipped;
  std::string raw;
  ASSERT_EQ(RunHelper("setup " + work_.string(), &unused, &skipped, &raw), 0)
      << raw;
  const std::vector<std::pair<std::string, std::string>> sets = {
      {"single", "single file.bin"}, {"many", "many"}, {"nested", "nested"}};
  fs::create_directories(work_ / "ours");
  std::string list;
  std::map<std::string, TorrentInfo> ours;
  for (const auto& [set, content] : sets) {
    for (auto [version, label] :
         {std::pair{TorrentVersion::kV1, "v1"},
          std::pair{TorrentVersion::kV2, "v2"},
          std::pair{TorrentVersion::kHybrid, "hybrid"}}) {
      CreateOptions options;
      options.version = version;
      options.piece_length = 32768;
      options.threads = 2;
      options.trackers = {{"http://127.0.0.1:1/announce"}};
      fs::path save = work_ / "data" / set;
      absl::StatusOr<std::string> bytes =
          CreateTorrent((save / content).string(), options);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      std::string out = (work_ / "ours" / (set + "." + label + ".torrent"));
      std::ofstream(out, std::ios::binary) << *bytes;
      auto t = TorrentInfo::Parse(*bytes);
      ASSERT_TRUE(t.ok()) << t.status();
      ours.emplace(out, *std::move(t));
      list += out + "\t" + save.string() + "\n";
    }
  }
  std::ofstream(work_ / "ours.list") << list;
  std::vector<Record> records;
  raw.clear();
  ASSERT_EQ(RunHelper("check " + (work_ / "ours.list").string(), &records,
                      &skipped, &raw),
            0)
      << raw;
  ASSERT_EQ(records.size(), ours.size()) << raw;
  for (const Record& r : records) {
    EXPECT_EQ(r.status, "ok") << r.path;
    ExpectSameAsLibtorrent(r, ours.at(r.path));
  }
  std::printf("libtorrent verified %zu torrents made by btkit\n",
              records.size());
}

}  // namespace
}  // namespace bt::metainfo
