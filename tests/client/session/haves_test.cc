// PeerSession: what the peer has (BEP 3 have/bitfield, BEP 6 have all/none),
// late and repeated announcements, and magnet sessions that learn the piece
// count only later.
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/session/peer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "tests/client/session/session_harness.h"
#include "tests/testing/thread_cpu_time.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace session_testing;  // NOLINT

// A connected rig over the default 4-piece torrent, events drained.
struct Connected : Rig {
  explicit Connected(std::shared_ptr<const metainfo::TorrentInfo> info = MakeInfo(),
                     PeerSessionOptions o = DefaultOptions())
      : Rig(std::move(info), std::move(o)) {
    Connect();
    Events();
  }
};

std::string Bits(uint8_t first_byte) { return std::string(1, first_byte); }

// --- metadata known -------------------------------------------------------------

TEST(HavesTest, BitfieldMakesTheHaveSetKnown) {
  Connected rig;
  rig.peer.Send(protocol::Bitfield{Bits(0xa0)});  // pieces 0 and 2
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_EQ(rig.session->peer_pieces(), 2u);
  EXPECT_TRUE(rig.session->peer_have().Get(0));
  EXPECT_FALSE(rig.session->peer_have().Get(1));
  EXPECT_TRUE(rig.session->peer_have().Get(2));
  EXPECT_FALSE(rig.session->peer_is_seed());
}

TEST(HavesTest, HaveArrivesOncePerNewPiece) {
  Connected rig;
  rig.peer.Send(protocol::Bitfield{Bits(0x80)});
  rig.peer.Send(protocol::Have{1});
  rig.peer.Send(protocol::Have{1});
  rig.peer.Send(protocol::Have{0});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerHaveSetKnown", "PeerHaveArrived 1"));
  EXPECT_EQ(rig.session->peer_pieces(), 2u);
}

TEST(HavesTest, HaveAllMakesASeed) {
  Connected rig;
  rig.peer.Send(protocol::HaveAll{});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_TRUE(rig.session->peer_is_seed());
  EXPECT_EQ(rig.session->peer_pieces(), 4u);
}

TEST(HavesTest, HaveNoneThenHaves) {
  Connected rig;
  rig.peer.Send(protocol::HaveNone{});
  rig.peer.Send(protocol::Have{3});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerHaveSetKnown", "PeerHaveArrived 3"));
  EXPECT_EQ(rig.session->peer_pieces(), 1u);
}

TEST(HavesTest, HavesWithoutAnyHaveSetArriveOneByOne) {
  Connected rig;
  rig.peer.Send(protocol::Have{2});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveArrived 2"));
}

TEST(HavesTest, LateBitfieldMergesAsHaves) {
  Connected rig;
  rig.peer.Send(protocol::Bitfield{Bits(0x80)});
  rig.peer.Send(protocol::Bitfield{Bits(0x30)});  // 2, 3; 0 cleared: ignored
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerHaveSetKnown", "PeerHaveArrived 2",
                          "PeerHaveArrived 3"));
  EXPECT_EQ(rig.session->peer_pieces(), 3u);
  EXPECT_TRUE(rig.session->peer_have().Get(0));
  EXPECT_TRUE(rig.session->active());
}

TEST(HavesTest, LateHaveAllMergesAsHaves) {
  Connected rig;
  rig.peer.Send(protocol::Bitfield{Bits(0x40)});
  rig.peer.Send(protocol::HaveAll{});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerHaveSetKnown", "PeerHaveArrived 0",
                          "PeerHaveArrived 2", "PeerHaveArrived 3"));
  EXPECT_TRUE(rig.session->peer_is_seed());
}

TEST(HavesTest, RepeatedHaveAllProducesNoEvents) {
  Connected rig;
  rig.peer.Send(protocol::HaveAll{});
  rig.Events();
  std::string flood;
  for (int i = 0; i < 10000; ++i) flood += ScriptedPeer::Wire(protocol::HaveAll{});
  rig.peer.SendBytes(flood);
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_TRUE(rig.session->active());
}

TEST(HavesTest, HaveAllFloodOnAMillionPieceTorrentStaysFast) {
  Connected rig(MakeSyntheticInfo(1'000'000));
  std::string flood;
  for (int i = 0; i < 10001; ++i) flood += ScriptedPeer::Wire(protocol::HaveAll{});
  // CPU time: the session's work (and the test's), not waits for a core.
  const absl::Duration start = ::bt::testing::ThreadCpuTime();
  rig.peer.SendBytes(flood);
  const absl::Duration took = ::bt::testing::ThreadCpuTime() - start;
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_EQ(rig.session->peer_pieces(), 1'000'000u);
  EXPECT_TRUE(rig.session->active());
  EXPECT_LT(took, absl::Milliseconds(500));
}

