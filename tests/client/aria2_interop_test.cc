// btkit's client against aria2 1.36 on loopback with a 67 MiB multi-file
// torrent: btkit downloads from an aria2 seeder, and aria2 downloads from a
// btkit seeder, with encryption forced (aria2 requires arc4) and disabled
// (btkit speaks plain only). aria2 has no flag to add a peer by hand, so
// btkit dials it in both directions; every copy is compared byte for byte.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using protocol::EncryptionPolicy;

constexpr char kAria2[] = "/usr/bin/aria2c";

using interop::PolicyName;

class Aria2InteropTest
    : public ::testing::TestWithParam<interop::TransferCase> {
 protected:
  static void SetUpTestSuite() {
    if (access(kAria2, X_OK) != 0) return;
    root_ = testing::TempDir("client_aria2_interop");
    interop::WritePayload(root_ + "/seed");
    torrent_path_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_path_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    if (access(kAria2, X_OK) != 0) GTEST_SKIP() << "no " << kAria2;
  }

  // Aria2Argv is aria2c on `port` for the torrent, saving to (or seeding
  // from) `dir`: on loopback with DHT, LPD and PEX off.
  std::vector<std::string> Aria2Argv(uint16_t port, const std::string& dir,
                                     bool seed) {
    std::vector<std::string> argv = {
        kAria2, "--no-conf=true", "--enable-dht=false", "--enable-dht6=false",
        "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        "--disable-ipv6=true", absl::StrFormat("--listen-port=%d", port),
        "--dir=" + dir, "--summary-interval=0", "--console-log-level=warn",
        "--file-allocation=none", "--bt-stop-timeout=50",
        "--log=" + log_path_, "--log-level=info"};
    if (seed) {
      // Seed the files as they are (the test wrote them), forever.
      argv.push_back("--bt-seed-unverified=true");
      argv.push_back("--seed-ratio=0.0");
    } else {
      argv.push_back("--seed-time=0");  // exit once the download verified
    }
    if (GetParam().policy == EncryptionPolicy::kForced) {
      argv.push_back("--bt-require-crypto=true");
      argv.push_back("--bt-min-crypto-level=arc4");
    }
    argv.push_back(torrent_path_);
    return argv;
  }

  std::string log_path_;
  static std::string root_;
  static std::string torrent_path_;
};

std::string Aria2InteropTest::root_;
std::string Aria2InteropTest::torrent_path_;

TEST_P(Aria2InteropTest, Transfers) {
  const interop::TransferCase& c = GetParam();
  const std::string dir = root_ + absl::StrFormat("/run_%d_%s", c.btkit_seeds,
                                                  PolicyName(c.policy));
  fs::create_directories(dir);
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(55);

  ClientOptions options = testing::LoopbackClientOptions();
  options.encryption = c.policy;
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  Torrent* t = nullptr;
  interop::WireEncryption wire;
  wire.Watch(**client, t);
  interop::ConnectionDiary diary;
  diary.Watch(**client);

  // aria2's message log outlives the test in Bazel's undeclared outputs.
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  log_path_ = absl::StrFormat("%s/aria2_%d_%s.log", outputs ? std::string(outputs) : dir,
                              c.btkit_seeds, PolicyName(c.policy));
  absl::StatusOr<::bt::testing::ListeningProcess> listening =
      ::bt::testing::StartListening([&](uint16_t port) {
        return Aria2Argv(port,
                         c.btkit_seeds ? dir + "/aria2" : root_ + "/seed",
                         /*seed=*/!c.btkit_seeds);
      });
  ASSERT_TRUE(listening.ok()) << listening.status();
  const uint16_t aria2_port = listening->port;
  testing::Subprocess* aria2 = listening->process.get();

  TorrentParams params;
  params.torrent_path = torrent_path_;
  params.save_path = c.btkit_seeds ? root_ + "/seed" : dir + "/btkit";
  params.peers = {*Endpoint::ParseAddress("127.0.0.1", aria2_port)};
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  t = *added;

  if (c.btkit_seeds) {
    ASSERT_TRUE(t->complete());
    ASSERT_EQ(interop::RunUntilExit(**client, *aria2, deadline), 0)
        << "aria2 did not finish its download; btkit uploaded " << t->uploaded()
        << " bytes to " << t->peers().size()
        << " peers; aria2's log: " << log_path_ << "\n"
        << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/aria2"));
    EXPECT_GE(t->uploaded(), int64_t{64} << 20);
  } else {
    ASSERT_TRUE(interop::DownloadAll(**client, *t, deadline)) << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
  }
  EXPECT_TRUE(wire.Matches(c.policy));
  std::printf("aria2 %s %s: %.1f s\n",
              c.btkit_seeds ? "downloads from btkit" : "seeds to btkit",
              PolicyName(c.policy).c_str(),
              absl::ToDoubleSeconds(absl::Now() - start));
}

INSTANTIATE_TEST_SUITE_P(
    Directions, Aria2InteropTest, ::testing::ValuesIn(interop::TransferCases()),
    [](const ::testing::TestParamInfo<interop::TransferCase>& info) {
      return interop::TransferCaseName(info.param, "Aria2");
    });

}  // namespace
}  // namespace bt::client
