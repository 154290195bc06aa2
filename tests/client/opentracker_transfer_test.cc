// Two btkit clients transfer a 67 MiB multi-file torrent on loopback with
// no explicit peers: each learns the other only from opentracker, once
// through an HTTP announce URL and once through a UDP one (BEP 15). The
// copy is compared byte for byte with the source.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/opentracker.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

class OpentrackerTransferTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    if (access(::bt::testing::Opentracker::kPath, X_OK) != 0) return;
    root_ = testing::TempDir("client_opentracker_transfer");
    interop::WritePayload(root_ + "/seed");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    if (access(::bt::testing::Opentracker::kPath, X_OK) != 0) {
      GTEST_SKIP() << "no " << ::bt::testing::Opentracker::kPath;
    }
  }

  static std::unique_ptr<Client> NewClient() {
    ClientOptions options = testing::LoopbackClientOptions();
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static std::string root_;
};

std::string OpentrackerTransferTest::root_;

TEST_P(OpentrackerTransferTest, PeersOnlyFromTracker) {
  const bool udp = GetParam();
  const std::string dir = root_ + (udp ? "/udp" : "/http");
  fs::create_directories(dir);
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(55);

  auto ih = interop::WriteTorrent(root_ + "/seed", dir + "/probe.torrent", {});
  ASSERT_TRUE(ih.ok()) << ih.status();
  auto tracker = ::bt::testing::Opentracker::Start({*ih}, deadline);
  ASSERT_TRUE(tracker.ok()) << tracker.status();
  const std::string url = udp ? (*tracker)->udp_url() : (*tracker)->http_url();
  const std::string torrent = dir + "/payload.torrent";
  ASSERT_TRUE(interop::WriteTorrent(root_ + "/seed", torrent, {url}).ok());

  std::unique_ptr<Client> seeder = NewClient(), leecher = NewClient();
  ASSERT_TRUE(seeder && leecher);
  int successes = 0;
  for (Client* c : {seeder.get(), leecher.get()}) {
    c->OnEvent(EventType::kTrackerSuccess, [&](const Event& e) {
      EXPECT_EQ(e.tracker, url);
      ++successes;
      return true;
    });
    c->OnEvent(EventType::kTrackerFailure, [&](const Event& e) {
      ADD_FAILURE() << e.tracker << ": " << e.reason;
      return true;
    });
  }
  TorrentParams params;
  params.torrent_path = torrent;
  params.save_path = root_ + "/seed";
  auto seed = seeder->AddTorrent(params);
  ASSERT_TRUE(seed.ok()) << seed.status();
  ASSERT_TRUE((*seed)->complete());
  // The leecher announces once the tracker knows the seed.
  while (successes == 0 && absl::Now() < deadline) {
    ASSERT_TRUE(seeder->DoOneLoop(0.01).ok());
  }
  ASSERT_EQ(successes, 1) << "the seeder's announce did not succeed";

  params.save_path = dir + "/copy";
  auto t = leecher->AddTorrent(params);
  ASSERT_TRUE(t.ok()) << t.status();
  while (!(*t)->complete() && absl::Now() < deadline) {
    ASSERT_TRUE(seeder->DoOneLoop(0.005).ok());
    ASSERT_TRUE(leecher->DoOneLoop(0.005).ok());
  }
  ASSERT_TRUE((*t)->complete()) << (*t)->pieces_have() << " of "
                                << (*t)->info().num_pieces() << " pieces";
  EXPECT_GE(successes, 2);
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/copy"));
  std::printf("btkit -> btkit through opentracker (%s): %.1f s\n",
              udp ? "udp" : "http",
              absl::ToDoubleSeconds(absl::Now() - start));
}

INSTANTIATE_TEST_SUITE_P(Announce, OpentrackerTransferTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Udp" : "Http");
                         });

}  // namespace
}  // namespace bt::client
