// btkit's plain and MSE handshakes as initiator against an aria2 seeder on
// loopback (aria2 cannot be told to connect out to a given peer), each
// followed by the extension handshake, the bitfield and one piece verified
// against its SHA-1.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "absl/time/clock.h"
#include "base/random.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "gtest/gtest.h"
#include "protocol/mse.h"
#include "tests/protocol/interop_driver.h"

namespace bt::protocol::testing {
namespace {

struct Case {
  const char* name;
  bool use_mse;
  EncryptionPolicy our_policy;
  bool aria2_require_crypto;
  const char* aria2_min_level;
  uint32_t expected_method;  // 0: plain handshake
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// MakeTorrent writes a random file and a torrent for it with mktorrent;
// the facts come from decoding that torrent with btkit's bencode decoder.
absl::StatusOr<TorrentFacts> MakeTorrent(const std::string& dir) {
  std::string data(70536, '\0');
  RandomBytes(MutableByteSpan(reinterpret_cast<uint8_t*>(data.data()),
                              data.size()));
  std::ofstream(dir + "/interop.bin", std::ios::binary) << data;
  std::string cmd = "mktorrent -l 15 -a http://127.0.0.1:9/announce -o " +
                    dir + "/t.torrent " + dir + "/interop.bin >/dev/null";
  if (system(cmd.c_str()) != 0) {
    return absl::InternalError("mktorrent failed");
  }
  std::string torrent = ReadFile(dir + "/t.torrent");
  ASSIGN_OR_RETURN(bencode::Document doc, bencode::Decode(torrent));
  ASSIGN_OR_RETURN(bencode::Node info, doc.root().GetDict("info"));
  TorrentFacts t;
  t.info_hash = Sha1(AsBytes(info.raw()));
  ASSIGN_OR_RETURN(int64_t piece_length, info.GetInt("piece length"));
  ASSIGN_OR_RETURN(int64_t length, info.GetInt("length"));
  ASSIGN_OR_RETURN(std::string_view pieces, info.GetString("pieces"));
  t.piece_length = static_cast<uint32_t>(piece_length);
  t.total_size = static_cast<uint64_t>(length);
  t.num_pieces = static_cast<uint32_t>(pieces.size() / 20);
  t.piece0_hash = Sha1Hash::FromBytes(AsBytes(pieces));
  if (Sha1(AsBytes(std::string_view(data).substr(0, t.piece_length))) !=
      t.piece0_hash) {
    return absl::InternalError("mktorrent's piece 0 hash is not ours");
  }
  return t;
}

class Aria2InteropTest : public ::testing::TestWithParam<Case> {};

TEST_P(Aria2InteropTest, HandshakeAndVerifiedPiece) {
  const Case& c = GetParam();
  if (access("/usr/bin/aria2c", X_OK) != 0) {
    GTEST_SKIP() << "aria2c is not installed";
  }
  if (access("/usr/bin/mktorrent", X_OK) != 0) {
    GTEST_SKIP() << "mktorrent is not installed";
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  const char* base = getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/aria2_" + c.name +
                    "_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<TorrentFacts> torrent = MakeTorrent(dir);
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  absl::StatusOr<int> port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();

  // Loopback only: bound to 127.0.0.1, no DHT, LPD or PEX; its tracker is
  // a closed loopback port.
  absl::StatusOr<std::unique_ptr<Subprocess>> aria2 = Subprocess::Start({
      "/usr/bin/aria2c", "--no-conf", "--interface=127.0.0.1",
      "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
      "--enable-peer-exchange=false", "--disable-ipv6=true",
      "--listen-port=" + std::to_string(*port), "--seed-ratio=0.0",
      "--bt-seed-unverified=true",
      std::string("--bt-require-crypto=") +
          (c.aria2_require_crypto ? "true" : "false"),
      std::string("--bt-min-crypto-level=") + c.aria2_min_level,
      "--summary-interval=0", "--console-log-level=warn", "-d", dir,
      dir + "/t.torrent"});
  ASSERT_TRUE(aria2.ok()) << aria2.status();

  absl::StatusOr<int> fd = ConnectLoopbackRetrying(*port, deadline);
  ASSERT_TRUE(fd.ok()) << fd.status();
  PeerWire wire(*fd, *torrent, deadline);
  MseOptions options;
  options.policy = c.our_policy;
  absl::Status s = c.use_mse ? wire.InitiateMse(options) : wire.InitiatePlain();
  ASSERT_TRUE(s.ok()) << s;
  s = wire.DownloadPiece(0, torrent->piece0_hash);
  ASSERT_TRUE(s.ok()) << s << "\nmessages: " << wire.log();
  ASSERT_TRUE(wire.their_handshake().has_value());
  EXPECT_TRUE(wire.their_handshake()->reserved.Has(ReservedBit::kExtension));
  ASSERT_TRUE(wire.their_extensions().has_value()) << wire.log();
  EXPECT_TRUE(wire.saw_bitfield_or_have_all()) << wire.log();
  if (c.expected_method != 0) {
    ASSERT_NE(wire.mse(), nullptr);
    EXPECT_EQ(wire.mse()->selected_method(), c.expected_method);
  } else {
    EXPECT_EQ(wire.mse(), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Aria2, Aria2InteropTest,
    ::testing::Values(
        Case{"initiator_plain", false, EncryptionPolicy::kDisabled, false,
             "plain", 0},
        Case{"initiator_mse_rc4_forced", true, EncryptionPolicy::kForced, true,
             "arc4", kCryptoRc4},
        Case{"initiator_mse_plaintext_allowed", true,
             EncryptionPolicy::kEnabled, true, "plain", kCryptoPlaintext}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace bt::protocol::testing
