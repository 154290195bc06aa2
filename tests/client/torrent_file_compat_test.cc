// .torrent files that btkit accepts because libtorrent does download
// correctly and safely. Missing v2 piece layers (all or some): a v2-only
// torrent fetches them from its peers with BEP 52 hash requests before any
// data, as a v2 magnet link does; a hybrid torrent checks its pieces with
// its v1 hashes. Unsafe file names: the data lands under the sanitised
// names, inside the save path. Two btkit clients on loopback.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/metainfo/test_torrents.h"
#include "tests/testing/files.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using bencode::Value;
using metainfo::testing::MakeTorrent;
using metainfo::testing::MemFile;
using metainfo::testing::Pattern;
using metainfo::testing::Version;
using ::bt::testing::ReadFileOrDie;

class TorrentFileCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                                : "/tmp") /
            absl::StrFormat("layers_%d", ::getpid());
    fs::remove_all(root_);
    // big spans 129 pieces of 16 KiB, small 5, tiny one.
    files_ = {{{"big.bin"}, Pattern(2 * 1024 * 1024 + 12345, 1), ""},
              {{"dir", "small.bin"}, Pattern(70000, 2), ""},
              {{"dir", "tiny.bin"}, Pattern(10, 3), ""}};
  }
  void TearDown() override { fs::remove_all(root_); }

  // Make builds the torrent; `keep_layer(file index)` says which of the
  // multi-piece files keep their layer in the leecher's copy.
  // The seed's data is written where the parsed torrent puts it.
  void Make(Version version, const std::function<bool(size_t)>& keep_layer) {
    Value v = MakeTorrent("payload", files_, 16384, version);
    auto full = metainfo::TorrentInfo::Parse(bencode::Encode(v));
    ASSERT_TRUE(full.ok()) << full.status();
    full_ = *full;
    size_t next = 0;
    for (const metainfo::FileEntry& f : full_.files()) {
      if (f.pad()) continue;
      const std::string& data = files_[next++].data;
      fs::path p = root_ / "seed" / f.PathString();
      fs::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary).write(data.data(), data.size());
    }
    Value::Dict no_layers;
    Value::Dict& layers = version == Version::kV1
                              ? no_layers
                              : v.dict()["piece layers"].dict();
    for (size_t i = 0; i < full_.files().size(); ++i) {
      const metainfo::FileEntry& f = full_.files()[i];
      if (f.pad() || full_.piece_layer(i).empty() || keep_layer(i)) continue;
      layers.erase(std::string(AsChars(f.pieces_root->span())));
    }
    leecher_torrent_ = (root_ / "leecher.torrent").string();
    std::ofstream(leecher_torrent_, std::ios::binary)
        << bencode::Encode(v);
  }

  std::unique_ptr<Client> NewClient() {
    ClientOptions options = testing::LoopbackClientOptions();
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Transfer seeds the full torrent and downloads the leecher's copy;
  // returns the leecher's torrent once complete (nullptr on failure).
  // `layer_ranges` gets the most piece-layer ranges seen in flight.
  Torrent* Transfer(Client& seeder, Client& leecher, uint32_t* layer_ranges) {
    TorrentParams s;
    s.info = std::make_shared<const metainfo::TorrentInfo>(full_);
    s.save_path = (root_ / "seed").string();
    auto seed = seeder.AddTorrent(s);
    EXPECT_TRUE(seed.ok()) << seed.status();
    TorrentParams p;
    p.torrent_path = leecher_torrent_;
    p.save_path = (root_ / "dl").string();
    p.peers = {*Endpoint::ParseAddress("127.0.0.1", seeder.port())};
    auto added = leecher.AddTorrent(p);
    EXPECT_TRUE(added.ok()) << added.status();
    if (!seed.ok() || !added.ok()) return nullptr;
    Torrent* dl = *added;
    EXPECT_EQ(dl->name(), "payload");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline && !dl->complete()) {
      EXPECT_TRUE(seeder.DoOneLoop(0.005).ok());
      EXPECT_TRUE(leecher.DoOneLoop(0.005).ok());
      *layer_ranges =
          std::max(*layer_ranges, dl->piece_layer_progress().second);
    }
    EXPECT_TRUE(dl->complete())
        << "state " << TorrentStateName(dl->state()) << " "
        << dl->error().message() << ", layers "
        << dl->piece_layer_progress().first << "/"
        << dl->piece_layer_progress().second;
    return dl->complete() ? dl : nullptr;
  }

  void ExpectSameData() {
    for (const metainfo::FileEntry& f : full_.files()) {
      if (f.pad()) continue;
      EXPECT_EQ(ReadFileOrDie(root_ / "dl" / f.PathString()),
                ReadFileOrDie(root_ / "seed" / f.PathString()))
          << f.PathString();
    }
  }

  fs::path root_;
  std::vector<MemFile> files_;
  metainfo::TorrentInfo full_;
  std::string leecher_torrent_;
};

