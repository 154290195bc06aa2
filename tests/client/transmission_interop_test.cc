// btkit's client against Transmission 3.00 (transmission-cli) on loopback
// with a 67 MiB multi-file torrent, through opentracker: btkit downloads
// from a Transmission seeder and Transmission downloads from a btkit
// seeder, with encryption required and with plain preferred (btkit's
// policy disabled). Transmission ignores loopback peers a tracker gives it
// (they are "martian" to it) but accepts incoming ones, so in both
// directions btkit learns Transmission's address from the tracker and
// dials it. Every case runs over uTP (BEP 29: btkit tries uTP first and
// Transmission accepts it), and those with encryption required run over
// TCP too (uTP off in Transmission: btkit falls back); the transport is
// checked per connection. Every copy is compared byte for byte with the
// source.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/opentracker.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using protocol::EncryptionPolicy;

constexpr char kTransmission[] = "/usr/bin/transmission-cli";

using interop::PolicyName;

// A case: the transfer, and whether Transmission has uTP on.
struct TransmissionCase {
  interop::TransferCase transfer;
  bool utp = true;
};

std::vector<TransmissionCase> TransmissionCases() {
  std::vector<TransmissionCase> cases;
  for (const interop::TransferCase& c : interop::TransferCases()) {
    cases.push_back({c, true});
    if (c.policy == EncryptionPolicy::kForced) cases.push_back({c, false});
  }
  return cases;
}

class TransmissionInteropTest
    : public ::testing::TestWithParam<TransmissionCase> {
 protected:
  static void SetUpTestSuite() {
    if (access(kTransmission, X_OK) != 0 ||
        access(::bt::testing::Opentracker::kPath, X_OK) != 0) {
      return;
    }
    root_ = testing::TempDir("client_transmission_interop");
    interop::WritePayload(root_ + "/seed");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    if (access(kTransmission, X_OK) != 0) GTEST_SKIP() << "no " << kTransmission;
    if (access(::bt::testing::Opentracker::kPath, X_OK) != 0) {
      GTEST_SKIP() << "no " << ::bt::testing::Opentracker::kPath;
    }
  }

  // OverUtp: the case runs over uTP rather than TCP.
  static bool OverUtp() { return GetParam().utp; }

  // Transmission starts transmission-cli on a free port with its own config
  // directory (loopback only: no port mapping, DHT, LPD or PEX; uTP only
  // when OverUtp()), saving to (or seeding from) `data_dir`; `done_script`
  // runs when the download completes. It returns once Transmission holds
  // its port (TCP, and UDP for uTP): one that loses it keeps running and
  // announces it all the same.
  absl::StatusOr<::bt::testing::ListeningProcess> Transmission(
      const std::string& dir, const std::string& data_dir,
      const std::string& torrent, const std::string& done_script) {
    const std::string config = dir + "/transmission";
    fs::create_directories(config);
    auto argv_for = [&](uint16_t port) {
      std::ofstream(config + "/settings.json") << absl::StrFormat(
          R"({"dht-enabled": false, "lpd-enabled": false,
  "port-forwarding-enabled": false, "utp-enabled": %s,
  "pex-enabled": false, "rpc-enabled": false,
  "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
  "rename-partial-files": false, "peer-port": %d})",
          OverUtp() ? "true" : "false", port);
      std::vector<std::string> argv = {
          kTransmission,
          "-M",
          "-g",
          config,
          "-p",
          std::to_string(port),
          "-w",
          data_dir,
          GetParam().transfer.policy == EncryptionPolicy::kForced ? "-er"
                                                                  : "-et"};
      if (!done_script.empty()) {
        argv.push_back("-f");
        argv.push_back(done_script);
      }
      argv.push_back(torrent);
      return argv;
    };
    // It binds at once, before it reads the torrent, and binds the UDP port
    // even with uTP off (for UDP trackers). Holding that too matters: a
    // stranger there would take btkit's uTP attempt.
    return ::bt::testing::StartListening(
        argv_for, {.patience = absl::Seconds(10), .udp_too = true});
  }

  static std::string root_;
};

std::string TransmissionInteropTest::root_;

