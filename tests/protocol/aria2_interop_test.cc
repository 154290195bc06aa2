// btkit's plain and MSE handshakes against aria2 on loopback: as initiator
// to an aria2 seeder, and as responder to an aria2 downloader that finds us
// through opentracker; each followed by the extension handshake, the
// bitfield and one piece verified against its SHA-1.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/random.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "gtest/gtest.h"
#include "protocol/mse.h"
#include "tests/protocol/interop_driver.h"
#include "tests/testing/files.h"
#include "tests/testing/opentracker.h"
#include "tests/testing/ports.h"

namespace bt::protocol::testing {
namespace {

using ::bt::testing::ReadFileOrDie;

struct Case {
  const char* name;
  bool use_mse;
  EncryptionPolicy our_policy;
  bool aria2_require_crypto;
  const char* aria2_min_level;
  uint32_t expected_method;  // 0: plain handshake
};

// WritePayload writes the random file the torrents are made of.
void WritePayload(const std::string& dir) {
  std::string data(70536, '\0');
  RandomBytes(
      MutableByteSpan(reinterpret_cast<uint8_t*>(data.data()), data.size()));
  std::ofstream(dir + "/interop.bin", std::ios::binary) << data;
}

// MakeTorrent makes t.torrent of the payload with mktorrent; the facts
// come from decoding that torrent with btkit's bencode decoder. The
// info-hash does not depend on `announce`.
absl::StatusOr<TorrentFacts> MakeTorrent(
    const std::string& dir,
    const std::string& announce = "http://127.0.0.1:9/announce") {
  const std::string data = ReadFileOrDie(dir + "/interop.bin");
  std::remove((dir + "/t.torrent").c_str());  // mktorrent will not replace it
  std::string cmd = "mktorrent -l 15 -a " + announce + " -o " + dir +
                    "/t.torrent " + dir + "/interop.bin >/dev/null";
  if (system(cmd.c_str()) != 0) {
    return absl::InternalError("mktorrent failed");
  }
  std::string torrent = ReadFileOrDie(dir + "/t.torrent");
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

// Aria2Argv runs aria2c on loopback only (bound to 127.0.0.1, no DHT, LPD
// or PEX), listening on `port`, with the given encryption settings and
// `extra` flags, for `torrent` with its data in `data_dir`.
std::vector<std::string> Aria2Argv(uint16_t port, bool require_crypto,
                                   const char* min_crypto_level,
                                   const std::string& data_dir,
                                   const std::string& torrent,
                                   std::vector<std::string> extra) {
  std::vector<std::string> argv = {
      "/usr/bin/aria2c",
      "--no-conf",
      "--interface=127.0.0.1",
      "--enable-dht=false",
      "--enable-dht6=false",
      "--bt-enable-lpd=false",
      "--enable-peer-exchange=false",
      "--disable-ipv6=true",
      "--listen-port=" + std::to_string(port),
      std::string("--bt-require-crypto=") + (require_crypto ? "true" : "false"),
      std::string("--bt-min-crypto-level=") + min_crypto_level,
      "--summary-interval=0",
      "--console-log-level=warn",
      "-d",
      data_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(torrent);
  return argv;
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
  WritePayload(dir);
  absl::StatusOr<TorrentFacts> torrent = MakeTorrent(dir);
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  // A seeder whose tracker is a closed loopback port.
  absl::StatusOr<::bt::testing::ListeningProcess> aria2 =
      ::bt::testing::StartListening([&](uint16_t port) {
        return Aria2Argv(port, c.aria2_require_crypto, c.aria2_min_level, dir,
                         dir + "/t.torrent",
                         {"--seed-ratio=0.0", "--bt-seed-unverified=true"});
      });
  ASSERT_TRUE(aria2.ok()) << aria2.status();

  absl::StatusOr<int> fd = ConnectLoopbackRetrying(aria2->port, deadline);
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
    ::testing::Values(Case{"initiator_plain", false,
                           EncryptionPolicy::kDisabled, false, "plain", 0},
                      Case{"initiator_mse_rc4_forced", true,
                           EncryptionPolicy::kForced, true, "arc4", kCryptoRc4},
                      Case{"initiator_mse_plaintext_allowed", true,
                           EncryptionPolicy::kEnabled, true, "plain",
                           kCryptoPlaintext}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

// --- btkit as the responder: aria2 connects to us. -----------------------
//
// aria2 cannot be told to connect to a given peer, but it connects to the
// peers a tracker lists. So the test runs opentracker on loopback, announces
// btkit's listening port to it, and starts aria2 as a downloader that
// already has piece 0 (the rest of its file is zeroed and fails the hash
// check); aria2 then connects to btkit, which runs the MSE responder and
// downloads piece 0 from aria2.

struct ResponderCase {
  const char* name;
  EncryptionPolicy our_policy;
  bool our_prefer_rc4;
  bool aria2_require_crypto;
  const char* aria2_min_level;
  std::optional<uint32_t> expected_method;  // 0: plain handshake
};

class Aria2ResponderTest : public ::testing::TestWithParam<ResponderCase> {};

TEST_P(Aria2ResponderTest, Aria2ConnectsAndWeDownloadAVerifiedPiece) {
  const ResponderCase& c = GetParam();
  for (const char* program : {"/usr/bin/aria2c", "/usr/bin/mktorrent",
                              ::bt::testing::Opentracker::kPath}) {
    if (access(program, X_OK) != 0) GTEST_SKIP() << program << " is missing";
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(45);
  const char* base = getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/aria2r_" + c.name +
                    "_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  // The whitelist needs the info-hash, and the torrent aria2 reads names
  // the tracker's port; the info-hash does not depend on that name.
  WritePayload(dir);
  absl::StatusOr<TorrentFacts> probe = MakeTorrent(dir);
  ASSERT_TRUE(probe.ok()) << probe.status();
  absl::StatusOr<std::unique_ptr<::bt::testing::Opentracker>> tracker =
      ::bt::testing::Opentracker::Start({probe->info_hash}, deadline);
  ASSERT_TRUE(tracker.ok()) << tracker.status();
  absl::StatusOr<TorrentFacts> torrent =
      MakeTorrent(dir, (*tracker)->http_url());
  ASSERT_TRUE(torrent.ok()) << torrent.status();
  ASSERT_EQ(torrent->info_hash, probe->info_hash);

  // The tracker lists us, as a peer that still needs data, to aria2.
  int our_port;
  absl::StatusOr<int> listener = ListenLoopback(&our_port);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<std::string> announced = (*tracker)->Announce(
      torrent->info_hash, static_cast<uint16_t>(our_port), 1000, "started");
  ASSERT_TRUE(announced.ok()) << announced.status();
  ASSERT_NE(announced->find("5:peers"), std::string::npos) << *announced;

  // aria2's copy: piece 0 intact, the rest zeroed.
  mkdir((dir + "/aria2").c_str(), 0700);
  std::string data = ReadFileOrDie(dir + "/interop.bin");
  std::fill(data.begin() + torrent->piece_length, data.end(), '\0');
  std::ofstream(dir + "/aria2/interop.bin", std::ios::binary) << data;
  absl::StatusOr<::bt::testing::ListeningProcess> aria2 =
      ::bt::testing::StartListening([&](uint16_t port) {
        return Aria2Argv(port, c.aria2_require_crypto, c.aria2_min_level,
                         dir + "/aria2", dir + "/t.torrent",
                         {"--check-integrity=true"});
      });
  ASSERT_TRUE(aria2.ok()) << aria2.status();

  MseOptions options;
  options.policy = c.our_policy;
  options.prefer_rc4 = c.our_prefer_rc4;
  // With encryption disabled we refuse aria2's MSE attempt (closing the
  // connection), and aria2 comes back with a plain handshake.
  std::unique_ptr<PeerWire> wire;
  for (int attempt = 0; attempt < 3 && !wire; ++attempt) {
    absl::StatusOr<int> fd = Accept(*listener, deadline);
    ASSERT_TRUE(fd.ok()) << fd.status();
    auto w = std::make_unique<PeerWire>(*fd, *torrent, deadline);
    absl::Status s = w->Respond(options);
    if (s.ok()) {
      wire = std::move(w);
    } else {
      EXPECT_EQ(c.our_policy, EncryptionPolicy::kDisabled) << s;
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    }
  }
  close(*listener);
  ASSERT_NE(wire, nullptr);
  absl::Status s = wire->DownloadPiece(0, torrent->piece0_hash);
  ASSERT_TRUE(s.ok()) << s << "\nmessages: " << wire->log();
  ASSERT_TRUE(wire->their_extensions().has_value()) << wire->log();
  EXPECT_TRUE(wire->saw_bitfield_or_have_all()) << wire->log();
  const auto* responder = static_cast<const MseResponder*>(wire->mse());
  ASSERT_NE(responder, nullptr);
  std::printf("aria2 connected with %s\n",
              responder->plaintext_handshake() ? "a plain handshake"
              : responder->encrypted()         ? "MSE, RC4 selected"
                                               : "MSE, plaintext selected");
  if (c.expected_method) {
    if (*c.expected_method == 0) {
      EXPECT_TRUE(responder->plaintext_handshake());
    } else {
      EXPECT_FALSE(responder->plaintext_handshake());
      EXPECT_EQ(responder->selected_method(), *c.expected_method);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Aria2, Aria2ResponderTest,
    ::testing::Values(
        // aria2 tries MSE first; with it refused it falls back to plain.
        ResponderCase{"responder_plain", EncryptionPolicy::kDisabled, true,
                      false, "plain", 0},
        ResponderCase{"responder_mse_rc4_forced", EncryptionPolicy::kForced,
                      true, true, "arc4", kCryptoRc4},
        ResponderCase{"responder_mse_plaintext_allowed",
                      EncryptionPolicy::kEnabled, false, true, "plain",
                      kCryptoPlaintext}),
    [](const ::testing::TestParamInfo<ResponderCase>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace bt::protocol::testing
