// PeerSession: handshakes (outgoing and incoming, plaintext), the opening
// messages that follow, refusals, and every timeout.
#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/allowed_fast.h"
#include "protocol/extension_handshake.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "tests/client/session/session_harness.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;
using namespace session_testing;  // NOLINT

PeerSessionOptions Incoming() {
  PeerSessionOptions o = DefaultOptions();
  o.incoming = true;
  return o;
}

// --- outgoing ---------------------------------------------------------------

TEST(HandshakeTest, OutgoingStartSendsOnlyOurHandshake) {
  Rig rig(MakeInfo());
  std::vector<SentMessage> sent;
  EXPECT_THAT(rig.peer.Read(), IsEmpty()) << "nothing before Start";
  rig.Start();
  sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("handshake"));
  const auto& hs = *sent[0].As<protocol::Handshake>();
  EXPECT_EQ(hs.info_hash, rig.torrent->info_hash());
  EXPECT_EQ(hs.peer_id, OurId());
  EXPECT_TRUE(hs.reserved.Has(protocol::ReservedBit::kExtension));
  EXPECT_TRUE(hs.reserved.Has(protocol::ReservedBit::kFast));
  EXPECT_FALSE(hs.reserved.Has(protocol::ReservedBit::kDht));
  EXPECT_FALSE(rig.session->active());
  EXPECT_FALSE(rig.session->closed());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(HandshakeTest, OurHandshakeHasTheDhtBitWhenWeHaveADhtPort) {
  PeerSessionOptions o = DefaultOptions();
  o.dht_port = 7000;
  Rig rig(MakeInfo(), o);
  rig.Start();
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ElementsAre("handshake"));
  EXPECT_TRUE(sent[0].As<protocol::Handshake>()->reserved.Has(
      protocol::ReservedBit::kDht));
}

TEST(HandshakeTest, PeerHandshakeMakesTheSessionActive) {
  Rig rig(MakeInfo());
  rig.Start();
  rig.peer.Read();
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->active());
  EXPECT_EQ(rig.session->peer_id(), TheirId());
  EXPECT_TRUE(rig.session->fast());
  EXPECT_EQ(rig.session->connected_at(), rig.now);
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHandshakeDone"));
  // Extension handshake, then "have none" (we have nothing, Fast peer).
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("extended", "have none"));
}

TEST(HandshakeTest, ExtensionHandshakeAnnouncesReqqMetadataAndPex) {
  auto info = MakeInfo();
  Rig rig(info);
  rig.Connect(/*extensions=*/false);
  const auto& ext = rig.peer.session_extensions();
  ASSERT_TRUE(ext.has_value());
  EXPECT_EQ(ext->reqq, rig.options.limits.max_queued_requests);
  EXPECT_NE(ext->IdOf("ut_metadata"), 0);
  EXPECT_NE(ext->IdOf("ut_pex"), 0);
  EXPECT_EQ(ext->metadata_size, info->info_bytes().size());
  EXPECT_EQ(ext->p, 6881);
  EXPECT_EQ(ext->v, rig.options.client_name);
  ASSERT_TRUE(ext->yourip.has_value());
  Endpoint yourip = PeerAddress();
  yourip.set_port(0);
  EXPECT_EQ(*ext->yourip, yourip);
}

TEST(HandshakeTest, PrivateTorrentDoesNotAnnouncePex) {
  InfoSpec spec;
  spec.is_private = true;
  Rig rig(MakeInfo(spec));
  rig.Connect();
  ASSERT_TRUE(rig.peer.session_extensions().has_value());
  EXPECT_EQ(rig.peer.session_extensions()->IdOf("ut_pex"), 0);
  EXPECT_NE(rig.peer.session_extensions()->IdOf("ut_metadata"), 0);
}

TEST(HandshakeTest, MagnetExtensionHandshakeHasNoMetadataSize) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect();
  ASSERT_TRUE(rig.peer.session_extensions().has_value());
  EXPECT_FALSE(rig.peer.session_extensions()->metadata_size.has_value());
  EXPECT_NE(rig.peer.session_extensions()->IdOf("ut_metadata"), 0);
}

TEST(HandshakeTest, NoExtensionHandshakeToAPeerWithoutTheExtensionBit) {
  Rig rig(MakeInfo());
  rig.peer.reserved = protocol::ReservedBits().Set(protocol::ReservedBit::kFast);
  EXPECT_THAT(Names(rig.Connect(false)), ElementsAre("handshake", "have none"));
}

TEST(HandshakeTest, PortGoesToDhtPeersWhenWeHaveADhtPort) {
  PeerSessionOptions o = DefaultOptions();
  o.dht_port = 7000;
  Rig rig(MakeInfo(), o);
  rig.peer.reserved.Set(protocol::ReservedBit::kDht);
  std::vector<SentMessage> sent = rig.Connect(false);
  EXPECT_THAT(Names(sent),
              ElementsAre("handshake", "extended", "port", "have none"));
  EXPECT_EQ(Of<protocol::Port>(sent).at(0).port, 7000);
}