TEST_P(TransmissionInteropTest, TransfersThroughOpentracker) {
  const interop::TransferCase& c = GetParam().transfer;
  const std::string dir =
      root_ + absl::StrFormat("/run_%d_%s_%s", c.btkit_seeds,
                              PolicyName(c.policy), OverUtp() ? "utp" : "tcp");
  fs::create_directories(dir);
  const absl::Time start = absl::Now();
  // A case takes about 25 s; the rest leaves room, on a loaded machine, for a
  // failed dial and the retry 15 s later.
  const absl::Time deadline = start + absl::Seconds(90);

  // The info-hash does not depend on the announce URL: learn it first for
  // the tracker's whitelist, then write the torrent that names the tracker.
  auto ih = interop::WriteTorrent(root_ + "/seed", dir + "/probe.torrent", {});
  ASSERT_TRUE(ih.ok()) << ih.status();
  auto tracker = ::bt::testing::Opentracker::Start({*ih}, deadline);
  ASSERT_TRUE(tracker.ok()) << tracker.status();
  const std::string torrent = dir + "/payload.torrent";
  ASSERT_TRUE(interop::WriteTorrent(root_ + "/seed", torrent,
                                    {(*tracker)->http_url()})
                  .ok());

  const std::string done_file = dir + "/transmission_done";
  std::string done_script;
  if (c.btkit_seeds) {
    done_script = dir + "/done.sh";
    std::ofstream(done_script) << "#!/bin/sh\ntouch '" << done_file << "'\n";
    chmod(done_script.c_str(), 0755);
  }
  absl::StatusOr<::bt::testing::ListeningProcess> transmission = Transmission(
      dir, c.btkit_seeds ? dir + "/transmission_data" : root_ + "/seed",
      torrent, done_script);
  ASSERT_TRUE(transmission.ok()) << transmission.status();
  // Transmission announces (as a seed once it has verified the files, or
  // as a leecher) before btkit does, so btkit's first announce finds it.
  absl::Status known = (*tracker)->WaitForPeers(
      *ih, c.btkit_seeds ? 0 : 1, c.btkit_seeds ? 1 : 0, deadline);
  ASSERT_TRUE(known.ok()) << known;
  const absl::Time announced = absl::Now();

  ClientOptions options = testing::LoopbackClientOptions();
  options.encryption = c.policy;
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  bool tracker_ok = false;
  Torrent* t = nullptr;
  interop::WireEncryption wire;
  wire.Watch(**client, t);
  interop::ConnectionDiary diary;
  diary.Watch(**client);
  (*client)->OnEvent(EventType::kTrackerSuccess, [&](const Event&) {
    tracker_ok = true;
    return true;
  });
  TorrentParams params;
  params.torrent_path = torrent;
  params.save_path = c.btkit_seeds ? root_ + "/seed" : dir + "/btkit";
  auto added = (*client)->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  t = *added;

  if (c.btkit_seeds) {
    ASSERT_TRUE(t->complete());
    while (!fs::exists(done_file) && absl::Now() < deadline) {
      ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
    }
    ASSERT_TRUE(fs::exists(done_file))
        << "Transmission did not finish; btkit uploaded " << t->uploaded()
        << "; " << wire.OnlyOver(OverUtp()).message() << "\n"
        << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/transmission_data"));
    EXPECT_GE(t->uploaded(), int64_t{64} << 20);
  } else {
    ASSERT_TRUE(interop::DownloadAll(**client, *t, deadline)) << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
  }
  EXPECT_TRUE(tracker_ok);
  EXPECT_TRUE(wire.Matches(c.policy));
  EXPECT_TRUE(wire.OnlyOver(OverUtp()));
  std::printf("transmission %s %s over %s: %.1f s (%.1f s after its announce)\n",
              c.btkit_seeds ? "downloads from btkit" : "seeds to btkit",
              PolicyName(c.policy).c_str(), OverUtp() ? "uTP" : "TCP",
              absl::ToDoubleSeconds(absl::Now() - start),
              absl::ToDoubleSeconds(absl::Now() - announced));
}

INSTANTIATE_TEST_SUITE_P(
    Directions, TransmissionInteropTest,
    ::testing::ValuesIn(TransmissionCases()),
    [](const ::testing::TestParamInfo<TransmissionCase>& info) {
      return interop::TransferCaseName(info.param.transfer, "Transmission") +
             (info.param.utp ? "_utp" : "_tcp");
    });

}  // namespace
}  // namespace bt::client
