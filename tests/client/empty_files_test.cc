// Empty files end to end: a multi-file torrent with zero-length files (one
// at the top, one in a subdirectory, one alone in its directory) downloads
// between two btkit clients on loopback to a copy identical to the source,
// empty files included, whoever made the torrent (btkit v1, v2 and hybrid;
// libtorrent v1, v2 and hybrid). Files set to priority 0 (skip), empty or
// not, are never created.
//
// The libtorrent cases need /usr/bin/python3 with libtorrent and run in
// the "interop" target (gtest filter Libtorrent/*).
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kCreateScript[] = "tests/client/libtorrent_create.py";
constexpr int64_t kPieceLength = 16384;

// The payload, relative to the seed's save path.
struct PayloadFile {
  std::string path;
  int64_t size;
  bool skipped = false;  // the leecher sets it to priority 0
};
const std::vector<PayloadFile>& Payload() {
  static const auto* files = new std::vector<PayloadFile>{
      {"payload/a.bin", 40000},
      {"payload/empty_top", 0},
      {"payload/sub/b.bin", 20000},
      {"payload/sub/empty_sub", 0},
      {"payload/hollow/empty_alone", 0},  // nothing else in its directory
      {"payload/skipped/empty_skipped", 0, true},
      {"payload/skipped/skipped.bin", 30000, true},
      {"payload/z.bin", 5000},
  };
  return *files;
}

enum class Maker { kBtkit, kLibtorrent };

struct Case {
  Maker maker;
  metainfo::TorrentVersion version;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.maker == Maker::kBtkit ? "btkit " : "libtorrent ")
      << metainfo::TorrentVersionName(c.version);
}

// Tree lists the regular files under `dir`: relative path -> size.
std::map<std::string, int64_t> Tree(const fs::path& dir) {
  std::map<std::string, int64_t> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      out[fs::relative(it->path(), dir).string()] =
          static_cast<int64_t>(it->file_size(ec));
    }
  }
  return out;
}

class EmptyFilesTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    root_ = testing::TempDir("empty_files");
    std::mt19937 rng(5);
    for (const PayloadFile& f : Payload()) {
      std::string data(static_cast<size_t>(f.size), '\0');
      for (char& c : data) c = static_cast<char>(rng());
      fs::create_directories(fs::path(root_ + "/seed/" + f.path).parent_path());
      ASSERT_TRUE(WriteFileAtomically(root_ + "/seed/" + f.path, data).ok());
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  // MakeTorrent makes the case's torrent of seed/payload.
  absl::StatusOr<metainfo::TorrentInfo> MakeTorrent() {
    const std::string content = root_ + "/seed/payload";
    const Case& c = GetParam();
    if (c.maker == Maker::kBtkit) {
      metainfo::CreateOptions options;
      options.version = c.version;
      options.piece_length = kPieceLength;
      ASSIGN_OR_RETURN(std::string bytes,
                       metainfo::CreateTorrent(content, options));
      return metainfo::TorrentInfo::Parse(bytes);
    }
    const std::string out = root_ + "/payload.torrent";
    ASSIGN_OR_RETURN(
        std::unique_ptr<testing::Subprocess> python,
        testing::Subprocess::Start({kPython, kCreateScript, content, out,
                                    metainfo::TorrentVersionName(c.version),
                                    std::to_string(kPieceLength)}));
    ASSIGN_OR_RETURN(int code, python->Wait(absl::Now() + absl::Seconds(60)));
    if (code != 0) {
      return absl::InternalError(
          absl::StrFormat("%s exited with status %d", kCreateScript, code));
    }
    return metainfo::TorrentInfo::Parse(ReadFileOrDie(out));
  }

  std::unique_ptr<Client> NewClient() {
    ClientOptions options = testing::LoopbackClientOptions();
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // RunUntil runs both clients until `done` or `limit` passes.
  static bool RunUntil(Client& a, Client& b, const std::function<bool()>& done,
                       absl::Duration limit = absl::Seconds(30)) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      EXPECT_TRUE(a.DoOneLoop(0.005).ok());
      EXPECT_TRUE(b.DoOneLoop(0.005).ok());
      if (done()) return true;
    }
    return false;
  }

  std::string root_;
};