TEST(HandshakeTest, NoPortToAPeerWithoutTheDhtBit) {
  PeerSessionOptions o = DefaultOptions();
  o.dht_port = 7000;
  Rig rig(MakeInfo(), o);
  EXPECT_THAT(Names(rig.Connect(false)),
              ElementsAre("handshake", "extended", "have none"));
}

TEST(HandshakeTest, NoPortWithoutADhtPortOfOurs) {
  Rig rig(MakeInfo());
  rig.peer.reserved.Set(protocol::ReservedBit::kDht);
  EXPECT_THAT(Names(rig.Connect(false)),
              ElementsAre("handshake", "extended", "have none"));
}

TEST(HandshakeTest, SeedSendsHaveAllAndAllowedFastToAFastPeer) {
  auto info = MakeInfo();
  Rig rig(info);
  rig.torrent->SetHaveAll();
  std::vector<SentMessage> sent = rig.Connect(false);
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[1].name(), "extended");
  EXPECT_EQ(sent[2].name(), "have all");
  std::vector<uint32_t> fast;
  for (const auto& a : Of<protocol::AllowedFast>(sent)) fast.push_back(a.piece);
  // BEP 6's set for the peer's address: every piece of a 4-piece torrent.
  std::vector<uint32_t> expected = protocol::AllowedFastSet(
      info->WireInfoHash(), {10, 1, 2, 3}, info->num_pieces(), 10);
  EXPECT_EQ(expected.size(), 4u);
  EXPECT_THAT(fast, UnorderedElementsAreArray(expected));
  EXPECT_EQ(sent.size(), 3 + expected.size());
}

TEST(HandshakeTest, PartialHaveSetGoesAsABitfieldWithAllowedFastForOurPieces) {
  auto info = MakeInfo();
  Rig rig(info);
  rig.torrent->mutable_have().Set(1);
  rig.torrent->mutable_have().Set(3);
  std::vector<SentMessage> sent = rig.Connect(false);
  std::vector<protocol::Bitfield> bitfields = Of<protocol::Bitfield>(sent);
  ASSERT_EQ(bitfields.size(), 1u);
  EXPECT_EQ(bitfields[0].bits, std::string(1, '\x50'));  // pieces 1 and 3
  std::vector<uint32_t> fast;
  for (const auto& a : Of<protocol::AllowedFast>(sent)) fast.push_back(a.piece);
  EXPECT_THAT(fast, UnorderedElementsAreArray(std::vector<uint32_t>{1, 3}));
}

TEST(HandshakeTest, WithoutFastASeedSendsABitfieldAndNoAllowedFast) {
  Rig rig(MakeInfo());
  rig.torrent->SetHaveAll();
  rig.peer.reserved =
      protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
  std::vector<SentMessage> sent = rig.Connect(false);
  EXPECT_THAT(Names(sent), ElementsAre("handshake", "extended", "bitfield"));
  EXPECT_EQ(Of<protocol::Bitfield>(sent)[0].bits, std::string(1, '\xf0'));
  EXPECT_FALSE(rig.session->fast());
}

TEST(HandshakeTest, WithoutFastNothingToAnnounceSendsNoHaveSet) {
  Rig rig(MakeInfo());
  rig.peer.reserved =
      protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
  EXPECT_THAT(Names(rig.Connect(false)), ElementsAre("handshake", "extended"));
}

TEST(HandshakeTest, NoAllowedFastForAnIpv6Peer) {
  PeerSessionOptions o = DefaultOptions();
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  o.address = Endpoint::V6(v6, 6881);
  Rig rig(MakeInfo(), o);
  rig.torrent->SetHaveAll();
  EXPECT_THAT(Names(rig.Connect(false)),
              ElementsAre("handshake", "extended", "have all"));
}

// --- incoming -----------------------------------------------------------------

TEST(HandshakeTest, IncomingAnswersTheHandshakeAndBecomesActive) {
  Rig rig(MakeInfo(), Incoming());
  rig.Start();
  EXPECT_THAT(rig.peer.Read(), IsEmpty()) << "incoming: the peer speaks first";
  EXPECT_EQ(rig.session->torrent(), nullptr);
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->active());
  EXPECT_EQ(rig.session->torrent(), rig.torrent.get());
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHandshakeDone"));
  std::vector<SentMessage> sent = rig.peer.Read();
  EXPECT_THAT(Names(sent), ElementsAre("handshake", "extended", "have none"));
  EXPECT_EQ(sent[0].As<protocol::Handshake>()->info_hash,
            rig.torrent->info_hash());
  EXPECT_EQ(sent[0].As<protocol::Handshake>()->peer_id, OurId());
}

