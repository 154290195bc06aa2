// Kill-and-restart: `bt download` is killed with SIGKILL at random moments
// ten times while a btkit seeder (in this process, with an upload rate
// limit so the download outlasts the kills) serves it. After each kill the
// test hash-checks the download directory itself; in the next run the
// seeder must never be asked for a block of a piece that was already
// complete on disk. The last run ends with a verified copy.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "storage/hash_checker.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::bt::testing::ReadFileOrDie;

constexpr char kBt[] = "client/cli/bt";
constexpr int kKills = 10;

TEST(RestartTest, SigkillNeverCostsCompletePieces) {
  const std::string root = testing::TempDir("restart");
  {
    fs::create_directories(root + "/seed/payload");
    std::mt19937_64 rng(7);
    std::string data(48 << 20, '\0');
    for (size_t i = 0; i < data.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&data[i], &v, 8);
    }
    std::ofstream(root + "/seed/payload/data.bin", std::ios::binary) << data;
    std::ofstream(root + "/seed/payload/small.txt") << "small file\n";
  }
  metainfo::CreateOptions create;
  create.version = metainfo::TorrentVersion::kV1;
  create.piece_length = 128 * 1024;
  auto bytes = metainfo::CreateTorrent(root + "/seed/payload", create);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string torrent_path = root + "/payload.torrent";
  std::ofstream(torrent_path, std::ios::binary) << *bytes;
  auto info = metainfo::TorrentInfo::Parse(*bytes);
  ASSERT_TRUE(info.ok());

  ClientOptions options = testing::LoopbackClientOptions();
  // The download must span all the kills on any machine: at 4 MB/s the
  // 48 MiB take 12 s, the runs before the last kill at most 9 s.
  options.upload_rate_limit = 4'000'000;
  auto seeder = Client::Create(options);
  ASSERT_TRUE(seeder.ok()) << seeder.status();
  TorrentParams params;
  params.torrent_path = torrent_path;
  params.save_path = root + "/seed";
  auto seed = (*seeder)->AddTorrent(params);
  ASSERT_TRUE(seed.ok()) << seed.status();

  // Pieces complete on disk at the last kill; asking for them is a loss.
  storage::Bitfield complete_at_kill(info->num_pieces());
  int requests_for_complete_pieces = 0;
  (*seed)->OnEvent(EventType::kPacketIncomingRequest, [&](const Event& e) {
    if (complete_at_kill.Get(e.index)) ++requests_for_complete_pieces;
    return true;
  });

  const std::string dl = root + "/dl";
  const std::string peer = absl::StrFormat("127.0.0.1:%d", (*seeder)->port());
  const std::vector<std::string> argv = {
      kBt,      "download",  torrent_path, "-o", dl,
      "--bind", "127.0.0.1", "--peer",     peer, "--dht-bootstrap=",
      "--no-lsd"};
  std::mt19937 rng(12345);
  // Pumps the seeder for `d`.
  auto pump = [&](absl::Duration d) {
    absl::Time until = absl::Now() + d;
    while (absl::Now() < until) ASSERT_TRUE((*seeder)->DoOneLoop(0.01).ok());
  };

  int kills = 0;
  uint32_t last_complete = 0;
  std::vector<uint32_t> progress;
  for (int run = 0; run < kKills; ++run) {
    auto child = testing::Subprocess::Start(argv);
    ASSERT_TRUE(child.ok()) << child.status();
    pump(absl::Milliseconds(std::uniform_int_distribution<int>(300, 900)(rng)));
    if ((*child)->Wait(absl::Now()).ok()) break;  // finished early
    (*child)->Kill(SIGKILL);
    ASSERT_TRUE((*child)->Wait(absl::Now() + absl::Seconds(10)).ok());
    ++kills;
    auto check = storage::CheckDirectory(*info, dl, storage::CheckOptions());
    ASSERT_TRUE(check.ok()) << check.status();
    complete_at_kill = check->have;
    progress.push_back(static_cast<uint32_t>(complete_at_kill.Count()));
    EXPECT_GE(complete_at_kill.Count(), last_complete)
        << "pieces complete on disk were lost by the kill";
    last_complete = static_cast<uint32_t>(complete_at_kill.Count());
  }
  // The last run completes.
  auto child = testing::Subprocess::Start(argv);
  ASSERT_TRUE(child.ok());
  int code = -1;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (absl::Now() < deadline) {
    ASSERT_TRUE((*seeder)->DoOneLoop(0.01).ok());
    auto done = (*child)->Wait(absl::Now());
    if (done.ok()) {
      code = *done;
      break;
    }
  }
  EXPECT_EQ(code, 0);
  EXPECT_EQ(kills, kKills) << "the download ended before the last kill";
  EXPECT_EQ(requests_for_complete_pieces, 0);
  EXPECT_TRUE(ReadFileOrDie(root + "/seed/payload/data.bin") ==
              ReadFileOrDie(dl + "/payload/data.bin"));
  EXPECT_EQ(ReadFileOrDie(dl + "/payload/small.txt"), "small file\n");
  std::string trace;
  for (uint32_t p : progress) trace += absl::StrFormat(" %d", p);
  std::printf("complete pieces after each kill:%s (of %d); seeder sent %lld "
              "bytes for %lld\n",
              trace.c_str(), info->num_pieces(),
              static_cast<long long>((*seed)->uploaded()),
              static_cast<long long>(info->total_size()));
  fs::remove_all(root);
}

}  // namespace
}  // namespace bt::client