TEST_P(EmptyFilesTest, DownloadCreatesEveryWantedFileAndNoSkippedOne) {
  absl::StatusOr<metainfo::TorrentInfo> info = MakeTorrent();
  ASSERT_TRUE(info.ok()) << info.status();
  // Every payload file is in the torrent, empty ones included.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < info->files().size(); ++i) {
    index[info->files()[i].PathString()] = i;
  }
  for (const PayloadFile& f : Payload()) {
    ASSERT_TRUE(index.count(f.path)) << f.path << " is not in the torrent";
  }

  auto seeder = NewClient();
  auto leecher = NewClient();
  ASSERT_TRUE(seeder && leecher);
  TorrentParams seed_params;
  seed_params.info = std::make_shared<const metainfo::TorrentInfo>(*info);
  seed_params.save_path = root_ + "/seed";
  auto seed = seeder->AddTorrent(seed_params);
  ASSERT_TRUE(seed.ok()) << seed.status();
  ASSERT_TRUE((*seed)->complete());

  TorrentParams params;
  params.info = std::make_shared<const metainfo::TorrentInfo>(*info);
  params.save_path = root_ + "/dl";
  params.peers = {*Endpoint::ParseAddress("127.0.0.1", seeder->port())};
  params.start = false;
  auto added = leecher->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* dl = *added;
  ASSERT_TRUE(dl->LoadState().ok());
  for (const PayloadFile& f : Payload()) {
    if (f.skipped) ASSERT_TRUE(dl->SetFilePriority(index[f.path], 0).ok());
  }
  ASSERT_TRUE(dl->Start().ok());
  ASSERT_TRUE(RunUntil(*seeder, *leecher, [&] { return dl->complete(); }))
      << dl->pieces_have() << " of " << info->num_pieces() << " pieces";

  // The copy is the source without the skipped files (`diff -r`). Files
  // may be created just after the last piece: wait for the wanted ones.
  std::map<std::string, int64_t> want;
  std::set<std::string> skipped;
  for (const PayloadFile& f : Payload()) {
    const std::string rel = f.path.substr(std::string("payload/").size());
    if (f.skipped) {
      skipped.insert(rel);
    } else {
      want[rel] = f.size;
    }
  }
  const fs::path got_dir = root_ + "/dl/payload";
  RunUntil(
      *seeder, *leecher,
      [&] {
        std::map<std::string, int64_t> got = Tree(got_dir);
        for (const auto& [path, size] : want) {
          if (!got.count(path)) return false;
        }
        return true;
      },
      absl::Seconds(10));
  std::map<std::string, int64_t> got = Tree(got_dir);
  for (const auto& [path, size] : want) {
    EXPECT_TRUE(got.count(path)) << path << " is missing from the download";
  }
  for (const std::string& path : skipped) {
    EXPECT_FALSE(got.count(path)) << path << " was skipped but created";
  }
  for (const auto& [path, size] : got) {
    EXPECT_TRUE(want.count(path) || skipped.count(path))
        << path << " is not in the payload";
  }
  for (const auto& [path, size] : want) {
    if (!got.count(path)) continue;
    EXPECT_EQ(got[path], size) << path;
    EXPECT_TRUE(ReadFileOrDie((got_dir / path).string()) ==
                ReadFileOrDie(root_ + "/seed/payload/" + path))
        << path << " differs";
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return metainfo::TorrentVersionName(info.param.version);
}

INSTANTIATE_TEST_SUITE_P(
    Btkit, EmptyFilesTest,
    ::testing::Values(Case{Maker::kBtkit, metainfo::TorrentVersion::kV1},
                      Case{Maker::kBtkit, metainfo::TorrentVersion::kV2},
                      Case{Maker::kBtkit, metainfo::TorrentVersion::kHybrid}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    Libtorrent, EmptyFilesTest,
    ::testing::Values(Case{Maker::kLibtorrent, metainfo::TorrentVersion::kV1},
                      Case{Maker::kLibtorrent, metainfo::TorrentVersion::kV2},
                      Case{Maker::kLibtorrent,
                           metainfo::TorrentVersion::kHybrid}),
    CaseName);

}  // namespace
}  // namespace bt::client
