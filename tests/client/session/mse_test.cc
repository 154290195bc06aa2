// PeerSession with Message Stream Encryption: two sessions pumped into each
// other, policies, refusals, the plaintext-retry advice and timeouts.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/mse.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace session_testing;  // NOLINT
using protocol::EncryptionPolicy;

// Deterministic randomness for keys and pads (a test may reset the seed).
uint64_t g_seed = 1;
void TestRandom(MutableByteSpan out) {
  for (uint8_t& b : out) {
    g_seed ^= g_seed << 13;
    g_seed ^= g_seed >> 7;
    g_seed ^= g_seed << 17;
    b = static_cast<uint8_t>(g_seed >> 24);
  }
}

// An outgoing session (we) and an incoming one (they) over two torrents
// that share the same metadata.
struct Pair {
  explicit Pair(EncryptionPolicy ours, EncryptionPolicy theirs,
                bool encrypt = true)
      : info(MakeInfo()), our_torrent(info), their_torrent(info) {
    PeerSessionOptions a = DefaultOptions();
    a.encryption = ours;
    a.encrypt = encrypt;
    a.random_bytes = &TestRandom;
    we = std::make_unique<PeerSession>(a, &our_torrent, now);

    skeys.Add(their_torrent.info_hash());
    PeerSessionOptions b = DefaultOptions();
    b.incoming = true;
    b.peer_id = TheirId();
    b.address = Endpoint::V4({10, 9, 9, 9}, 40000);
    b.encryption = theirs;
    b.skeys = &skeys;
    b.random_bytes = &TestRandom;
    b.find_torrent = [this](const Sha1Hash& ih) -> SessionTorrent* {
      return ih == their_torrent.info_hash() ? &their_torrent : nullptr;
    };
    they = std::make_unique<PeerSession>(b, nullptr, now);
  }
  void Start() {
    we->Start(now);
    they->Start(now);
  }

  absl::Time now = kT0;
  std::shared_ptr<const metainfo::TorrentInfo> info;
  FakeTorrent our_torrent;
  FakeTorrent their_torrent;
  protocol::SkeyTable skeys;
  std::unique_ptr<PeerSession> we;
  std::unique_ptr<PeerSession> they;
};

TEST(MseTest, EncryptedSessionsBecomeActive) {
  for (EncryptionPolicy policy :
       {EncryptionPolicy::kEnabled, EncryptionPolicy::kForced}) {
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
      Pair p(policy, policy);
      p.Start();
      Pump(*p.we, *p.they, p.now, chunk, 100);
      ASSERT_TRUE(p.we->active()) << p.we->close_reason();
      ASSERT_TRUE(p.they->active()) << p.they->close_reason();
      EXPECT_TRUE(p.we->encrypted());
      EXPECT_TRUE(p.they->encrypted());
      // RC4 runs over every byte: nothing goes out straight from a file.
      EXPECT_FALSE(p.we->CanSendFromFile());
      EXPECT_FALSE(p.they->CanSendFromFile());
      EXPECT_EQ(p.they->torrent(), &p.their_torrent);
      EXPECT_EQ(p.we->peer_id(), TheirId());
      EXPECT_EQ(p.they->peer_id(), OurId());
      EXPECT_THAT(EventNames(p.we->TakeEvents()),
                  Contains("PeerHandshakeDone"));
      EXPECT_THAT(EventNames(p.they->TakeEvents()),
                  Contains("PeerHandshakeDone"));
      EXPECT_FALSE(p.we->PlaintextRetryAdvised());
    }
  }
}

