#include "metainfo/torrent_creator.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bencode/encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::MemFile;
using testing::Pattern;

// Files in name order, as the builder orders them.
std::vector<MemFile> Content() {
  return {{{"a.bin"}, Pattern(40000, 1), ""},
          {{"empty"}, "", ""},
          {{"sub", "b.bin"}, Pattern(100000, 2), ""},
          {{"sub", "c.txt"}, Pattern(3, 3), ""},
          {{"z"}, Pattern(16384, 4), ""}};
}

TorrentBuilder::ReadFn MemoryReader(const TorrentBuilder& b,
                                    const std::vector<MemFile>& files) {
  return [&b, &files](size_t index, int64_t offset,
                      MutableByteSpan out) -> absl::Status {
    const FileEntry& f = b.layout().file(index);
    for (const MemFile& m : files) {
      std::vector<std::string> full = {"t"};
      full.insert(full.end(), m.path.begin(), m.path.end());
      if (full == f.path || m.path == f.path) {
        std::copy_n(m.data.data() + offset, out.size(), out.data());
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError("no such file");
  };
}

std::string Build(const std::vector<MemFile>& files, TorrentVersion v,
                  int64_t piece_length, bool single = false, int threads = 1) {
  std::vector<InputFile> inputs;
  for (const MemFile& m : files) {
    inputs.push_back(InputFile{m.path, static_cast<int64_t>(m.data.size())});
  }
  CreateOptions options;
  options.version = v;
  options.piece_length = piece_length;
  options.threads = threads;
  options.read_size = 3 * piece_length;
  options.trackers = {{"http://tracker.example/announce"}};
  options.created_by = "";
  auto b = TorrentBuilder::Create(single ? files[0].path[0] : "t", inputs,
                                  single, options);
  EXPECT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->HashAll(MemoryReader(*b, files)).ok());
  return b->Encode();
}

// The builder's output is byte-identical to the independent test encoder
// for each version, so hashes, roots, layers and pads all agree.
TEST(TorrentBuilderTest, MatchesReferenceEncodingForEveryVersion) {
  struct V {
    TorrentVersion ours;
    testing::Version ref;
  } versions[] = {{TorrentVersion::kV1, testing::Version::kV1},
                  {TorrentVersion::kV2, testing::Version::kV2},
                  {TorrentVersion::kHybrid, testing::Version::kHybrid}};
  for (const V& v : versions) {
    for (int threads : {1, 3}) {
      std::string ours = Build(Content(), v.ours, 32768, false, threads);
      std::string ref =
          bencode::Encode(testing::MakeTorrent("t", Content(), 32768, v.ref));
      EXPECT_EQ(ours, ref) << static_cast<int>(v.ours) << " " << threads;
      auto t = TorrentInfo::Parse(ours);
      ASSERT_TRUE(t.ok()) << t.status();
      EXPECT_EQ(t->version(), v.ours);
    }
  }
}

TEST(TorrentBuilderTest, SingleFile) {
  std::vector<MemFile> one = {{{"movie.mkv"}, Pattern(70000, 5), ""}};
  for (auto [ours, ref] :
       {std::pair{TorrentVersion::kV1, testing::Version::kV1},
        std::pair{TorrentVersion::kV2, testing::Version::kV2},
        std::pair{TorrentVersion::kHybrid, testing::Version::kHybrid}}) {
    std::string built = Build(one, ours, 16384, /*single=*/true);
    EXPECT_EQ(built, bencode::Encode(testing::MakeTorrent(
                         "movie.mkv", one, 16384, ref, /*single=*/true)));
    auto t = TorrentInfo::Parse(built);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_FALSE(t->multi_file());
    EXPECT_EQ(t->files()[0].PathString(), "movie.mkv");
  }
}

TEST(TorrentBuilderTest, RefusesBadInput) {
  CreateOptions options;
  options.piece_length = 3 * 16384;
  EXPECT_EQ(
      TorrentBuilder::Create("t", {{{"a"}, 5}}, false, options).status().code(),
      absl::StatusCode::kInvalidArgument);  // hybrid needs power of 2
  options.version = TorrentVersion::kV1;
  EXPECT_TRUE(TorrentBuilder::Create("t", {{{"a"}, 5}}, false, options).ok());
  EXPECT_FALSE(TorrentBuilder::Create("t", {}, false, options).ok());
  EXPECT_FALSE(TorrentBuilder::Create("t", {{{".."}, 5}}, false, options).ok());
  EXPECT_FALSE(TorrentBuilder::Create("..", {{{"a"}, 5}}, false, options).ok());
  EXPECT_FALSE(TorrentBuilder::Create("t", {{{"a"}, 0}}, false, options).ok());
}

TEST(TorrentBuilderTest, AutoPieceLength) {
  EXPECT_EQ(AutoPieceLength(0), 16384);
  EXPECT_EQ(AutoPieceLength(int64_t{1} << 20), 16384);
  EXPECT_EQ(AutoPieceLength(int64_t{1} << 30), int64_t{1} << 20);
  EXPECT_EQ(AutoPieceLength(int64_t{1} << 45), int64_t{16} << 20);
}

class CreateTorrentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(std::getenv("TEST_TMPDIR")) / "album";
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub" / "deeper");
    fs::create_directories(dir_ / "nothing_here");
    Write("a.bin", Pattern(300000, 1));
    Write("sub/b.bin", Pattern(50000, 2));
    Write("sub/deeper/ü.txt", "non-ascii name");
    Write("sub/empty", "");
    Write("run.sh", "#!/bin/sh\n");
    fs::permissions(dir_ / "run.sh", fs::perms::owner_exec,
                    fs::perm_options::add);
  }
  void Write(const std::string& rel, const std::string& data) {
    std::ofstream(dir_ / rel, std::ios::binary) << data;
  }
  fs::path dir_;
};