TEST_F(TorrentFileCompatTest, V2TorrentWithoutLayersFetchesThemThenData) {
  ASSERT_NO_FATAL_FAILURE(Make(Version::kV2, [](size_t) { return false; }));
  auto seeder = NewClient();
  auto leecher = NewClient();
  uint32_t layer_ranges = 0;
  Torrent* dl = Transfer(*seeder, *leecher, &layer_ranges);
  ASSERT_NE(dl, nullptr);
  EXPECT_EQ(layer_ranges, 2u);  // big.bin and small.bin
  EXPECT_TRUE(dl->info().has_piece_layers());
  for (uint32_t piece = 0; piece < full_.num_pieces(); ++piece) {
    EXPECT_EQ(dl->info().V2PieceHash(piece), full_.V2PieceHash(piece));
  }
  ExpectSameData();
}

TEST_F(TorrentFileCompatTest, V2TorrentFetchesOnlyTheMissingLayer) {
  // big.bin's layer is in the file; small.bin's is not.
  ASSERT_NO_FATAL_FAILURE(Make(Version::kV2, [&](size_t i) {
    return full_.files()[i].path.back() == "big.bin";
  }));
  auto seeder = NewClient();
  auto leecher = NewClient();
  uint32_t layer_ranges = 0;
  Torrent* dl = Transfer(*seeder, *leecher, &layer_ranges);
  ASSERT_NE(dl, nullptr);
  EXPECT_EQ(layer_ranges, 1u);
  EXPECT_TRUE(dl->info().has_piece_layers());
  for (uint32_t piece = 0; piece < full_.num_pieces(); ++piece) {
    EXPECT_EQ(dl->info().V2PieceHash(piece), full_.V2PieceHash(piece));
  }
  ExpectSameData();
}

TEST_F(TorrentFileCompatTest, HybridTorrentWithoutLayersChecksWithV1Hashes) {
  ASSERT_NO_FATAL_FAILURE(
      Make(Version::kHybrid, [](size_t) { return false; }));
  auto seeder = NewClient();
  auto leecher = NewClient();
  uint32_t layer_ranges = 0;
  Torrent* dl = Transfer(*seeder, *leecher, &layer_ranges);
  ASSERT_NE(dl, nullptr);
  EXPECT_EQ(layer_ranges, 0u);  // nothing fetched: v1 hashes suffice
  EXPECT_FALSE(dl->info().has_piece_layers());
  ExpectSameData();
}

TEST_F(TorrentFileCompatTest, UnsafeNamesLandInsideTheSavePath) {
  files_ = {{{"..", "..", "escaped.bin"}, Pattern(70000, 4), ""},
            {{"/etc", "passwd"}, Pattern(5000, 5), ""},
            {{"dir", "small.bin"}, Pattern(3000, 6), ""},
            {{"dir", "small.bin"}, Pattern(3000, 7), ""}};
  ASSERT_NO_FATAL_FAILURE(Make(Version::kV1, [](size_t) { return true; }));
  std::vector<std::string> paths;
  for (const metainfo::FileEntry& f : full_.files()) {
    paths.push_back(f.PathString());
  }
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "payload/escaped.bin", "payload/etc/passwd",
                       "payload/dir/small.bin", "payload/dir/small.1.bin"}));
  auto seeder = NewClient();
  auto leecher = NewClient();
  uint32_t layer_ranges = 0;
  Torrent* dl = Transfer(*seeder, *leecher, &layer_ranges);
  ASSERT_NE(dl, nullptr);
  ExpectSameData();
  // Nothing was written beside or above the save path.
  EXPECT_FALSE(fs::exists(root_ / "escaped.bin"));
  EXPECT_FALSE(fs::exists(root_ / "dl" / "escaped.bin"));
  size_t written = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "dl")) {
    if (e.is_regular_file()) ++written;
  }
  EXPECT_EQ(written, 4u);
}

}  // namespace
}  // namespace bt::client