TEST(MseTest, EncryptedSessionsTransferABlock) {
  Pair p(EncryptionPolicy::kForced, EncryptionPolicy::kForced);
  p.their_torrent.SetHaveAll();
  p.Start();
  Pump(*p.we, *p.they, p.now, 13);
  ASSERT_TRUE(p.we->active() && p.they->active());
  p.we->TakeEvents();
  p.they->TakeEvents();
  p.we->SetInterested(true);
  p.they->SetChoking(false);
  Pump(*p.we, *p.they, p.now, 13);
  EXPECT_THAT(EventNames(p.they->TakeEvents()),
              ElementsAre("PeerInterestChanged 1"));
  EXPECT_THAT(EventNames(p.we->TakeEvents()),
              ElementsAre("PeerChokeChanged 0"));
  p.we->Request({BlockRef{3, 0}}, p.now);
  Pump(*p.we, *p.they, p.now, 13);
  std::optional<protocol::Request> r = p.they->NextToServe();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (protocol::Request{3, 0, 5000}));
  const std::string data = Content(3 * 32768, 5000);
  p.they->SendBlock(*r, AsBytes(data));
  Pump(*p.we, *p.they, p.now, 13);
  std::vector<BlockArrived> blocks = EventsOf<BlockArrived>(p.we->TakeEvents());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].data, data);
  EXPECT_TRUE(p.we->active() && p.they->active());
}

TEST(MseTest, ForcedIncomingRefusesAPlaintextHandshake) {
  PeerSessionOptions o = DefaultOptions();
  o.incoming = true;
  o.encryption = EncryptionPolicy::kForced;
  Rig rig(MakeInfo(), o);
  rig.Start();
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->closed());
  EXPECT_FALSE(rig.session->active());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(MseTest, EnabledIncomingAcceptsAPlaintextHandshake) {
  PeerSessionOptions o = DefaultOptions();
  o.incoming = true;
  o.encryption = EncryptionPolicy::kEnabled;
  Rig rig(MakeInfo(), o);
  rig.Start();
  rig.peer.set_split(Split::kBytes);
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->active());
  EXPECT_FALSE(rig.session->encrypted());
}