TEST(HandshakeTest, IncomingWithEncryptionDisabledAnswersPlaintext) {
  PeerSessionOptions o = Incoming();
  o.encryption = protocol::EncryptionPolicy::kDisabled;
  Rig rig(MakeInfo(), o);
  rig.peer.set_split(Split::kBytes);
  rig.Start();
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->active());
  EXPECT_FALSE(rig.session->encrypted());
  EXPECT_THAT(Names(rig.peer.Read()),
              ElementsAre("handshake", "extended", "have none"));
}

TEST(HandshakeTest, IncomingForAnUnknownTorrentClosesNotFound) {
  for (auto policy : {protocol::EncryptionPolicy::kEnabled,
                      protocol::EncryptionPolicy::kDisabled}) {
    PeerSessionOptions o = Incoming();
    o.encryption = policy;
    Rig rig(MakeInfo(), o);
    rig.peer.info_hash = MakeInfo({.total_size = 1000})->WireInfoHash();
    rig.Start();
    rig.peer.SendHandshake();
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(), absl::StatusCode::kNotFound)
        << rig.session->close_reason();
    EXPECT_THAT(rig.peer.Read(), IsEmpty());
    EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  }
}

TEST(HandshakeTest, IncomingWithoutFindTorrentClosesNotFound) {
  PeerSessionOptions o = Incoming();
  o.find_torrent = [](const Sha1Hash&) -> SessionTorrent* { return nullptr; };
  Rig rig(MakeInfo(), o);
  rig.Start();
  rig.peer.SendHandshake();
  EXPECT_EQ(rig.session->close_reason().code(), absl::StatusCode::kNotFound);
}

TEST(HandshakeTest, OutgoingHandshakeForAnotherTorrentCloses) {
  Rig rig(MakeInfo());
  rig.Start();
  rig.peer.info_hash = MakeInfo({.total_size = 1000})->WireInfoHash();
  rig.peer.SendHandshake();
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(HandshakeTest, ConnectionToOurselvesCloses) {
  for (bool incoming : {false, true}) {
    Rig rig(MakeInfo(), incoming ? Incoming() : DefaultOptions());
    rig.peer.id = OurId();
    rig.Start();
    rig.peer.SendHandshake();
    EXPECT_TRUE(rig.session->closed()) << incoming;
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_FALSE(rig.session->active());
  }
}

TEST(HandshakeTest, AnyMessageBeforeTheHandshakeCloses) {
  for (bool incoming : {false, true}) {
    PeerSessionOptions o = incoming ? Incoming() : DefaultOptions();
    o.encryption = protocol::EncryptionPolicy::kDisabled;
    Rig rig(MakeInfo(), o);
    rig.Start();
    rig.peer.Send(protocol::Interested{});
    EXPECT_TRUE(rig.session->closed()) << incoming;
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  }
}

TEST(HandshakeTest, IncomingGarbageUnderMseEndsAtTheHandshakeTimeoutAtLatest) {
  Rig rig(MakeInfo(), Incoming());
  rig.Start();
  // Not a handshake: under MSE it may be the start of a public key.
  rig.peer.Send(protocol::Interested{});
  rig.Advance(absl::Seconds(11));
  EXPECT_TRUE(rig.session->closed());
  EXPECT_FALSE(rig.session->active());
}

TEST(HandshakeTest, ClosedSessionIgnoresInputAndCommands) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Events();
  rig.session->Close(absl::CancelledError("test"));
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(), absl::StatusCode::kCancelled);
  rig.peer.Send(protocol::HaveAll{});
  rig.session->SetInterested(true);
  rig.session->SetChoking(false);
  rig.session->Request({BlockRef{0, 0}}, rig.now);
  rig.Advance(absl::Seconds(1000));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_EQ(rig.session->close_reason().code(), absl::StatusCode::kCancelled);
}

// --- timeouts ---------------------------------------------------------------

TEST(TimeoutTest, HandshakeMustCompleteTenSecondsAfterStart) {
  for (bool incoming : {false, true}) {
    Rig rig(MakeInfo(), incoming ? Incoming() : DefaultOptions());
    rig.Advance(absl::Seconds(60));  // the clock starts at Start()
    EXPECT_FALSE(rig.session->closed());
    rig.Start();
    rig.Advance(absl::Milliseconds(9900));
    EXPECT_FALSE(rig.session->closed()) << incoming;
    rig.Advance(absl::Milliseconds(200));
    EXPECT_TRUE(rig.session->closed()) << incoming;
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kDeadlineExceeded);
  }
}

TEST(TimeoutTest, ActiveSessionHasNoHandshakeDeadline) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Advance(absl::Seconds(30));
  EXPECT_TRUE(rig.session->active());
}