TEST(HavesTest, HaveNoneAfterTheBitfieldCloses) {
  const std::string bits = Bits(0x80);
  for (const protocol::Message& first :
       {protocol::Message(protocol::Bitfield{bits}),
        protocol::Message(protocol::HaveAll{})}) {
    Connected rig;
    rig.peer.Send(first);
    rig.peer.Send(protocol::HaveNone{});
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(HavesTest, MalformedHaveSetsClose) {
  for (const std::string& wire :
       {ScriptedPeer::Wire(protocol::Have{4}),
        ScriptedPeer::Wire(protocol::Bitfield{std::string(2, '\0')}),
        ScriptedPeer::Wire(protocol::Bitfield{Bits(0x08)})}) {  // spare bit
    Connected rig;
    rig.peer.SendBytes(wire);
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  }
}

TEST(HavesTest, HaveSetsWithoutFastAreBitfieldAndHaveOnly) {
  Rig rig(MakeInfo());
  rig.peer.reserved =
      protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
  rig.Connect();
  rig.peer.Send(protocol::HaveAll{});  // a Fast message from a non-Fast peer
  EXPECT_TRUE(rig.session->closed());
}

// --- magnet: before the metadata --------------------------------------------------

struct Magnet : Rig {
  explicit Magnet(PeerSessionOptions o = DefaultOptions(),
                  std::shared_ptr<const metainfo::TorrentInfo> info = MakeInfo())
      : Rig(FakeTorrent::Magnet(std::move(info)), std::move(o)) {
    Connect();
    Events();
  }
  void LearnMetadata() {
    torrent->LearnMetadata();
    session->OnMetadata();
  }
};

TEST(MagnetHavesTest, NothingIsKnownBeforeTheMetadata) {
  Magnet rig;
  EXPECT_EQ(rig.session->peer_have().size(), 0u);
  rig.peer.Send(protocol::Bitfield{Bits(0xa0)});
  rig.peer.Send(protocol::Have{1});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_EQ(rig.session->peer_have().size(), 0u);
  EXPECT_EQ(rig.session->pending_haves(), 1u);
}

TEST(MagnetHavesTest, BitfieldAndHavesBecomeTheHaveSetWithTheMetadata) {
  Magnet rig;
  rig.peer.Send(protocol::Bitfield{Bits(0xa0)});
  rig.peer.Send(protocol::Have{1});
  rig.LearnMetadata();
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_EQ(rig.session->peer_have().size(), 4u);
  EXPECT_EQ(rig.session->peer_pieces(), 3u);
  EXPECT_FALSE(rig.session->peer_have().Get(3));
  EXPECT_EQ(rig.session->pending_haves(), 0u);
  // Later haves are ordinary.
  rig.peer.Send(protocol::Have{3});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveArrived 3"));
  EXPECT_TRUE(rig.session->peer_is_seed());
}

TEST(MagnetHavesTest, HaveAllBecomesASeedWithTheMetadata) {
  Magnet rig;
  rig.peer.Send(protocol::HaveAll{});
  rig.peer.Send(protocol::HaveAll{});
  rig.LearnMetadata();
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_TRUE(rig.session->peer_is_seed());
}

TEST(MagnetHavesTest, OnlyHavesBecomeAHaveSetToo) {
  Magnet rig;
  rig.peer.Send(protocol::Have{0});
  rig.peer.Send(protocol::Have{0});
  rig.LearnMetadata();
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
  EXPECT_EQ(rig.session->peer_pieces(), 1u);
}

TEST(MagnetHavesTest, NothingAnnouncedMeansNoHaveSetEvent) {
  Magnet rig;
  rig.LearnMetadata();
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  EXPECT_EQ(rig.session->peer_have().size(), 4u);
}

TEST(MagnetHavesTest, LateBitfieldAndHaveAllBeforeTheMetadataMerge) {
  {
    Magnet rig;
    rig.peer.Send(protocol::HaveNone{});
    rig.peer.Send(protocol::Bitfield{Bits(0x80)});
    rig.peer.Send(protocol::Bitfield{Bits(0x10)});
    rig.LearnMetadata();
    EXPECT_THAT(EventNames(rig.Events()), ElementsAre("PeerHaveSetKnown"));
    EXPECT_EQ(rig.session->peer_have().ToBytes(), Bits(0x90));
  }
  {
    Magnet rig;
    rig.peer.Send(protocol::Bitfield{Bits(0x80)});
    rig.peer.Send(protocol::HaveAll{});
    rig.LearnMetadata();
    EXPECT_TRUE(rig.session->peer_is_seed());
  }
}

TEST(MagnetHavesTest, HaveNoneAfterABitfieldBeforeTheMetadataCloses) {
  Magnet rig;
  rig.peer.Send(protocol::Bitfield{Bits(0x80)});
  rig.peer.Send(protocol::HaveNone{});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MagnetHavesTest, PendingHavesAreBounded) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.max_pending_haves = 5;
  Magnet rig(o);
  for (uint32_t i = 0; i < 1000; ++i) rig.peer.Send(protocol::Have{i % 4});
  EXPECT_EQ(rig.session->pending_haves(), 5u);
  EXPECT_TRUE(rig.session->active());
}

TEST(MagnetHavesTest, OversizedBitfieldIsNotKept) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.max_pending_bitfield = 16;
  Magnet rig(o);
  rig.peer.Send(protocol::Bitfield{std::string(17, '\xff')});
  EXPECT_TRUE(rig.session->active());
  rig.LearnMetadata();
  EXPECT_TRUE(rig.session->active()) << rig.session->close_reason();
  EXPECT_EQ(rig.session->peer_pieces(), 0u);
}