TEST_F(CreateTorrentTest, DirectoryEveryVersionAndThreadCount) {
  for (TorrentVersion v :
       {TorrentVersion::kV1, TorrentVersion::kV2, TorrentVersion::kHybrid}) {
    CreateOptions options;
    options.version = v;
    options.piece_length = 32768;
    options.trackers = {{"http://a/announce", "http://b/announce"},
                        {"udp://c:80"}};
    options.web_seeds = {"http://ws/"};
    options.is_private = true;
    options.comment = "hello";
    options.creation_date = 1700000000;
    options.threads = 1;
    int64_t last = 0, total = 0;
    int calls = 0;
    options.progress = [&](int64_t done, int64_t all) {
      EXPECT_GT(done, last);
      last = done;
      total = all;
      ++calls;
    };
    auto one = CreateTorrent(dir_.string(), options);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(last, total);
    EXPECT_GT(calls, 0);
    options.threads = 4;
    options.read_size = 1;  // one piece per read
    options.use_mmap = true;
    options.progress = nullptr;
    auto four = CreateTorrent(dir_.string() + "/", options);
    ASSERT_TRUE(four.ok()) << four.status();
    EXPECT_EQ(*one, *four);

    auto t = TorrentInfo::Parse(*one);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->name(), "album");
    std::vector<std::string> paths;
    for (const FileEntry& f : t->files()) {
      if (!f.pad()) paths.push_back(f.PathString());
    }
    EXPECT_THAT(paths,
                ElementsAre("album/a.bin", "album/run.sh", "album/sub/b.bin",
                            "album/sub/deeper/ü.txt", "album/sub/empty"));
    EXPECT_TRUE(t->files()[v == TorrentVersion::kV1 ? 1 : 2].executable());
    EXPECT_THAT(t->trackers(), ElementsAre(ElementsAre("http://a/announce",
                                                       "http://b/announce"),
                                           ElementsAre("udp://c:80")));
    EXPECT_THAT(t->web_seeds(), ElementsAre("http://ws/"));
    EXPECT_TRUE(t->is_private());
    EXPECT_EQ(t->comment(), "hello");
    EXPECT_EQ(t->created_by(), "btkit 0.1.0");
    EXPECT_EQ(t->creation_date(), 1700000000);
    EXPECT_EQ(t->content_size(), 300000 + 10 + 50000 + 14);
  }
}

TEST_F(CreateTorrentTest, SingleFileAndErrors) {
  CreateOptions options;
  auto t = CreateTorrent((dir_ / "a.bin").string(), options);
  ASSERT_TRUE(t.ok()) << t.status();
  auto info = TorrentInfo::Parse(*t);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->multi_file());
  EXPECT_EQ(info->name(), "a.bin");
  EXPECT_EQ(info->version(), TorrentVersion::kHybrid);  // the default
  EXPECT_EQ(CreateTorrent((dir_ / "missing").string(), options).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      CreateTorrent((dir_ / "nothing_here").string(), options).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bt::metainfo
