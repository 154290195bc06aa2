// An honest libtorrent leecher against `bt seed` while 300 connections that
// never send a handshake are held open against it (from the same loopback
// address as the leecher): it must be served within 5 s. (Before connection
// slots could be reclaimed it took about a minute.) The `bt` binary can be
// swapped with BT_BINARY to measure another build.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/interop_support.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

int ConnectIdle(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

TEST(LibtorrentFloodTest, LeecherServedWithinFiveSecondsDespiteIdleFlood) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string root = testing::TempDir("lt_flood");
  fs::create_directories(root + "/seed/payload");
  std::mt19937 rng(11);
  std::string data(4 << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::ofstream(root + "/seed/payload/a.bin", std::ios::binary) << data;
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV1;
  options.piece_length = 256 * 1024;
  absl::StatusOr<std::string> torrent =
      metainfo::CreateTorrent(root + "/seed/payload", options);
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  const std::string torrent_path = root + "/a.torrent";
  ASSERT_TRUE(WriteFileAtomically(torrent_path, *torrent).ok());

  absl::StatusOr<interop::BtSeed> seed =
      interop::StartBtSeed(torrent_path, root + "/seed");
  ASSERT_TRUE(seed.ok()) << seed.status();
  const uint16_t port = seed->port;

  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    int fd = ConnectIdle(port);
    if (fd >= 0) idle.push_back(fd);
  }
  ASSERT_EQ(idle.size(), 300u);
  absl::SleepFor(absl::Milliseconds(200));

  const absl::Time start = absl::Now();
  auto lt = testing::Subprocess::Start(
      {kPython, kPeerScript, "download", torrent_path, root + "/lt",
       root + "/lt_port", "disabled", absl::StrCat("127.0.0.1:", port),
       "--timeout", "90"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  absl::StatusOr<int> code = (*lt)->Wait(start + absl::Seconds(95));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("[measured] libtorrent served under a 300-connection idle "
              "flood in %.2f s\n", seconds);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_LT(seconds, 5.0);
  absl::StatusOr<std::string> copy =
      ReadFileToString(root + "/lt/payload/a.bin", 8 << 20);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(*copy == data);
  for (int fd : idle) ::close(fd);
  fs::remove_all(root);
}

}  // namespace
}  // namespace bt::client
