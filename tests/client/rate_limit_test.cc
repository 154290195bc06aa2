// Rate limits on real transfers over loopback: a 2 MB/s download limit
// holds (at most 10% over) for 20 s; an upload limit is shared fairly by two
// leechers and can be changed while running.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeTorrent(false); }

  void MakeTorrent(bool is_private) {
    root_ = testing::TempDir("rate_limit");
    fs::create_directories(root_ + "/seed/payload");
    std::mt19937_64 rng(3);
    std::string data(64 << 20, '\0');
    for (size_t i = 0; i < data.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&data[i], &v, 8);
    }
    std::ofstream(root_ + "/seed/payload/data.bin", std::ios::binary) << data;
    metainfo::CreateOptions options;
    options.version = metainfo::TorrentVersion::kV1;
    options.piece_length = 256 * 1024;
    options.is_private = is_private;
    auto bytes = metainfo::CreateTorrent(root_ + "/seed/payload", options);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    info_ = *metainfo::TorrentInfo::Parse(*bytes);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Client> NewClient(int64_t up = 0, int64_t down = 0) {
    ClientOptions options = testing::LoopbackClientOptions();
    options.upload_rate_limit = up;
    options.download_rate_limit = down;
    return *Client::Create(options);
  }
  Torrent* Add(Client* c, const std::string& dir, std::vector<Endpoint> peers) {
    TorrentParams p;
    p.info = std::make_shared<const metainfo::TorrentInfo>(info_);
    p.save_path = root_ + "/" + dir;
    p.peers = std::move(peers);
    return *c->AddTorrent(p);
  }
  static Endpoint Local(const Client& c) {
    return *Endpoint::ParseAddress("127.0.0.1", c.port());
  }
  static void Run(const std::vector<Client*>& clients, absl::Duration d) {
    absl::Time until = absl::Now() + d;
    while (absl::Now() < until) {
      for (Client* c : clients) ASSERT_TRUE(c->DoOneLoop(0.002).ok());
    }
  }

  // ExpectHeldTo checks a rate measured over wall-clock time against
  // `limit`: never more than 10% above it; below it only by what a loaded
  // machine's stalls can cost (the loop is not run then, and the limiter
  // does not let a stall be made up for).
  static void ExpectHeldTo(double rate, double limit) {
    EXPECT_LE(rate, 1.1 * limit);
    EXPECT_GE(rate, 0.7 * limit);
  }

  std::string root_;
  metainfo::TorrentInfo info_;
};

TEST_F(RateLimitTest, DownloadLimitHoldsOverTwentySeconds) {
  auto seeder = NewClient();
  auto leecher = NewClient(0, 2'000'000);
  Add(seeder.get(), "seed", {});
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  Run({seeder.get(), leecher.get()}, absl::Seconds(2));  // settle
  const int64_t start = dl->downloaded();
  const absl::Time t0 = absl::Now();
  Run({seeder.get(), leecher.get()}, absl::Seconds(20));
  const double rate =
      double(dl->downloaded() - start) / absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("measured %.0f B/s against a 2000000 B/s limit\n", rate);
  ExpectHeldTo(rate, 2'000'000);
}

TEST_F(RateLimitTest, UploadLimitIsSharedFairlyAndChangeable) {
  // Private: the leechers cannot find each other (no PEX, no DHT), so all
  // they get comes from the limited seeder.
  MakeTorrent(true);
  auto seeder = NewClient();
  auto a = NewClient();
  auto b = NewClient();
  Torrent* seed = Add(seeder.get(), "seed", {});
  seed->SetRateLimits(2'000'000, 0);
  Torrent* ta = Add(a.get(), "a", {Local(*seeder)});
  Torrent* tb = Add(b.get(), "b", {Local(*seeder)});
  std::vector<Client*> all = {seeder.get(), a.get(), b.get()};
  Run(all, absl::Seconds(2));
  int64_t a0 = ta->downloaded(), b0 = tb->downloaded();
  absl::Time t0 = absl::Now();
  Run(all, absl::Seconds(5));
  double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  double ra = (ta->downloaded() - a0) / secs, rb = (tb->downloaded() - b0) / secs;
  std::printf("two leechers: %.0f and %.0f B/s under a 2000000 B/s limit\n",
              ra, rb);
  ExpectHeldTo(ra + rb, 2'000'000);
  EXPECT_NEAR(ra, rb, 0.25 * (ra + rb));

  // Raised while running.
  seed->SetRateLimits(4'000'000, 0);
  Run(all, absl::Seconds(1));
  a0 = ta->downloaded(), b0 = tb->downloaded();
  t0 = absl::Now();
  Run(all, absl::Seconds(4));
  secs = absl::ToDoubleSeconds(absl::Now() - t0);
  double total = (ta->downloaded() - a0 + tb->downloaded() - b0) / secs;
  std::printf("after raising to 4000000 B/s: %.0f B/s\n", total);
  ExpectHeldTo(total, 4'000'000);
}

}  // namespace
}  // namespace bt::client