TEST(MseTest, IncomingForAnUnknownTorrentUnderMseCloses) {
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
  p.skeys.Remove(p.their_torrent.info_hash());
  p.Start();
  Pump(*p.we, *p.they, p.now);
  EXPECT_TRUE(p.they->closed());
  EXPECT_EQ(p.they->close_reason().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(p.we->active());
}

TEST(MseTest, HandshakeForAnotherTorrentThanTheKeyCloses) {
  // The initiator's key names one torrent, its handshake another.
  auto other = MakeInfo({.total_size = 1000});
  FakeTorrent second(other);
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
  p.skeys.Add(second.info_hash());
  PeerSessionOptions b = DefaultOptions();
  b.incoming = true;
  b.skeys = &p.skeys;
  b.find_torrent = [&](const Sha1Hash& ih) -> SessionTorrent* {
    if (ih == second.info_hash()) return &second;
    return ih == p.their_torrent.info_hash() ? &p.their_torrent : nullptr;
  };
  PeerSession they(b, nullptr, p.now);
  they.Start(p.now);

  protocol::Handshake hs;
  hs.info_hash = second.info_hash();
  hs.peer_id = TheirId();
  std::string ia;
  protocol::AppendHandshake(hs, &ia);
  protocol::MseInitiator initiator(p.their_torrent.info_hash(), ia, {}, p.now);
  std::string to_them;
  ASSERT_TRUE(initiator.Start(&to_them).ok());
  for (int round = 0; round < 5 && !they.closed(); ++round) {
    they.Receive(absl::MakeSpan(to_them.data(), to_them.size()), p.now);
    to_them.clear();
    std::string back(they.PendingOutput());
    they.ConsumeOutput(back.size(), p.now);
    if (back.empty()) break;
    ASSERT_TRUE(initiator.Receive(back, &to_them).ok());
  }
  EXPECT_TRUE(they.closed());
  EXPECT_EQ(they.close_reason().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MseTest, PlaintextRetryIsAdvisedWhenThePeerClosesBeforeItsKey) {
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
  p.we->Start(p.now);
  // (The owner may ask just before it closes the session.)
  EXPECT_TRUE(p.we->PlaintextRetryAdvised());
  p.we->Close(absl::UnavailableError("connection reset by peer"));
  EXPECT_TRUE(p.we->PlaintextRetryAdvised());
}

TEST(MseTest, PlaintextRetryIsAdvisedAfterAHandshakeTimeoutWithoutAKey) {
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
  p.we->Start(p.now);
  p.we->Tick(p.now + absl::Seconds(11));
  EXPECT_TRUE(p.we->closed());
  EXPECT_EQ(p.we->close_reason().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(p.we->PlaintextRetryAdvised());
}

TEST(MseTest, NoPlaintextRetryOnceThePeerKeyArrived) {
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
  p.Start();
  // Their key reaches us; then the connection drops.
  std::string to_them(p.we->PendingOutput());
  p.we->ConsumeOutput(to_them.size(), p.now);
  p.they->Receive(absl::MakeSpan(to_them.data(), to_them.size()), p.now);
  std::string to_us(p.they->PendingOutput());
  ASSERT_GE(to_us.size(), protocol::kMseKeySize);
  p.we->Receive(absl::MakeSpan(to_us.data(), to_us.size()), p.now);
  p.we->Close(absl::UnavailableError("connection reset by peer"));
  EXPECT_FALSE(p.we->PlaintextRetryAdvised());
}

TEST(MseTest, NoPlaintextRetryUnderForcedNorForPlaintextOrIncoming) {
  {
    Pair p(EncryptionPolicy::kForced, EncryptionPolicy::kForced);
    p.Start();
    p.we->Close(absl::UnavailableError("reset"));
    p.they->Close(absl::UnavailableError("reset"));
    EXPECT_FALSE(p.we->PlaintextRetryAdvised());
    EXPECT_FALSE(p.they->PlaintextRetryAdvised());
  }
  {
    Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled,
           /*encrypt=*/false);
    p.Start();
    p.we->Close(absl::UnavailableError("reset"));
    EXPECT_FALSE(p.we->PlaintextRetryAdvised());
  }
}

TEST(MseTest, EncryptingSessionAgainstAPlaintextOnlyPeer) {
  // They refuse MSE (kDisabled): our key is not a handshake, they close; we
  // see the connection close and are told to retry in plaintext, which
  // works.
  Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kDisabled);
  p.Start();
  Pump(*p.we, *p.they, p.now);
  EXPECT_TRUE(p.they->closed());
  p.we->Close(absl::UnavailableError("connection closed by peer"));
  EXPECT_TRUE(p.we->PlaintextRetryAdvised());

  Pair retry(EncryptionPolicy::kEnabled, EncryptionPolicy::kDisabled,
             /*encrypt=*/false);
  retry.Start();
  Pump(*retry.we, *retry.they, retry.now);
  EXPECT_TRUE(retry.we->active());
  EXPECT_TRUE(retry.they->active());
  EXPECT_FALSE(retry.we->encrypted());
  EXPECT_TRUE(retry.we->CanSendFromFile());
}

TEST(MseTest, ForcedOutgoingEncryptsEvenIfAskedForPlaintext) {
  Pair p(EncryptionPolicy::kForced, EncryptionPolicy::kForced,
         /*encrypt=*/false);
  p.we->Start(p.now);
  const std::string_view out = p.we->PendingOutput();
  EXPECT_GE(out.size(), protocol::kMseKeySize);
  EXPECT_FALSE(out.substr(0, 20) == protocol::kHandshakePrefix);
  p.they->Start(p.now);
  Pump(*p.we, *p.they, p.now);
  EXPECT_TRUE(p.we->active());
  EXPECT_TRUE(p.we->encrypted());
}

TEST(MseTest, RandomBytesOptionMakesTheHandshakeReproducible) {
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    g_seed = 42;
    Pair p(EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled);
    p.we->Start(p.now);
    *out = std::string(p.we->PendingOutput());
  }
  EXPECT_EQ(first, second);
  EXPECT_GE(first.size(), protocol::kMseKeySize);
}

TEST(MseTest, EncryptedHandshakeTimesOut) {
  Pair p(EncryptionPolicy::kForced, EncryptionPolicy::kForced);
  p.Start();
  // Only our first step arrives; nothing more moves.
  std::string to_them(p.we->PendingOutput());
  p.we->ConsumeOutput(to_them.size(), p.now);
  p.they->Receive(absl::MakeSpan(to_them.data(), to_them.size()), p.now);
  p.they->Tick(p.now + absl::Milliseconds(9900));
  EXPECT_FALSE(p.they->closed());
  p.they->Tick(p.now + absl::Milliseconds(10100));
  EXPECT_TRUE(p.they->closed());
  EXPECT_EQ(p.they->close_reason().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace bt::client