TEST(TimeoutTest, IdlePeerIsDroppedAfter180Seconds) {
  Rig rig(MakeInfo());
  rig.Connect();
  for (int i = 0; i < 179; ++i) rig.Advance(absl::Seconds(1));
  rig.Advance(absl::Milliseconds(900));
  EXPECT_TRUE(rig.session->active());
  rig.Advance(absl::Milliseconds(200));
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(TimeoutTest, PeerKeepAliveResetsTheIdleClock) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Advance(absl::Seconds(170));
  rig.peer.Send(protocol::KeepAlive{});
  rig.Advance(absl::Seconds(170));
  EXPECT_TRUE(rig.session->active());
  rig.Advance(absl::Seconds(11));
  EXPECT_TRUE(rig.session->closed());
}

TEST(TimeoutTest, KeepAliveAfterNinetySecondsOfOurSilence) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.Advance(absl::Seconds(89));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  rig.Advance(absl::Seconds(2));
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("keep-alive"));
  // Something of ours sent at 120 s pushes the next one to about 210 s.
  rig.peer.Send(protocol::KeepAlive{});  // (keeps the peer alive)
  rig.Advance(absl::Seconds(29));
  rig.session->SetInterested(true);
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("interested"));
  rig.Advance(absl::Seconds(89));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  rig.Advance(absl::Seconds(2));
  EXPECT_THAT(Names(rig.peer.Read()), ElementsAre("keep-alive"));
}

TEST(TimeoutTest, SnubAfterThirtySecondsWithoutABlock) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.peer.Send(protocol::HaveAll{});
  rig.peer.Send(protocol::Unchoke{});
  rig.Events();
  rig.session->Request({BlockRef{0, 0}, BlockRef{0, 1}}, rig.now);
  rig.peer.Read();
  rig.Advance(absl::Seconds(29));
  EXPECT_FALSE(rig.session->snubbed());
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  rig.Advance(absl::Seconds(2));
  EXPECT_TRUE(rig.session->snubbed());
  EXPECT_EQ(rig.session->requests_in_flight(), 0u);
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("RequestsReturned 0:0 0:1"));
  rig.Advance(absl::Seconds(40));
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty()) << "returned once";
}

TEST(TimeoutTest, ABlockRestartsTheSnubClock) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.peer.Send(protocol::HaveAll{});
  rig.peer.Send(protocol::Unchoke{});
  rig.session->Request({BlockRef{0, 0}, BlockRef{0, 1}}, rig.now);
  rig.Advance(absl::Seconds(20));
  rig.peer.Send(protocol::Piece{0, 0, Content(0, kBlockSize)});
  rig.Advance(absl::Seconds(20));
  EXPECT_FALSE(rig.session->snubbed());
  rig.Advance(absl::Seconds(11));
  EXPECT_TRUE(rig.session->snubbed());
}

TEST(TimeoutTest, NoSnubWithoutRequestsInFlight) {
  Rig rig(MakeInfo());
  rig.Connect();
  rig.peer.Send(protocol::Unchoke{});
  for (int i = 0; i < 10; ++i) rig.Advance(absl::Seconds(10));
  rig.peer.Send(protocol::KeepAlive{});
  EXPECT_FALSE(rig.session->snubbed());
}

TEST(TimeoutTest, OurMetadataRequestsExpireAfterThirtySeconds) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Connect();
  rig.session->RequestMetadataPiece(0, rig.now);
  EXPECT_EQ(rig.session->metadata_requests(), 1);
  rig.Advance(absl::Seconds(29));
  EXPECT_EQ(rig.session->metadata_requests(), 1);
  rig.Advance(absl::Seconds(2));
  EXPECT_EQ(rig.session->metadata_requests(), 0);
  rig.Events();
  // A late answer is one we no longer wait for: no event.
  const auto& info = rig.torrent->eventual_info();
  rig.peer.SendMetadataMessage({protocol::MetadataMessageType::kData, 0,
                                info.info_bytes().size(), info.info_bytes()});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(TimeoutTest, OurHashRequestsExpireAfterThirtySeconds) {
  Rig rig(MakeInfo());
  rig.Connect();
  protocol::HashRange range;
  range.pieces_root[0] = 1;
  range.length = 2;
  rig.session->RequestHashes(range, rig.now);
  EXPECT_EQ(rig.session->hash_requests(), 1);
  rig.Advance(absl::Seconds(29));
  EXPECT_EQ(rig.session->hash_requests(), 1);
  rig.Advance(absl::Seconds(2));
  EXPECT_EQ(rig.session->hash_requests(), 0);
  rig.Events();
  rig.peer.Send(protocol::HashReject{range});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

}  // namespace
}  // namespace bt::client
