// btkit's handshakes (plain and MSE, as initiator and as responder) against
// a libtorrent 2.0 seeder on loopback, each followed by the extension
// handshake, the bitfield, and one piece downloaded and checked against its
// SHA-1.
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "protocol/mse.h"
#include "tests/protocol/interop_driver.h"

namespace bt::protocol::testing {
namespace {

struct Case {
  const char* name;
  bool we_initiate;
  bool use_mse;                 // our side runs MSE (initiator only)
  EncryptionPolicy our_policy;  // for MSE
  bool our_prefer_rc4;          // responder only
  const char* lt_out_enc;       // libtorrent settings
  const char* lt_in_enc;
  const char* lt_level;
  const char* lt_prefer_rc4;
  uint32_t expected_method;  // 0: plain BitTorrent handshake
};

std::string TempDir(const std::string& name) {
  const char* base = getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/lt_" + name + "_" +
                    std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  return dir;
}

class LibtorrentInteropTest : public ::testing::TestWithParam<Case> {};

TEST_P(LibtorrentInteropTest, HandshakeAndVerifiedPiece) {
  const Case& c = GetParam();
  if (access("/usr/bin/python3", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/python3 is missing";
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  absl::StatusOr<std::unique_ptr<Subprocess>> lt = Subprocess::Start(
      {"/usr/bin/python3", "tests/protocol/lt_peer.py", TempDir(c.name),
       c.lt_out_enc, c.lt_in_enc, c.lt_level, c.lt_prefer_rc4});
  ASSERT_TRUE(lt.ok()) << lt.status();
  absl::StatusOr<std::string> ready = (*lt)->ReadLine(deadline);
  ASSERT_TRUE(ready.ok()) << ready.status();
  if (ready->rfind("SKIP", 0) == 0) GTEST_SKIP() << *ready;
  absl::StatusOr<TorrentFacts> torrent = ParseReady(*ready);
  ASSERT_TRUE(torrent.ok()) << torrent.status() << ": " << *ready;

  std::unique_ptr<PeerWire> wire;
  MseOptions options;
  options.policy = c.our_policy;
  options.prefer_rc4 = c.our_prefer_rc4;
  // libtorrent 2.0.8 computes HASH('req3', S) over S exported without its
  // leading zero bytes (into an uninitialised 96-byte buffer), so an MSE
  // handshake whose shared secret starts with a zero byte (1 in 256) fails
  // on libtorrent's side when we initiate: it hangs up. When libtorrent
  // initiates, btkit's responder recognises that obfuscation for one zero
  // byte; two (1 in 65536) still give an SKEY that matches nothing. A
  // fresh connection draws a new key, so one retry is allowed for exactly
  // those two symptoms.
  if (c.we_initiate) {
    for (int attempt = 0; attempt < 2 && !wire; ++attempt) {
      absl::StatusOr<int> fd =
          ConnectLoopback(std::stoi(*Field(*ready, "port")));
      ASSERT_TRUE(fd.ok()) << fd.status();
      auto w = std::make_unique<PeerWire>(*fd, *torrent, deadline);
      absl::Status s = c.use_mse ? w->InitiateMse(options) : w->InitiatePlain();
      if (s.ok()) {
        wire = std::move(w);
      } else {
        ASSERT_TRUE(attempt == 0 && c.use_mse &&
                    s.code() == absl::StatusCode::kUnavailable)
            << s;
      }
    }
  } else {
    // Each attempt listens on a new port: libtorrent waits a while before
    // it redials an endpoint that just failed.
    for (int attempt = 0; attempt < 2 && !wire; ++attempt) {
      int port;
      absl::StatusOr<int> listener = ListenLoopback(&port);
      ASSERT_TRUE(listener.ok()) << listener.status();
      ASSERT_TRUE((*lt)->WriteLine("CONNECT " + std::to_string(port)).ok());
      absl::StatusOr<int> fd = Accept(*listener, deadline);
      close(*listener);
      ASSERT_TRUE(fd.ok()) << fd.status();
      auto w = std::make_unique<PeerWire>(*fd, *torrent, deadline);
      absl::Status s = w->Respond(options);
      if (s.ok()) {
        wire = std::move(w);
      } else {
        ASSERT_TRUE(attempt == 0 && c.use_mse &&
                    s.code() == absl::StatusCode::kNotFound)
            << s;
      }
    }
  }
  ASSERT_NE(wire, nullptr);

  absl::Status s = wire->DownloadPiece(0, torrent->piece0_hash);
  ASSERT_TRUE(s.ok()) << s << "\nmessages: " << wire->log();
  ASSERT_TRUE(wire->their_handshake().has_value());
  EXPECT_TRUE(wire->their_handshake()->reserved.Has(ReservedBit::kExtension));
  ASSERT_TRUE(wire->their_extensions().has_value()) << wire->log();
  EXPECT_NE(wire->their_extensions()->IdOf("ut_metadata"), 0);
  EXPECT_TRUE(wire->saw_bitfield_or_have_all()) << wire->log();

  if (c.expected_method == 0) {
    if (wire->mse()) {
      const auto* responder = static_cast<const MseResponder*>(wire->mse());
      EXPECT_TRUE(responder->plaintext_handshake());
    }
  } else {
    ASSERT_NE(wire->mse(), nullptr);
    EXPECT_EQ(wire->mse()->selected_method(), c.expected_method);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Libtorrent, LibtorrentInteropTest,
    ::testing::Values(
        Case{"initiator_plain", true, false, EncryptionPolicy::kDisabled, true,
             "disabled", "disabled", "both", "1", 0},
        Case{"initiator_mse_rc4_forced", true, true, EncryptionPolicy::kForced,
             true, "forced", "forced", "rc4", "1", kCryptoRc4},
        Case{"initiator_mse_plaintext_allowed", true, true,
             EncryptionPolicy::kEnabled, true, "enabled", "enabled", "both",
             "0", kCryptoPlaintext},
        Case{"responder_plain", false, false, EncryptionPolicy::kEnabled, true,
             "disabled", "disabled", "both", "1", 0},
        Case{"responder_mse_rc4_forced", false, true, EncryptionPolicy::kForced,
             true, "forced", "forced", "rc4", "1", kCryptoRc4},
        Case{"responder_mse_plaintext_allowed", false, true,
             EncryptionPolicy::kEnabled, false, "forced", "forced", "both", "0",
             kCryptoPlaintext}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace bt::protocol::testing