TEST(MagnetHavesTest, MessageLargerThanTheLimitBeforeTheMetadataCloses) {
  PeerSessionOptions o = DefaultOptions();
  o.limits.max_message_before_metadata = 1000;
  Magnet rig(o);
  rig.peer.Send(protocol::Bitfield{std::string(1000, '\xff')});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MagnetHavesTest, BitfieldOfTheWrongSizeClosesWhenTheMetadataArrives) {
  Magnet rig;
  rig.peer.Send(protocol::Bitfield{std::string(3, '\xff')});
  rig.LearnMetadata();
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MagnetHavesTest, PendingHavePastTheEndClosesWhenTheMetadataArrives) {
  Magnet rig;
  rig.peer.Send(protocol::Have{4});
  rig.LearnMetadata();
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
}

TEST(MagnetHavesTest, TheNextReceiveNoticesTheMetadataByItself) {
  Magnet rig;
  rig.peer.Send(protocol::Bitfield{Bits(0x80)});
  rig.torrent->LearnMetadata();  // no OnMetadata()
  rig.peer.Send(protocol::Have{1});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerHaveSetKnown", "PeerHaveArrived 1"));
  EXPECT_EQ(rig.session->peer_pieces(), 2u);
  // Past the end is now checked.
  rig.peer.Send(protocol::Have{4});
  EXPECT_TRUE(rig.session->closed());
}

TEST(MagnetHavesTest, OurHaveSetFollowsTheMetadata) {
  // A Fast peer got "have none" at the handshake; pieces we have by the
  // time the metadata arrives (resume data) go as haves.
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  EXPECT_THAT(Names(rig.Connect()), ElementsAre("handshake", "extended",
                                                "have none"));
  rig.torrent->LearnMetadata();
  rig.torrent->mutable_have().Set(2);
  rig.session->OnMetadata();
  std::vector<SentMessage> sent = rig.peer.Read();
  ASSERT_THAT(Names(sent), ::testing::Contains("have"));
  EXPECT_EQ(Of<protocol::Have>(sent).size(), 1u);
  EXPECT_EQ(Of<protocol::Have>(sent)[0].piece, 2u);
  EXPECT_THAT(Of<protocol::Bitfield>(sent), IsEmpty());
  EXPECT_THAT(Of<protocol::HaveAll>(sent), IsEmpty());
}

TEST(MagnetHavesTest, ManyPiecesOfOursAfterTheMetadataDoNotEndTheSession) {
  // 200,000 haves are 1.8 MB: more than the send buffer's bound, which is
  // about peers that do not read, not about what we announce.
  Rig rig(FakeTorrent::Magnet(MakeSyntheticInfo(200'000)));
  rig.Connect();
  rig.torrent->LearnMetadata();
  rig.torrent->SetHaveAll();
  rig.session->OnMetadata();
  rig.session->SetInterested(true);  // more output while they are unsent
  EXPECT_TRUE(rig.session->active()) << rig.session->close_reason();
  std::vector<SentMessage> sent = rig.peer.Read();
  EXPECT_EQ(Of<protocol::Have>(sent).size(), 200'000u);
  EXPECT_EQ(sent.back().name(), "interested");
}

TEST(MagnetHavesTest, AllowedFastBeforeTheMetadataIsDropped) {
  Magnet rig;
  rig.peer.Send(protocol::AllowedFast{1});
  EXPECT_THAT(EventNames(rig.Events()), IsEmpty());
  rig.LearnMetadata();
  rig.peer.Send(protocol::AllowedFast{1});
  EXPECT_THAT(EventNames(rig.Events()), ElementsAre("AllowedFastArrived 1"));
}

TEST(MagnetHavesTest, RequestsBeforeTheMetadataAreRejectedOrIgnored) {
  {
    Magnet rig;
    rig.peer.Read();
    rig.peer.Send(protocol::Request{0, 0, kBlockSize});
    std::vector<SentMessage> sent = rig.peer.Read();
    ASSERT_THAT(Names(sent), ElementsAre("reject"));
    EXPECT_EQ(*sent[0].As<protocol::Reject>(),
              (protocol::Reject{0, 0, kBlockSize}));
    EXPECT_EQ(rig.session->queued_requests(), 0u);
  }
  {
    Rig rig(FakeTorrent::Magnet(MakeInfo()));
    rig.peer.reserved =
        protocol::ReservedBits().Set(protocol::ReservedBit::kExtension);
    rig.Connect();
    rig.peer.Send(protocol::Request{0, 0, kBlockSize});
    EXPECT_THAT(rig.peer.Read(), IsEmpty());
    EXPECT_TRUE(rig.session->active());
    EXPECT_EQ(rig.session->queued_requests(), 0u);
  }
}

TEST(MagnetHavesTest, BlocksAndRejectsBeforeTheMetadataAreUnsolicited) {
  for (const std::string& wire :
       {ScriptedPeer::Wire(protocol::Piece{0, 0, "data"}),
        ScriptedPeer::Wire(protocol::Reject{0, 0, 16384})}) {
    Magnet rig;
    rig.peer.SendBytes(wire);
    EXPECT_TRUE(rig.session->closed());
    EXPECT_EQ(rig.session->close_reason().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(MagnetHavesTest, OtherMessagesBeforeTheMetadataAreHarmless) {
  Magnet rig;
  rig.peer.Read();
  rig.peer.Send(protocol::Cancel{0, 0, 16384});
  rig.peer.Send(protocol::Suggest{5});
  rig.peer.Send(protocol::Unchoke{});
  rig.peer.Send(protocol::Interested{});
  rig.peer.Send(protocol::Port{6882});
  EXPECT_THAT(EventNames(rig.Events()),
              ElementsAre("PeerChokeChanged 0", "PeerInterestChanged 1",
                          "DhtPortArrived 6882"));
  EXPECT_THAT(rig.peer.Read(), IsEmpty());
  EXPECT_TRUE(rig.session->active());
  EXPECT_EQ(rig.session->RequestableHaveSet().size(), 0u);
}

// Regression: a session created while the torrent had no metadata, whose
// handshake completed after the torrent learned it, once wrote a have past
// the end of a bitfield it had not sized (heap overflow; run under ASan).
TEST(MagnetHavesTest, HandshakeAfterTheMetadataAppliesThePieceCount) {
  for (bool incoming : {false, true}) {
    for (bool one_chunk : {false, true}) {
      PeerSessionOptions o = DefaultOptions();
      o.incoming = incoming;
      Rig rig(FakeTorrent::Magnet(MakeInfo()), o);
      rig.Start();
      rig.torrent->LearnMetadata();
      std::string script = rig.peer.HandshakeWire() +
                           ScriptedPeer::Wire(protocol::Have{1});
      if (one_chunk) {
        rig.peer.SendBytes(script + ScriptedPeer::Wire(protocol::Have{4}));
      } else {
        rig.peer.SendBytes(script);
        EXPECT_EQ(rig.session->peer_have().size(), 4u);
        rig.peer.Send(protocol::Have{4});
      }
      EXPECT_THAT(EventNames(rig.Events()),
                  ElementsAre("PeerHandshakeDone", "PeerHaveArrived 1"));
      EXPECT_TRUE(rig.session->closed());
      EXPECT_EQ(rig.session->close_reason().code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(MagnetHavesTest, HandshakeAfterTheMetadataChecksTheBitfieldSize) {
  Rig rig(FakeTorrent::Magnet(MakeInfo()));
  rig.Start();
  rig.torrent->LearnMetadata();
  rig.peer.SendHandshake();
  rig.peer.Send(protocol::Bitfield{std::string(100, '\xff')});
  EXPECT_TRUE(rig.session->closed());
  EXPECT_EQ(rig.session->close_reason().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bt::client
